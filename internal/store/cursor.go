package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cursor returns a stored cursor, or "" when none is stored.
func Cursor(ctx context.Context, q Querier, shop, name string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM cursor WHERE shop = $1 AND name = $2`, shop, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: cursor %s: %w", name, err)
	}
	return v, nil
}

// SetCursor stores a cursor.
func SetCursor(ctx context.Context, q Querier, shop, name, value string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO cursor (shop, name, value, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (shop, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		shop, name, value, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("store: set cursor %s: %w", name, err)
	}
	return nil
}
