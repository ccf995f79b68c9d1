package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/order"
)

// Order states, as shown to operators.
const (
	OrderReceived   = "received"
	OrderHeld       = "held"
	OrderRejected   = "rejected"
	OrderInProgress = "in_progress"
	OrderFulfilled  = "fulfilled"
	OrderCancelled  = "cancelled"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// Order is a Shopify order as the hub knows it.
type Order struct {
	Shop             string     `json:"shop"`
	OrderID          string     `json:"order_id"`
	LegacyID         int64      `json:"legacy_id"`
	Name             string     `json:"name"`
	State            string     `json:"state"`
	StateReason      string     `json:"state_reason,omitempty"`
	ShopifyUpdatedAt *time.Time `json:"shopify_updated_at,omitempty"`
	CancelledAt      *time.Time `json:"cancelled_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// UpsertOrder records an order seen in Shopify. An existing order keeps its
// state; its Shopify update time only moves forward (a late, older webhook
// does not overwrite newer data). It reports whether the order was new.
func UpsertOrder(ctx context.Context, q Querier, o *Order) (created bool, err error) {
	now := time.Now().UTC()
	var name string
	err = q.QueryRowContext(ctx, `INSERT INTO shop_order (shop, order_id, legacy_id, name, state, shopify_updated_at, cancelled_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT DO NOTHING RETURNING name`,
		o.Shop, o.OrderID, o.LegacyID, o.Name, OrderReceived, utcPtr(o.ShopifyUpdatedAt), utcPtr(o.CancelledAt), now).Scan(&name)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: insert order: %w", err)
	}
	if o.ShopifyUpdatedAt != nil {
		_, err = q.ExecContext(ctx, `UPDATE shop_order SET shopify_updated_at = $1, updated_at = $2,
			cancelled_at = COALESCE(cancelled_at, $3), name = CASE WHEN name = '' THEN $4 ELSE name END
			WHERE shop = $5 AND order_id = $6 AND (shopify_updated_at IS NULL OR shopify_updated_at < $1)`,
			o.ShopifyUpdatedAt.UTC(), now, utcPtr(o.CancelledAt), o.Name, o.Shop, o.OrderID)
		if err != nil {
			return false, fmt.Errorf("store: update order: %w", err)
		}
	}
	return false, nil
}

// SetOrderState sets the operator-facing state and its reason.
func SetOrderState(ctx context.Context, q Querier, shop, orderID, state, reason string) error {
	_, err := q.ExecContext(ctx, `UPDATE shop_order SET state = $1, state_reason = $2, updated_at = $3 WHERE shop = $4 AND order_id = $5`,
		state, reason, time.Now().UTC(), shop, orderID)
	if err != nil {
		return fmt.Errorf("store: order state: %w", err)
	}
	return nil
}

const orderCols = `shop, order_id, legacy_id, name, state, state_reason, shopify_updated_at, cancelled_at, created_at, updated_at`

func scanOrder(sc interface{ Scan(...any) error }) (*Order, error) {
	var o Order
	var su, ca sql.NullTime
	if err := sc.Scan(&o.Shop, &o.OrderID, &o.LegacyID, &o.Name, &o.State, &o.StateReason, &su, &ca, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, err
	}
	if su.Valid {
		o.ShopifyUpdatedAt = &su.Time
	}
	if ca.Valid {
		o.CancelledAt = &ca.Time
	}
	return &o, nil
}

// GetOrder reads one order.
func GetOrder(ctx context.Context, q Querier, shop, orderID string) (*Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderCols+` FROM shop_order WHERE shop = $1 AND order_id = $2`, shop, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: order: %w", err)
	}
	return o, nil
}

// ListOrders returns the most recently updated orders of a shop ("" = all
// shops), optionally in one state.
func ListOrders(ctx context.Context, q Querier, shop, state string, limit int) ([]Order, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+orderCols+` FROM shop_order
		WHERE ($1 = '' OR shop = $1) AND ($2 = '' OR state = $2) ORDER BY updated_at DESC, order_id LIMIT $3`, shop, state, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// CountOrdersByState counts orders per state ("" = all shops).
func CountOrdersByState(ctx context.Context, q Querier, shop string) (map[string]int, error) {
	return countBy(ctx, q, `SELECT state, COUNT(*) FROM shop_order WHERE ($1 = '' OR shop = $1) GROUP BY state`, shop)
}

// WarehouseOrder is a stored warehouse order and its progress.
type WarehouseOrder struct {
	ID             int64
	Order          order.WarehouseOrder
	Progress       order.Progress
	WMSOrderID     string
	CreatedAt      time.Time
	SentAt         *time.Time
	AcknowledgedAt *time.Time
	ShippedAt      *time.Time
	FulfilledAt    *time.Time
	// CancelledAt is when the warehouse order was cancelled (it will not
	// ship); nil while it may.
	CancelledAt *time.Time
}

// InsertWarehouseOrder stores a new warehouse order. If one already exists
// for the fulfillment order (or the external reference), nothing is written
// and inserted is false.
func InsertWarehouseOrder(ctx context.Context, q Querier, w *order.WarehouseOrder, p order.Progress) (inserted bool, err error) {
	payload, err := json.Marshal(w)
	if err != nil {
		return false, err
	}
	now := time.Now().UTC()
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO warehouse_order (shop, external_ref, order_id, fulfillment_order_id, warehouse, progress, payload, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT DO NOTHING RETURNING id`,
		w.Shop, w.ExternalRef, w.OrderID, w.FulfillmentOrderID, w.Warehouse, p.String(), string(payload), now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: insert warehouse order: %w", err)
	}
	for _, l := range w.Lines {
		if _, err := q.ExecContext(ctx, `INSERT INTO warehouse_order_line (shop, external_ref, warehouse, line_no, sku, quantity, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, w.Shop, w.ExternalRef, w.Warehouse, l.LineNo, l.SKU, l.Quantity, now); err != nil {
			return false, fmt.Errorf("store: insert warehouse order line: %w", err)
		}
	}
	return true, nil
}

const woCols = `id, payload, progress, wms_order_id, created_at, sent_at, acknowledged_at, shipped_at, fulfilled_at, cancelled_at`

func scanWO(sc interface{ Scan(...any) error }) (*WarehouseOrder, error) {
	var w WarehouseOrder
	var payload, progress string
	var sent, ack, shipped, fulfilled, cancelled sql.NullTime
	if err := sc.Scan(&w.ID, &payload, &progress, &w.WMSOrderID, &w.CreatedAt, &sent, &ack, &shipped, &fulfilled, &cancelled); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(payload), &w.Order); err != nil {
		return nil, fmt.Errorf("store: warehouse order %d payload: %w", w.ID, err)
	}
	p, err := order.ParseProgress(progress)
	if err != nil {
		return nil, err
	}
	w.Progress = p
	for _, x := range []struct {
		n *sql.NullTime
		t **time.Time
	}{{&sent, &w.SentAt}, {&ack, &w.AcknowledgedAt}, {&shipped, &w.ShippedAt}, {&fulfilled, &w.FulfilledAt}, {&cancelled, &w.CancelledAt}} {
		if x.n.Valid {
			v := x.n.Time
			*x.t = &v
		}
	}
	return &w, nil
}

// GetWarehouseOrderByFO reads the warehouse order of a fulfillment order:
// the live one (not cancelled) when there is one, else the latest.
func GetWarehouseOrderByFO(ctx context.Context, q Querier, shop, foID string) (*WarehouseOrder, error) {
	w, err := scanWO(q.QueryRowContext(ctx, `SELECT `+woCols+` FROM warehouse_order WHERE shop = $1 AND fulfillment_order_id = $2
		ORDER BY CASE WHEN cancelled_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1`, shop, foID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return w, err
}

// GetWarehouseOrderByRef reads a warehouse order by external reference.
func GetWarehouseOrderByRef(ctx context.Context, q Querier, shop, ref string) (*WarehouseOrder, error) {
	w, err := scanWO(q.QueryRowContext(ctx, `SELECT `+woCols+` FROM warehouse_order WHERE shop = $1 AND external_ref = $2`, shop, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return w, err
}

// WarehouseOrdersOf lists an order's warehouse orders.
func WarehouseOrdersOf(ctx context.Context, q Querier, shop, orderID string) ([]WarehouseOrder, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+woCols+` FROM warehouse_order WHERE shop = $1 AND order_id = $2 ORDER BY id`, shop, orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WarehouseOrder
	for rows.Next() {
		w, err := scanWO(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// AdvanceWarehouseOrder moves a warehouse order's progress forward to p and
// stamps the matching time. A step at or behind the current progress changes
// nothing: it returns moved=false (a late or duplicated acknowledgement never
// moves a shipped order back).
func AdvanceWarehouseOrder(ctx context.Context, q Querier, shop, ref string, p order.Progress, at time.Time) (moved bool, err error) {
	var cur string
	if err := q.QueryRowContext(ctx, `SELECT progress FROM warehouse_order WHERE shop = $1 AND external_ref = $2`, shop, ref).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, ErrNotFound
		}
		return false, err
	}
	cp, err := order.ParseProgress(cur)
	if err != nil {
		return false, err
	}
	if _, moved := order.Advance(cp, p); !moved {
		return false, nil
	}
	stamp := map[order.Progress]string{
		order.ProgressSent:         "sent_at",
		order.ProgressAcknowledged: "acknowledged_at",
		order.ProgressShipped:      "shipped_at",
		order.ProgressFulfilled:    "fulfilled_at",
	}[p]
	// A warehouse that reports any step past acknowledgement has counted
	// the order even if its acknowledgement never came (or comes late):
	// acknowledged_at is when the stock engine stops counting it in flight.
	ack := ""
	if p > order.ProgressAcknowledged {
		ack = `, acknowledged_at = COALESCE(acknowledged_at, $3)`
	}
	if stamp != "" || ack != "" {
		set := ack
		if stamp != "" {
			set = `, ` + stamp + ` = $3` + ack
		}
		_, err = q.ExecContext(ctx, `UPDATE warehouse_order SET progress = $1, updated_at = $2`+set+` WHERE shop = $4 AND external_ref = $5`,
			p.String(), time.Now().UTC(), at.UTC(), shop, ref)
	} else {
		_, err = q.ExecContext(ctx, `UPDATE warehouse_order SET progress = $1, updated_at = $2 WHERE shop = $3 AND external_ref = $4`,
			p.String(), time.Now().UTC(), shop, ref)
	}
	if err != nil {
		return false, fmt.Errorf("store: advance %s: %w", ref, err)
	}
	return true, nil
}

// SetWMSOrderID records the warehouse's own id for a warehouse order.
func SetWMSOrderID(ctx context.Context, q Querier, shop, ref, wmsID string) error {
	_, err := q.ExecContext(ctx, `UPDATE warehouse_order SET wms_order_id = $1 WHERE shop = $2 AND external_ref = $3`, wmsID, shop, ref)
	return err
}

// ReservedSince sums, per SKU, the units of a warehouse's orders that were
// created after asOf and are not shipped yet: units a stock snapshot taken
// at asOf cannot have counted. With skus given, only those SKUs are summed.
func ReservedSince(ctx context.Context, q Querier, shop, warehouse string, asOf time.Time, skus ...string) (map[string]int, error) {
	args := []any{shop, warehouse, asOf.UTC()}
	filter := ""
	if len(skus) > 0 {
		ph := make([]string, len(skus))
		for i, s := range skus {
			args = append(args, s)
			ph[i] = fmt.Sprintf("$%d", i+4)
		}
		filter = " AND l.sku IN (" + strings.Join(ph, ",") + ")"
	}
	rows, err := q.QueryContext(ctx, `SELECT l.sku, SUM(l.quantity) FROM warehouse_order_line l
		JOIN warehouse_order w ON w.shop = l.shop AND w.external_ref = l.external_ref
		WHERE l.shop = $1 AND l.warehouse = $2 AND l.created_at > $3`+filter+`
		AND w.progress NOT IN ('shipped','fulfilled') GROUP BY l.sku`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reserved units: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sku string
		var n int
		if err := rows.Scan(&sku, &n); err != nil {
			return nil, err
		}
		out[sku] = n
	}
	return out, rows.Err()
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// ReplaceUnsentWarehouseOrder stores w for its fulfillment order, replacing
// a warehouse order of that fulfillment order that was never sent to a
// warehouse (a routing decision that did not reach Shopify and is taken
// again). A warehouse order already sent is never replaced: replaced is
// false and nothing changes.
func ReplaceUnsentWarehouseOrder(ctx context.Context, q Querier, w *order.WarehouseOrder, p order.Progress) (replaced bool, err error) {
	cur, err := GetWarehouseOrderByFO(ctx, q, w.Shop, w.FulfillmentOrderID)
	if errors.Is(err, ErrNotFound) {
		return InsertWarehouseOrder(ctx, q, w, p)
	}
	if err != nil {
		return false, err
	}
	if cur.Progress >= order.ProgressSent {
		return false, nil
	}
	for _, stmt := range []string{`DELETE FROM warehouse_order_line WHERE shop = $1 AND external_ref = $2`,
		`DELETE FROM warehouse_order WHERE shop = $1 AND external_ref = $2`} {
		if _, err := q.ExecContext(ctx, stmt, w.Shop, cur.Order.ExternalRef); err != nil {
			return false, fmt.Errorf("store: replace unsent warehouse order: %w", err)
		}
	}
	return InsertWarehouseOrder(ctx, q, w, p)
}

// AmendWarehouseOrder replaces a transmitted warehouse order's content (its
// payload and lines) after the warehouse accepted an amendment: from then
// on the hub compares shipments, in-flight stock and later edits with what
// the warehouse now has. Progress and times are kept.
func AmendWarehouseOrder(ctx context.Context, q Querier, w *order.WarehouseOrder) error {
	payload, err := json.Marshal(w)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	res, err := q.ExecContext(ctx, `UPDATE warehouse_order SET payload = $1, updated_at = $2 WHERE shop = $3 AND external_ref = $4`,
		string(payload), now, w.Shop, w.ExternalRef)
	if err != nil {
		return fmt.Errorf("store: amend %s: %w", w.ExternalRef, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM warehouse_order_line WHERE shop = $1 AND external_ref = $2`, w.Shop, w.ExternalRef); err != nil {
		return fmt.Errorf("store: amend %s lines: %w", w.ExternalRef, err)
	}
	for _, l := range w.Lines {
		if _, err := q.ExecContext(ctx, `INSERT INTO warehouse_order_line (shop, external_ref, warehouse, line_no, sku, quantity, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, w.Shop, w.ExternalRef, w.Warehouse, l.LineNo, l.SKU, l.Quantity, now); err != nil {
			return fmt.Errorf("store: amend %s lines: %w", w.ExternalRef, err)
		}
	}
	return nil
}
