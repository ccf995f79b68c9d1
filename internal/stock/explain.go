package stock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// Explanation says why a SKU's figure at a Shopify location is what it is:
// the formula's parts per warehouse (last snapshot and its time, movements
// since, in-flight orders, buffer), the cap, what Shopify holds and when the
// hub learned it, the last push, and the level's ledger (pushes, manual
// edits found, flags, stale retries), newest first.
type Explanation struct {
	Shop       string                           `json:"shop"`
	LocationID string                           `json:"location_id"`
	SKU        string                           `json:"sku"`
	Figure     Figure                           `json:"figure"`
	InFlight   map[string][]store.InFlightOrder `json:"in_flight_orders"`
	Shopify    *store.LocationLevel             `json:"shopify,omitempty"`
	InSync     bool                             `json:"in_sync"`
	Ledger     []store.LedgerEntry              `json:"ledger"`
}

// Explain computes the explanation of one SKU at one location from the
// stored state (it reads nothing from Shopify or the warehouses).
func (w *Worker) Explain(ctx context.Context, shop, locationID, sku string) (*Explanation, error) {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return nil, fmt.Errorf("stock: unknown shop %s", shop)
	}
	return ExplainLevel(ctx, w.Store, t, locationID, sku)
}

// ExplainLevel is Explain for callers without a Worker (the API, the CLI).
func ExplainLevel(ctx context.Context, st *store.Store, t *tenant.Shop, locationID, sku string) (*Explanation, error) {
	var loc *location
	for _, l := range locations(t) {
		if l.id == locationID {
			loc = &l
			break
		}
	}
	if loc == nil {
		return nil, fmt.Errorf("stock: %s is not a warehouse location of %s", locationID, t.Domain)
	}
	w := &Worker{Store: st}
	figs, _, err := w.figures(ctx, t, *loc)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Shop: t.Domain, LocationID: locationID, SKU: sku, InFlight: map[string][]store.InFlightOrder{}}
	if f, ok := figs[sku]; ok {
		ex.Figure = *f
	} else {
		for _, wh := range loc.warehouses {
			ex.Figure.Contributions = append(ex.Figure.Contributions, Contribution{Warehouse: wh.ID})
		}
		Compute(&ex.Figure)
	}
	for _, wh := range loc.warehouses {
		os, err := store.InFlightOrders(ctx, st.Read, t.Domain, wh.ID, sku)
		if err != nil {
			return nil, err
		}
		if len(os) > 0 {
			ex.InFlight[wh.ID] = os
		}
	}
	l, err := store.GetLocationLevel(ctx, st.Read, t.Domain, locationID, sku)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		ex.Shopify = &l
		ex.InSync = l.ShopifyAvailable != nil && *l.ShopifyAvailable == ex.Figure.Target
	}
	if ex.Ledger, err = store.Ledger(ctx, st.Read, t.Domain, locationID, sku, "", 50); err != nil {
		return nil, err
	}
	return ex, nil
}
