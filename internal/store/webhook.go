package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Webhook statuses.
const (
	WebhookPending     = "pending"
	WebhookProcessed   = "processed"
	WebhookQuarantined = "quarantined"
	WebhookIgnored     = "ignored"
)

// WebhookEvent is one stored webhook delivery (the inbox).
type WebhookEvent struct {
	ID          int64
	Shop        string
	Topic       string
	WebhookID   string // X-Shopify-Webhook-Id: one delivery
	EventID     string // X-Shopify-Event-Id: one merchant action
	APIVersion  string
	TriggeredAt string
	ReceivedAt  time.Time
	Body        []byte
	Status      string
	Error       string
}

// InsertWebhook stores e unless a delivery with the same webhook id, or the
// same event id for the topic, is already stored. It returns the new id, or
// 0 and inserted=false for a duplicate.
func InsertWebhook(ctx context.Context, q Querier, e *WebhookEvent) (id int64, inserted bool, err error) {
	err = q.QueryRowContext(ctx, `INSERT INTO webhook_event
		(shop, topic, webhook_id, event_id, api_version, triggered_at, received_at, body, status, error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT DO NOTHING RETURNING id`,
		e.Shop, e.Topic, e.WebhookID, e.EventID, e.APIVersion, e.TriggeredAt, e.ReceivedAt.UTC(), e.Body, e.Status, e.Error).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: insert webhook: %w", err)
	}
	return id, true, nil
}

// ClaimPendingWebhooks returns up to limit pending webhooks of a shop,
// oldest first, locking them for the transaction q (on PostgreSQL rows
// locked by another drain are skipped; SQLite serializes write
// transactions).
func ClaimPendingWebhooks(ctx context.Context, q Querier, d Dialect, shop string, limit int) ([]WebhookEvent, error) {
	lock := ""
	if d == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := q.QueryContext(ctx, `SELECT id, shop, topic, webhook_id, event_id, api_version, triggered_at, received_at, body, status, error
		FROM webhook_event WHERE shop = $1 AND status = $2 ORDER BY id LIMIT $3`+lock, shop, WebhookPending, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim webhooks: %w", err)
	}
	defer rows.Close()
	var out []WebhookEvent
	for rows.Next() {
		var e WebhookEvent
		if err := rows.Scan(&e.ID, &e.Shop, &e.Topic, &e.WebhookID, &e.EventID, &e.APIVersion, &e.TriggeredAt, &e.ReceivedAt, &e.Body, &e.Status, &e.Error); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetWebhookStatus records the outcome of processing a webhook.
func SetWebhookStatus(ctx context.Context, q Querier, id int64, status, errText string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE webhook_event SET status = $1, error = $2, processed_at = $3 WHERE id = $4`,
		status, errText, at.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: webhook status: %w", err)
	}
	return nil
}

// GetWebhook reads one stored webhook.
func GetWebhook(ctx context.Context, q Querier, id int64) (*WebhookEvent, error) {
	var e WebhookEvent
	err := q.QueryRowContext(ctx, `SELECT id, shop, topic, webhook_id, event_id, api_version, triggered_at, received_at, body, status, error
		FROM webhook_event WHERE id = $1`, id).
		Scan(&e.ID, &e.Shop, &e.Topic, &e.WebhookID, &e.EventID, &e.APIVersion, &e.TriggeredAt, &e.ReceivedAt, &e.Body, &e.Status, &e.Error)
	if err != nil {
		return nil, fmt.Errorf("store: webhook %d: %w", id, err)
	}
	return &e, nil
}

// countBy runs a "SELECT key, COUNT(*) … GROUP BY key" query.
func countBy(ctx context.Context, q Querier, query string, args ...any) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// PruneEvents deletes processed and ignored webhook deliveries, and
// warehouse events, received before cutoff. Quarantined deliveries are kept
// until an operator deals with them. It returns how many rows it deleted.
func PruneEvents(ctx context.Context, q Querier, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM webhook_event WHERE status IN ($1, $2) AND received_at < $3`,
		WebhookProcessed, WebhookIgnored, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: prune webhooks: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = q.ExecContext(ctx, `DELETE FROM wms_event WHERE received_at < $1`, cutoff.UTC())
	if err != nil {
		return n, fmt.Errorf("store: prune warehouse events: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}
