package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
)

// orderQuery is the orders page's search and filters (also the query of
// GET /api/v1/orders).
type orderQuery struct {
	Shop      string
	State     string
	Q         string // matches the order's name or id, a SKU, an external reference
	Warehouse string
	From, To  string // dates, YYYY-MM-DD, inclusive, on the order's creation
	Limit     int

	from, to time.Time
}

// searchScan is how many recent orders a search or filter looks through.
const searchScan = 2000

func parseOrderQuery(r *http.Request) (orderQuery, error) {
	v := r.URL.Query()
	q := orderQuery{Shop: v.Get("shop"), State: v.Get("state"), Q: strings.TrimSpace(v.Get("q")),
		Warehouse: v.Get("warehouse"), From: v.Get("from"), To: v.Get("to")}
	q.Limit, _ = strconv.Atoi(v.Get("limit"))
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var err error
	if q.From != "" {
		if q.from, err = time.Parse(time.DateOnly, q.From); err != nil {
			return q, fmt.Errorf("from must be a date YYYY-MM-DD: %w", err)
		}
	}
	if q.To != "" {
		if q.to, err = time.Parse(time.DateOnly, q.To); err != nil {
			return q, fmt.Errorf("to must be a date YYYY-MM-DD: %w", err)
		}
		q.to = q.to.Add(24 * time.Hour) // the whole day
	}
	return q, nil
}

// narrows reports whether the query filters beyond shop and state.
func (q orderQuery) narrows() bool {
	return q.Q != "" || q.Warehouse != "" || !q.from.IsZero() || !q.to.IsZero()
}

// matches reports whether an order and its warehouse orders pass the search
// and the filters.
func (q orderQuery) matches(o store.Order, wos []store.WarehouseOrder) bool {
	if !q.from.IsZero() && o.CreatedAt.Before(q.from) {
		return false
	}
	if !q.to.IsZero() && !o.CreatedAt.Before(q.to) {
		return false
	}
	if q.Warehouse != "" {
		found := false
		for _, wo := range wos {
			found = found || wo.Order.Warehouse == q.Warehouse
		}
		if !found {
			return false
		}
	}
	if q.Q == "" {
		return true
	}
	needle := strings.ToLower(q.Q)
	has := func(s string) bool { return s != "" && strings.Contains(strings.ToLower(s), needle) }
	if has(o.Name) || has(o.OrderID) || (o.LegacyID != 0 && strconv.FormatInt(o.LegacyID, 10) == q.Q) {
		return true
	}
	for _, wo := range wos {
		if has(wo.Order.ExternalRef) || has(wo.WMSOrderID) {
			return true
		}
		for _, l := range wo.Order.Lines {
			if has(l.SKU) {
				return true
			}
		}
	}
	return false
}

// searchOrders returns the most recently updated orders passing q, each
// with its warehouse orders, and the count of orders per state (all of
// them, whatever the filters). Searches and filters look through the
// searchScan most recently updated orders.
func (d Deps) searchOrders(ctx context.Context, q orderQuery) ([]orderRow, map[string]int, error) {
	scan := q.Limit
	if q.narrows() {
		scan = searchScan
	}
	orders, err := store.ListOrders(ctx, d.Store.Read, q.Shop, q.State, scan)
	if err != nil {
		return nil, nil, err
	}
	var rows []orderRow
	for _, o := range orders {
		wos, err := store.WarehouseOrdersOf(ctx, d.Store.Read, o.Shop, o.OrderID)
		if err != nil {
			return nil, nil, err
		}
		if !q.matches(o, wos) {
			continue
		}
		rows = append(rows, orderRow{Order: o, Warehouses: wos})
		if len(rows) == q.Limit {
			break
		}
	}
	counts, err := store.CountOrdersByState(ctx, d.Store.Read, q.Shop)
	return rows, counts, err
}

// warehouseIDs lists the configured warehouses, for the orders filter.
func (d Deps) warehouseIDs() []string {
	seen := map[string]bool{}
	var out []string
	if d.Tenants != nil {
		for _, s := range d.Tenants.Shops() {
			for _, w := range s.Warehouses {
				if !seen[w.ID] {
					seen[w.ID] = true
					out = append(out, w.ID)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// OrderDetail is one order with its warehouse orders, their shipments and
// the order's whole timeline (GET /api/v1/orders/detail and the order page).
type OrderDetail struct {
	Order           *store.Order         `json:"order"`
	WarehouseOrders []WarehouseOrderView `json:"warehouse_orders"`
	Timeline        []store.Entry        `json:"timeline"`
}

// WarehouseOrderView is a warehouse order with its shipments.
type WarehouseOrderView struct {
	store.WarehouseOrder
	Shipments []store.Shipment
}

// MarshalJSON writes the warehouse order with its progress by name.
func (v WarehouseOrderView) MarshalJSON() ([]byte, error) {
	type shipment struct {
		ID            int64          `json:"id"`
		Warehouse     string         `json:"warehouse"`
		Shipment      order.Shipment `json:"shipment"`
		FulfillmentID string         `json:"fulfillment_id,omitempty"`
		FulfilledAt   *time.Time     `json:"fulfilled_at,omitempty"`
	}
	ships := make([]shipment, len(v.Shipments))
	for i, s := range v.Shipments {
		ships[i] = shipment{s.ID, s.Warehouse, s.Shipment, s.FulfillmentID, s.FulfilledAt}
	}
	return json.Marshal(struct {
		order.WarehouseOrder
		Progress       string     `json:"progress"`
		WMSOrderID     string     `json:"wms_order_id,omitempty"`
		CreatedAt      time.Time  `json:"created_at"`
		SentAt         *time.Time `json:"sent_at,omitempty"`
		AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
		ShippedAt      *time.Time `json:"shipped_at,omitempty"`
		FulfilledAt    *time.Time `json:"fulfilled_at,omitempty"`
		Shipments      []shipment `json:"shipments"`
	}{v.Order, v.Progress.String(), v.WMSOrderID, v.CreatedAt, v.SentAt, v.AcknowledgedAt, v.ShippedAt, v.FulfilledAt, ships})
}

func (d Deps) orderDetail(ctx context.Context, shop, id string) (*OrderDetail, error) {
	o, err := store.GetOrder(ctx, d.Store.Read, shop, id)
	if err != nil {
		return nil, err
	}
	tl, err := store.Timeline(ctx, d.Store.Read, shop, id)
	if err != nil {
		return nil, err
	}
	wos, err := store.WarehouseOrdersOf(ctx, d.Store.Read, shop, id)
	if err != nil {
		return nil, err
	}
	det := &OrderDetail{Order: o, Timeline: tl, WarehouseOrders: []WarehouseOrderView{}}
	for _, wo := range wos {
		ships, err := store.ShipmentsOf(ctx, d.Store.Read, shop, wo.Order.ExternalRef)
		if err != nil {
			return nil, err
		}
		det.WarehouseOrders = append(det.WarehouseOrders, WarehouseOrderView{wo, ships})
	}
	return det, nil
}

func (d Deps) orderJSON(w http.ResponseWriter, r *http.Request) {
	det, err := d.orderDetail(r.Context(), r.URL.Query().Get("shop"), r.URL.Query().Get("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such order"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, det)
}

// isHTMX reports whether htmx made the request (it then wants a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }
