package store

import (
	"context"
	"fmt"
	"time"
)

// Action is something an operator did, with who and why.
type Action struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// RecordAction stores an operator action.
func RecordAction(ctx context.Context, q Querier, a Action) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO operator_action (at, actor, action, target, reason) VALUES ($1,$2,$3,$4,$5)`,
		a.At.UTC(), a.Actor, a.Action, a.Target, a.Reason)
	if err != nil {
		return fmt.Errorf("store: record action: %w", err)
	}
	return nil
}

// Actions lists the actions on a target ("" = all), newest first.
func Actions(ctx context.Context, q Querier, target string, limit int) ([]Action, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor, action, target, reason FROM operator_action
		WHERE ($1 = '' OR target = $1) ORDER BY id DESC LIMIT $2`, target, limit)
	if err != nil {
		return nil, fmt.Errorf("store: actions: %w", err)
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		if err := rows.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.Target, &a.Reason); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
