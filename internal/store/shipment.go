package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/crossdock/crossdock/internal/order"
)

// Shipment is a stored warehouse shipment and its Shopify fulfillment.
type Shipment struct {
	ID            int64
	Shop          string
	Warehouse     string
	Shipment      order.Shipment
	FulfillmentID string
	FulfilledAt   *time.Time
}

// InsertShipment stores a shipment reported by a warehouse, once: a
// shipment id already stored for the warehouse returns inserted=false.
func InsertShipment(ctx context.Context, q Querier, shop, warehouse string, s *order.Shipment) (id int64, inserted bool, err error) {
	payload, err := json.Marshal(s)
	if err != nil {
		return 0, false, err
	}
	err = q.QueryRowContext(ctx, `INSERT INTO shipment (shop, warehouse, wms_shipment_id, external_ref, payload, shipped_at, received_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING RETURNING id`,
		shop, warehouse, s.ID, s.ExternalRef, string(payload), s.ShippedAt.UTC(), time.Now().UTC()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: insert shipment: %w", err)
	}
	return id, true, nil
}

const shipCols = `id, shop, warehouse, payload, fulfillment_id, fulfilled_at`

func scanShipment(sc interface{ Scan(...any) error }) (*Shipment, error) {
	var s Shipment
	var payload string
	var fa sql.NullTime
	if err := sc.Scan(&s.ID, &s.Shop, &s.Warehouse, &payload, &s.FulfillmentID, &fa); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(payload), &s.Shipment); err != nil {
		return nil, err
	}
	if fa.Valid {
		s.FulfilledAt = &fa.Time
	}
	return &s, nil
}

// GetShipment reads one shipment.
func GetShipment(ctx context.Context, q Querier, id int64) (*Shipment, error) {
	s, err := scanShipment(q.QueryRowContext(ctx, `SELECT `+shipCols+` FROM shipment WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// ShipmentsOf lists the shipments of a warehouse order.
func ShipmentsOf(ctx context.Context, q Querier, shop, ref string) ([]Shipment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+shipCols+` FROM shipment WHERE shop = $1 AND external_ref = $2 ORDER BY id`, shop, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Shipment
	for rows.Next() {
		s, err := scanShipment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

// SetShipmentFulfilled records the Shopify fulfillment created for a
// shipment.
func SetShipmentFulfilled(ctx context.Context, q Querier, id int64, fulfillmentID string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE shipment SET fulfillment_id = $1, fulfilled_at = $2 WHERE id = $3`, fulfillmentID, at.UTC(), id)
	return err
}

// GetShipmentByWMSID returns a warehouse's shipment by the warehouse's own
// shipment id, or ErrNotFound.
func GetShipmentByWMSID(ctx context.Context, q Querier, shop, warehouse, wmsShipmentID string) (*Shipment, error) {
	s, err := scanShipment(q.QueryRowContext(ctx, `SELECT `+shipCols+` FROM shipment WHERE shop = $1 AND warehouse = $2 AND wms_shipment_id = $3`, shop, warehouse, wmsShipmentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// SetShipmentPackages replaces the packages (tracking) of a stored
// shipment, after the warehouse reported new tracking.
func SetShipmentPackages(ctx context.Context, q Querier, id int64, pkgs []order.Package) error {
	s, err := GetShipment(ctx, q, id)
	if err != nil {
		return err
	}
	s.Shipment.Packages = pkgs
	payload, err := json.Marshal(s.Shipment)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE shipment SET payload = $1 WHERE id = $2`, string(payload), id)
	return err
}
