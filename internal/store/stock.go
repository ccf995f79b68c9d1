package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StockLevel is a warehouse's stock of one SKU and what Shopify was last
// known to hold for it.
type StockLevel struct {
	Shop             string     `json:"shop"`
	Warehouse        string     `json:"warehouse"`
	SKU              string     `json:"sku"`
	OnHand           int        `json:"on_hand"`
	Available        int        `json:"available"`
	AsOf             time.Time  `json:"as_of"`
	ShopifyAvailable *int       `json:"shopify_available,omitempty"`
	PushedAt         *time.Time `json:"pushed_at,omitempty"`
}

// UpsertStock records a snapshot figure. An older snapshot never overwrites
// a newer one; it reports whether the row changed.
func UpsertStock(ctx context.Context, q Querier, l StockLevel) (changed bool, err error) {
	res, err := q.ExecContext(ctx, `INSERT INTO stock_level (shop, warehouse, sku, on_hand, available, as_of)
		VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (shop, warehouse, sku) DO UPDATE SET on_hand = excluded.on_hand, available = excluded.available, as_of = excluded.as_of
		WHERE stock_level.as_of <= excluded.as_of AND (stock_level.on_hand <> excluded.on_hand OR stock_level.available <> excluded.available OR stock_level.as_of <> excluded.as_of)`,
		l.Shop, l.Warehouse, l.SKU, l.OnHand, l.Available, l.AsOf.UTC())
	if err != nil {
		return false, fmt.Errorf("store: stock: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// StockLevels lists a warehouse's stock levels ("" warehouse = all of the
// shop's; "" shop = every shop).
func StockLevels(ctx context.Context, q Querier, shop, warehouse string) ([]StockLevel, error) {
	rows, err := q.QueryContext(ctx, `SELECT shop, warehouse, sku, on_hand, available, as_of, shopify_available, pushed_at FROM stock_level
		WHERE ($1 = '' OR shop = $1) AND ($2 = '' OR warehouse = $2) ORDER BY shop, warehouse, sku`, shop, warehouse)
	if err != nil {
		return nil, fmt.Errorf("store: stock levels: %w", err)
	}
	defer rows.Close()
	var out []StockLevel
	for rows.Next() {
		var l StockLevel
		var sa sql.NullInt64
		var pa sql.NullTime
		if err := rows.Scan(&l.Shop, &l.Warehouse, &l.SKU, &l.OnHand, &l.Available, &l.AsOf, &sa, &pa); err != nil {
			return nil, err
		}
		if sa.Valid {
			v := int(sa.Int64)
			l.ShopifyAvailable = &v
		}
		if pa.Valid {
			l.PushedAt = &pa.Time
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SetShopifyAvailable records what Shopify holds for a level, as learned at
// seen (a read, a push — pushed true —, or a webhook's updated_at). A report
// older than the one already recorded is ignored; Shopify's timestamps have
// second precision, so a report of the same second is taken. It reports
// whether the value was recorded.
func SetShopifyAvailable(ctx context.Context, q Querier, shop, warehouse, sku string, v int, seen time.Time, pushed bool) (bool, error) {
	seen = seen.UTC().Truncate(time.Second)
	pushedAt := any(nil)
	if pushed {
		pushedAt = time.Now().UTC()
	}
	res, err := q.ExecContext(ctx, `UPDATE stock_level SET shopify_available = $1, shopify_seen_at = $2, pushed_at = COALESCE($3, pushed_at)
		WHERE shop = $4 AND warehouse = $5 AND sku = $6 AND (shopify_seen_at IS NULL OR shopify_seen_at <= $2)`,
		v, seen, pushedAt, shop, warehouse, sku)
	if err != nil {
		return false, fmt.Errorf("store: shopify available: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SKUOfInventoryItem returns the SKU mapped to a Shopify inventory item, or
// "" when none is.
func SKUOfInventoryItem(ctx context.Context, q Querier, shop, item string) (string, error) {
	var sku string
	err := q.QueryRowContext(ctx, `SELECT sku FROM sku_mapping WHERE shop = $1 AND inventory_item_id = $2`, shop, item).Scan(&sku)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return sku, err
}

// SKUMapping links a hub SKU to its Shopify variant and inventory item.
type SKUMapping struct {
	Shop            string `json:"shop"`
	SKU             string `json:"sku"`
	VariantID       string `json:"variant_id"`
	InventoryItemID string `json:"inventory_item_id"`
}

// UpsertSKUMapping stores or updates a mapping.
func UpsertSKUMapping(ctx context.Context, q Querier, m SKUMapping) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sku_mapping (shop, sku, variant_id, inventory_item_id, updated_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (shop, sku) DO UPDATE SET variant_id = excluded.variant_id, inventory_item_id = excluded.inventory_item_id, updated_at = excluded.updated_at
		WHERE sku_mapping.variant_id <> excluded.variant_id OR sku_mapping.inventory_item_id <> excluded.inventory_item_id`,
		m.Shop, m.SKU, m.VariantID, m.InventoryItemID, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("store: sku mapping: %w", err)
	}
	return nil
}

// SKUMappings returns a shop's mappings keyed by SKU.
func SKUMappings(ctx context.Context, q Querier, shop string) (map[string]SKUMapping, error) {
	rows, err := q.QueryContext(ctx, `SELECT shop, sku, variant_id, inventory_item_id FROM sku_mapping WHERE shop = $1`, shop)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]SKUMapping{}
	for rows.Next() {
		var m SKUMapping
		if err := rows.Scan(&m.Shop, &m.SKU, &m.VariantID, &m.InventoryItemID); err != nil {
			return nil, err
		}
		out[m.SKU] = m
	}
	return out, rows.Err()
}

// WarehouseLocation returns the Shopify location registered for a
// warehouse, or "" when none is.
func WarehouseLocation(ctx context.Context, q Querier, shop, warehouse string) (string, error) {
	var loc string
	err := q.QueryRowContext(ctx, `SELECT location_id FROM warehouse_location WHERE shop = $1 AND warehouse = $2`, shop, warehouse).Scan(&loc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return loc, err
}

// SetWarehouseLocation remembers the fulfillment service and location of a
// warehouse.
func SetWarehouseLocation(ctx context.Context, q Querier, shop, warehouse, locationID, serviceID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO warehouse_location (shop, warehouse, location_id, service_id) VALUES ($1,$2,$3,$4)
		ON CONFLICT (shop, warehouse) DO UPDATE SET location_id = excluded.location_id, service_id = excluded.service_id`,
		shop, warehouse, locationID, serviceID)
	return err
}

// InsertWMSEvent stores a warehouse event once; a duplicate (same event id
// from the same warehouse) returns inserted=false.
func InsertWMSEvent(ctx context.Context, q Querier, shop, warehouse, eventID, typ, ref string, body []byte) (inserted bool, err error) {
	res, err := q.ExecContext(ctx, `INSERT INTO wms_event (shop, warehouse, event_id, type, external_ref, body, received_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`, shop, warehouse, eventID, typ, ref, string(body), time.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("store: wms event: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SetWMSEventOutcome records what the hub did with an event.
func SetWMSEventOutcome(ctx context.Context, q Querier, shop, warehouse, eventID, outcome string) error {
	_, err := q.ExecContext(ctx, `UPDATE wms_event SET outcome = $1 WHERE shop = $2 AND warehouse = $3 AND event_id = $4`, outcome, shop, warehouse, eventID)
	return err
}

// StockFor returns a warehouse's stock levels of the given SKUs, keyed by
// SKU; SKUs the warehouse never reported are absent.
func StockFor(ctx context.Context, q Querier, shop, warehouse string, skus []string) (map[string]StockLevel, error) {
	out := map[string]StockLevel{}
	if len(skus) == 0 {
		return out, nil
	}
	args := []any{shop, warehouse}
	ph := make([]string, len(skus))
	for i, s := range skus {
		args = append(args, s)
		ph[i] = fmt.Sprintf("$%d", i+3)
	}
	rows, err := q.QueryContext(ctx, `SELECT sku, on_hand, available, as_of FROM stock_level WHERE shop = $1 AND warehouse = $2 AND sku IN (`+
		strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: stock for: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l := StockLevel{Shop: shop, Warehouse: warehouse}
		if err := rows.Scan(&l.SKU, &l.OnHand, &l.Available, &l.AsOf); err != nil {
			return nil, err
		}
		out[l.SKU] = l
	}
	return out, rows.Err()
}
