package store

import (
	"context"
	"fmt"
	"time"
)

// Timeline sources.
const (
	SourceShopify  = "shopify"
	SourceHub      = "hub"
	SourceOperator = "operator"
)

// SourceWMS is the timeline source for a warehouse.
func SourceWMS(warehouse string) string { return "wms:" + warehouse }

// Entry is one line of an entity's timeline: what happened, when, from which
// source, and why.
type Entry struct {
	ID      int64     `json:"id"`
	Shop    string    `json:"shop"`
	Subject string    `json:"subject"`
	At      time.Time `json:"at"`
	Source  string    `json:"source"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// WebhookSubject is the timeline subject of a stored webhook.
func WebhookSubject(id int64) string { return fmt.Sprintf("webhook:%d", id) }

// AddTimeline appends an entry.
func AddTimeline(ctx context.Context, q Querier, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO timeline (shop, subject, at, source, kind, message) VALUES ($1,$2,$3,$4,$5,$6)`,
		e.Shop, e.Subject, e.At.UTC(), e.Source, e.Kind, e.Message)
	if err != nil {
		return fmt.Errorf("store: timeline: %w", err)
	}
	return nil
}

// Timeline returns a subject's entries in order.
func Timeline(ctx context.Context, q Querier, shop, subject string) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, shop, subject, at, source, kind, message FROM timeline
		WHERE shop = $1 AND subject = $2 ORDER BY id`, shop, subject)
	if err != nil {
		return nil, fmt.Errorf("store: timeline: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.Shop, &e.Subject, &e.At, &e.Source, &e.Kind, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
