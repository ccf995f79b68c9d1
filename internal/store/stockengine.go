package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// StockMovement is a change of a warehouse's stock of one SKU reported
// between snapshots (a receipt, an adjustment).
type StockMovement struct {
	Shop       string    `json:"shop"`
	Warehouse  string    `json:"warehouse"`
	MovementID string    `json:"movement_id"`
	SKU        string    `json:"sku"`
	Delta      int       `json:"delta"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// InsertStockMovement stores a movement once; a duplicate (same id from the
// same warehouse) returns inserted=false.
func InsertStockMovement(ctx context.Context, q Querier, m StockMovement) (inserted bool, err error) {
	res, err := q.ExecContext(ctx, `INSERT INTO stock_movement (shop, warehouse, movement_id, sku, delta, reason, at, received_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
		m.Shop, m.Warehouse, m.MovementID, m.SKU, m.Delta, m.Reason, m.At.UTC(), time.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("store: stock movement: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MovementsAfterSnapshot sums, per SKU, a warehouse's movements recorded
// after the SKU's snapshot time: what the snapshot cannot have counted.
func MovementsAfterSnapshot(ctx context.Context, q Querier, shop, warehouse string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.sku, SUM(m.delta) FROM stock_movement m
		LEFT JOIN stock_level l ON l.shop = m.shop AND l.warehouse = m.warehouse AND l.sku = m.sku
		WHERE m.shop = $1 AND m.warehouse = $2 AND (l.as_of IS NULL OR m.at > l.as_of)
		GROUP BY m.sku`, shop, warehouse)
	if err != nil {
		return nil, fmt.Errorf("store: movements: %w", err)
	}
	return scanSums(rows)
}

// InFlightUnits sums, per SKU, the units of a warehouse's orders that its
// stock figures cannot have counted yet: orders not cancelled whose
// acknowledgement (or, when none came, shipment) the warehouse had not
// reported at the SKU's snapshot time.
func InFlightUnits(ctx context.Context, q Querier, shop, warehouse string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.sku, SUM(l.quantity) FROM warehouse_order_line l
		JOIN warehouse_order w ON w.shop = l.shop AND w.external_ref = l.external_ref
		LEFT JOIN stock_level s ON s.shop = l.shop AND s.warehouse = l.warehouse AND s.sku = l.sku
		WHERE l.shop = $1 AND l.warehouse = $2 AND w.cancelled_at IS NULL
		AND (s.as_of IS NULL OR COALESCE(w.acknowledged_at, w.shipped_at) IS NULL OR COALESCE(w.acknowledged_at, w.shipped_at) > s.as_of)
		GROUP BY l.sku`, shop, warehouse)
	if err != nil {
		return nil, fmt.Errorf("store: in-flight units: %w", err)
	}
	return scanSums(rows)
}

// InFlightOrder is one warehouse order counted as in flight for a SKU.
type InFlightOrder struct {
	ExternalRef    string     `json:"external_ref"`
	Quantity       int        `json:"quantity"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// InFlightOrders lists the orders InFlightUnits counts for one SKU.
func InFlightOrders(ctx context.Context, q Querier, shop, warehouse, sku string) ([]InFlightOrder, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.external_ref, l.quantity, l.created_at, w.acknowledged_at, w.shipped_at FROM warehouse_order_line l
		JOIN warehouse_order w ON w.shop = l.shop AND w.external_ref = l.external_ref
		LEFT JOIN stock_level s ON s.shop = l.shop AND s.warehouse = l.warehouse AND s.sku = l.sku
		WHERE l.shop = $1 AND l.warehouse = $2 AND l.sku = $3 AND w.cancelled_at IS NULL
		AND (s.as_of IS NULL OR COALESCE(w.acknowledged_at, w.shipped_at) IS NULL OR COALESCE(w.acknowledged_at, w.shipped_at) > s.as_of)
		ORDER BY l.external_ref, l.line_no`, shop, warehouse, sku)
	if err != nil {
		return nil, fmt.Errorf("store: in-flight orders: %w", err)
	}
	defer rows.Close()
	var out []InFlightOrder
	for rows.Next() {
		var ref string
		var qty int
		var created time.Time
		var ack, shipped sql.NullTime
		if err := rows.Scan(&ref, &qty, &created, &ack, &shipped); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].ExternalRef == ref {
			out[n-1].Quantity += qty
			continue
		}
		o := InFlightOrder{ExternalRef: ref, Quantity: qty, CreatedAt: created.UTC()}
		if ack.Valid {
			t := ack.Time.UTC()
			o.AcknowledgedAt = &t
		} else if shipped.Valid {
			t := shipped.Time.UTC()
			o.AcknowledgedAt = &t
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func scanSums(rows *sql.Rows) (map[string]int, error) {
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

// OrderedUnits sums, per SKU, the units of a warehouse's orders that are
// not cancelled: Shopify moved them from "available" to "committed" when
// they were placed, so a change of this sum explains a change of Shopify's
// figure that the hub did not write.
func OrderedUnits(ctx context.Context, q Querier, shop, warehouse string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.sku, SUM(l.quantity) FROM warehouse_order_line l
		JOIN warehouse_order w ON w.shop = l.shop AND w.external_ref = l.external_ref
		WHERE l.shop = $1 AND l.warehouse = $2 AND w.cancelled_at IS NULL GROUP BY l.sku`, shop, warehouse)
	if err != nil {
		return nil, fmt.Errorf("store: ordered units: %w", err)
	}
	return scanSums(rows)
}

// SetWarehouseOrderCancelled records that a warehouse order will not ship:
// its units stop counting as in flight.
func SetWarehouseOrderCancelled(ctx context.Context, q Querier, shop, ref string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE warehouse_order SET cancelled_at = COALESCE(cancelled_at, $1), updated_at = $2 WHERE shop = $3 AND external_ref = $4`,
		at.UTC(), time.Now().UTC(), shop, ref)
	if err != nil {
		return fmt.Errorf("store: cancel %s: %w", ref, err)
	}
	return nil
}

// Shopify value sources of a LocationLevel.
const (
	SourcePush    = "push"
	SourceRead    = "read"
	SourceWebhook = "webhook"
)

// LocationLevel is what the hub knows of one SKU at one Shopify location:
// the formula's figure and what Shopify holds.
type LocationLevel struct {
	Shop             string     `json:"shop"`
	LocationID       string     `json:"location_id"`
	SKU              string     `json:"sku"`
	InventoryItemID  string     `json:"inventory_item_id"`
	Target           *int       `json:"target,omitempty"`
	ShopifyAvailable *int       `json:"shopify_available,omitempty"`
	ShopifySeenAt    *time.Time `json:"shopify_seen_at,omitempty"`
	ShopifySource    string     `json:"shopify_source,omitempty"`
	PushedValue      *int       `json:"pushed_value,omitempty"`
	AgreedOrders     *int       `json:"agreed_orders,omitempty"`
	PushedAt         *time.Time `json:"pushed_at,omitempty"`
	PushedKey        string     `json:"pushed_key,omitempty"`
	FlaggedTarget    *int       `json:"flagged_target,omitempty"`
}

const locationLevelCols = `shop, location_id, sku, inventory_item_id, target, shopify_available, shopify_seen_at, shopify_source, pushed_value, agreed_orders, pushed_at, pushed_key, flagged_target`

func scanLocationLevel(sc interface{ Scan(...any) error }) (LocationLevel, error) {
	var l LocationLevel
	var target, avail, pushed, agreed, flagged sql.NullInt64
	var seen, pushedAt sql.NullTime
	if err := sc.Scan(&l.Shop, &l.LocationID, &l.SKU, &l.InventoryItemID, &target, &avail, &seen, &l.ShopifySource, &pushed, &agreed, &pushedAt, &l.PushedKey, &flagged); err != nil {
		return l, err
	}
	ip := func(n sql.NullInt64) *int {
		if !n.Valid {
			return nil
		}
		v := int(n.Int64)
		return &v
	}
	tp := func(n sql.NullTime) *time.Time {
		if !n.Valid {
			return nil
		}
		t := n.Time.UTC()
		return &t
	}
	l.Target, l.ShopifyAvailable, l.PushedValue, l.AgreedOrders, l.FlaggedTarget = ip(target), ip(avail), ip(pushed), ip(agreed), ip(flagged)
	l.ShopifySeenAt, l.PushedAt = tp(seen), tp(pushedAt)
	return l, nil
}

// LocationLevels lists the levels of one location ("" = every location of
// the shop), keyed by location then SKU.
func LocationLevels(ctx context.Context, q Querier, shop, location string) (map[string]map[string]LocationLevel, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+locationLevelCols+` FROM location_level WHERE shop = $1 AND ($2 = '' OR location_id = $2)`, shop, location)
	if err != nil {
		return nil, fmt.Errorf("store: location levels: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]LocationLevel{}
	for rows.Next() {
		l, err := scanLocationLevel(rows)
		if err != nil {
			return nil, err
		}
		if out[l.LocationID] == nil {
			out[l.LocationID] = map[string]LocationLevel{}
		}
		out[l.LocationID][l.SKU] = l
	}
	return out, rows.Err()
}

// GetLocationLevel returns one level, or ErrNotFound.
func GetLocationLevel(ctx context.Context, q Querier, shop, location, sku string) (LocationLevel, error) {
	l, err := scanLocationLevel(q.QueryRowContext(ctx, `SELECT `+locationLevelCols+` FROM location_level WHERE shop = $1 AND location_id = $2 AND sku = $3`, shop, location, sku))
	if err == sql.ErrNoRows {
		return l, ErrNotFound
	}
	return l, err
}

// ObserveShopifyLevel records what Shopify holds for a level, as learned at
// seen from source (a read or a webhook). A report older than the one
// already recorded is ignored; Shopify's timestamps have second precision,
// so a report of the same second is taken. It reports whether the value was
// recorded.
func ObserveShopifyLevel(ctx context.Context, q Querier, shop, location, sku, item string, v int, seen time.Time, source string) (bool, error) {
	seen = seen.UTC().Truncate(time.Second)
	res, err := q.ExecContext(ctx, `INSERT INTO location_level (shop, location_id, sku, inventory_item_id, shopify_available, shopify_seen_at, shopify_source)
		VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (shop, location_id, sku) DO UPDATE SET shopify_available = excluded.shopify_available,
			shopify_seen_at = excluded.shopify_seen_at, shopify_source = excluded.shopify_source,
			inventory_item_id = CASE WHEN excluded.inventory_item_id = '' THEN location_level.inventory_item_id ELSE excluded.inventory_item_id END
		WHERE location_level.shopify_seen_at IS NULL OR location_level.shopify_seen_at <= excluded.shopify_seen_at`,
		shop, location, sku, item, v, seen, source)
	if err != nil {
		return false, fmt.Errorf("store: observe level: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RecordPush records a value the hub wrote to Shopify for a level, with the
// idempotency key of the call and the units ordered at the location then.
func RecordPush(ctx context.Context, q Querier, shop, location, sku, item string, v, orders int, key string, at time.Time) error {
	at = at.UTC()
	_, err := q.ExecContext(ctx, `INSERT INTO location_level (shop, location_id, sku, inventory_item_id, target, shopify_available, shopify_seen_at, shopify_source, pushed_value, agreed_orders, pushed_at, pushed_key)
		VALUES ($1,$2,$3,$4,$5,$5,$6,'push',$5,$8,$6,$7)
		ON CONFLICT (shop, location_id, sku) DO UPDATE SET inventory_item_id = excluded.inventory_item_id, target = excluded.target,
			shopify_available = excluded.shopify_available, shopify_seen_at = excluded.shopify_seen_at, shopify_source = 'push',
			pushed_value = excluded.pushed_value, agreed_orders = excluded.agreed_orders, pushed_at = excluded.pushed_at, pushed_key = excluded.pushed_key, flagged_target = NULL`,
		shop, location, sku, item, v, at, key, orders)
	if err != nil {
		return fmt.Errorf("store: record push: %w", err)
	}
	return nil
}

// SetLevelTarget records the formula's figure for a level; flagged is the
// target while a manual edit is flagged and left in place (nil clears the
// flag). When agreed is set, Shopify was seen holding the target: it
// becomes the level's agreed value, with the units ordered at the location
// then (orders).
func SetLevelTarget(ctx context.Context, q Querier, shop, location, sku, item string, target int, flagged *int, agreed bool, orders int) error {
	// agreedValue and agreedOrders are NULL unless Shopify agrees; the
	// update keeps the stored ones then.
	var agreedValue, agreedOrders any
	if agreed {
		agreedValue, agreedOrders = target, orders
	}
	_, err := q.ExecContext(ctx, `INSERT INTO location_level (shop, location_id, sku, inventory_item_id, target, flagged_target, pushed_value, agreed_orders)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (shop, location_id, sku) DO UPDATE SET target = excluded.target, flagged_target = excluded.flagged_target,
			pushed_value = COALESCE(excluded.pushed_value, location_level.pushed_value),
			agreed_orders = COALESCE(excluded.agreed_orders, location_level.agreed_orders),
			inventory_item_id = CASE WHEN excluded.inventory_item_id = '' THEN location_level.inventory_item_id ELSE excluded.inventory_item_id END`,
		shop, location, sku, item, target, flagged, agreedValue, agreedOrders)
	if err != nil {
		return fmt.Errorf("store: level target: %w", err)
	}
	return nil
}

// LedgerEntry is one line of a level's stock ledger: a decision and why.
type LedgerEntry struct {
	ID         int64     `json:"id"`
	Shop       string    `json:"shop"`
	LocationID string    `json:"location_id"`
	SKU        string    `json:"sku"`
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Message    string    `json:"message"`
}

// AddLedger appends a ledger entry.
func AddLedger(ctx context.Context, q Querier, e LedgerEntry) error {
	_, err := q.ExecContext(ctx, `INSERT INTO stock_ledger (shop, location_id, sku, at, kind, message) VALUES ($1,$2,$3,$4,$5,$6)`,
		e.Shop, e.LocationID, e.SKU, e.At.UTC(), e.Kind, e.Message)
	if err != nil {
		return fmt.Errorf("store: stock ledger: %w", err)
	}
	return nil
}

// Ledger returns a level's latest entries, newest first (kind "" = all).
func Ledger(ctx context.Context, q Querier, shop, location, sku, kind string, limit int) ([]LedgerEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, shop, location_id, sku, at, kind, message FROM stock_ledger
		WHERE shop = $1 AND ($2 = '' OR location_id = $2) AND ($3 = '' OR sku = $3) AND ($4 = '' OR kind = $4) ORDER BY id DESC LIMIT $5`,
		shop, location, sku, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("store: ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		var e LedgerEntry
		if err := rows.Scan(&e.ID, &e.Shop, &e.LocationID, &e.SKU, &e.At, &e.Kind, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TouchStockAsOf moves the snapshot time of a warehouse's levels older than
// asOf to asOf: a full snapshot confirms every figure it does not change
// (written one by one with UpsertStock) in one statement.
func TouchStockAsOf(ctx context.Context, q Querier, shop, warehouse string, asOf time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE stock_level SET as_of = $1 WHERE shop = $2 AND warehouse = $3 AND as_of < $1`, asOf.UTC(), shop, warehouse)
	if err != nil {
		return fmt.Errorf("store: touch stock: %w", err)
	}
	return nil
}

// parseAggTime reads a time that an aggregate (MIN, MAX) returned: text on
// SQLite, a time scanned into a string on PostgreSQL.
func parseAggTime(s sql.NullString) (time.Time, bool) {
	if !s.Valid || s.String == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s.String); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// WaitingWMSEvents returns the bodies of a warehouse's events whose outcome
// starts with "waiting" (e.g. a carrier event that arrived before its
// shipment), oldest first.
func WaitingWMSEvents(ctx context.Context, q Querier, shop, warehouse string) (map[string][]byte, []string, error) {
	rows, err := q.QueryContext(ctx, `SELECT event_id, body FROM wms_event WHERE shop = $1 AND warehouse = $2 AND outcome LIKE 'waiting%' ORDER BY received_at, event_id`, shop, warehouse)
	if err != nil {
		return nil, nil, fmt.Errorf("store: waiting wms events: %w", err)
	}
	defer rows.Close()
	bodies := map[string][]byte{}
	var order []string
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, nil, err
		}
		bodies[id] = []byte(body)
		order = append(order, id)
	}
	return bodies, order, rows.Err()
}
