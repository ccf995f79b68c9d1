package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Return states (shop_return.state).
const (
	// ReturnExpected: recorded from Shopify, not yet announced.
	ReturnExpected = "expected"
	// ReturnNotified: announced to the warehouse(s) that shipped it.
	ReturnNotified = "notified"
	// ReturnUnsupported: a warehouse that shipped it cannot be told about
	// returns (its connector lacks the capability); an incident is open.
	ReturnUnsupported = "unsupported"
	// ReturnNotOpen: no longer open in Shopify (cancelled, declined,
	// closed) when the hub came to announce it; nothing was announced.
	ReturnNotOpen = "not_open"
	// ReturnClosed: closed in Shopify (the refund decision is made); its
	// incidents are closed.
	ReturnClosed = "closed"
)

// Return is a Shopify return the hub follows. ReturnID is the Shopify
// Return GID.
type Return struct {
	Shop      string    `json:"shop"`
	ReturnID  string    `json:"return_id"`
	OrderID   string    `json:"order_id"`
	State     string    `json:"state"`
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// InsertReturn records a return in state ReturnExpected, once: a return
// already recorded returns inserted=false and changes nothing.
func InsertReturn(ctx context.Context, q Querier, shop, returnID, orderID string, at time.Time) (inserted bool, err error) {
	res, err := q.ExecContext(ctx, `INSERT INTO shop_return (shop, return_id, order_id, state, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$5) ON CONFLICT DO NOTHING`, shop, returnID, orderID, ReturnExpected, at.UTC())
	if err != nil {
		return false, fmt.Errorf("store: insert return %s: %w", returnID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// GetReturn reads a return.
func GetReturn(ctx context.Context, q Querier, shop, returnID string) (*Return, error) {
	var r Return
	err := q.QueryRowContext(ctx, `SELECT shop, return_id, order_id, state, detail, created_at, updated_at FROM shop_return
		WHERE shop = $1 AND return_id = $2`, shop, returnID).Scan(&r.Shop, &r.ReturnID, &r.OrderID, &r.State, &r.Detail, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: return %s: %w", returnID, err)
	}
	return &r, nil
}

// SetReturnState records a return's state and why.
func SetReturnState(ctx context.Context, q Querier, shop, returnID, state, detail string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE shop_return SET state = $1, detail = $2, updated_at = $3 WHERE shop = $4 AND return_id = $5`,
		state, detail, at.UTC(), shop, returnID)
	if err != nil {
		return fmt.Errorf("store: return %s state: %w", returnID, err)
	}
	return nil
}

// ReturnReceiptLine is units of one SKU received back in one condition
// ("restockable" or "damaged"), in SKUs and Shopify units.
type ReturnReceiptLine struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	Condition string `json:"condition"`
}

// ReturnReceipt is what a warehouse reported receiving for a return (one
// return_received event).
type ReturnReceipt struct {
	Shop       string              `json:"shop"`
	Warehouse  string              `json:"warehouse"`
	EventID    string              `json:"event_id"`
	ReturnID   string              `json:"return_id"`
	OrderID    string              `json:"order_id"`
	Lines      []ReturnReceiptLine `json:"lines"`
	ReceivedAt time.Time           `json:"received_at"`
	// AppliedAt is when the hub disposed the units in Shopify and recorded
	// the receipt (nil until then).
	AppliedAt *time.Time `json:"applied_at,omitempty"`
}

// InsertReturnReceipt stores a receipt once per warehouse event.
func InsertReturnReceipt(ctx context.Context, q Querier, r ReturnReceipt) (inserted bool, err error) {
	lines, err := json.Marshal(r.Lines)
	if err != nil {
		return false, fmt.Errorf("store: return receipt lines: %w", err)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO return_receipt (shop, warehouse, event_id, return_id, order_id, lines, received_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`, r.Shop, r.Warehouse, r.EventID, r.ReturnID, r.OrderID, string(lines), r.ReceivedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("store: insert return receipt %s: %w", r.EventID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

const receiptCols = `shop, warehouse, event_id, return_id, order_id, lines, received_at, applied_at`

func scanReceipt(sc interface{ Scan(...any) error }) (*ReturnReceipt, error) {
	var r ReturnReceipt
	var lines string
	var applied sql.NullTime
	if err := sc.Scan(&r.Shop, &r.Warehouse, &r.EventID, &r.ReturnID, &r.OrderID, &lines, &r.ReceivedAt, &applied); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(lines), &r.Lines); err != nil {
		return nil, fmt.Errorf("store: return receipt %s lines: %w", r.EventID, err)
	}
	if applied.Valid {
		t := applied.Time
		r.AppliedAt = &t
	}
	return &r, nil
}

// GetReturnReceipt reads one receipt.
func GetReturnReceipt(ctx context.Context, q Querier, shop, warehouse, eventID string) (*ReturnReceipt, error) {
	r, err := scanReceipt(q.QueryRowContext(ctx, `SELECT `+receiptCols+` FROM return_receipt WHERE shop = $1 AND warehouse = $2 AND event_id = $3`,
		shop, warehouse, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// ReturnReceipts lists a return's receipts, oldest first.
func ReturnReceipts(ctx context.Context, q Querier, shop, returnID string) ([]ReturnReceipt, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+receiptCols+` FROM return_receipt WHERE shop = $1 AND return_id = $2 ORDER BY received_at, event_id`,
		shop, returnID)
	if err != nil {
		return nil, fmt.Errorf("store: return receipts: %w", err)
	}
	defer rows.Close()
	var out []ReturnReceipt
	for rows.Next() {
		r, err := scanReceipt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// SetReturnReceiptApplied marks a receipt applied; it reports false when
// it already was (a replay).
func SetReturnReceiptApplied(ctx context.Context, q Querier, shop, warehouse, eventID string, at time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE return_receipt SET applied_at = $1 WHERE shop = $2 AND warehouse = $3 AND event_id = $4 AND applied_at IS NULL`,
		at.UTC(), shop, warehouse, eventID)
	if err != nil {
		return false, fmt.Errorf("store: return receipt %s applied: %w", eventID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ExpectShopifyRestock tells the stock engine that the hub itself raised
// Shopify's available for sku at location by units (a RESTOCKED return
// disposition), so that the change is not taken for a manual edit: the
// value the engine last wrote or agreed with moves by the same units. A
// level the engine never wrote is left alone. It reports whether a level
// was adjusted.
func ExpectShopifyRestock(ctx context.Context, q Querier, shop, location, sku string, units int) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE location_level SET pushed_value = pushed_value + $1
		WHERE shop = $2 AND location_id = $3 AND sku = $4 AND pushed_value IS NOT NULL`, units, shop, location, sku)
	if err != nil {
		return false, fmt.Errorf("store: expect restock of %s at %s: %w", sku, location, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
