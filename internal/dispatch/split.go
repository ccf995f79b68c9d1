package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/route"
	"github.com/crossdock/crossdock/internal/store"
)

// split handles a fulfillment order no single warehouse can ship but
// several can together (route.Split): it keeps the first ranked part's
// lines in fo, splits each other part out into a new fulfillment order in
// Shopify (fulfillmentOrderSplit), records the decision on the timeline and
// routes every part on its own, so each becomes its own warehouse order.
// A retry after a crash finds the parts already split and routes them
// (each can then be shipped whole by one warehouse).
func (d *dispatch) split(ctx context.Context, fo *shopify.FulfillmentOrder, need map[string]int, parts []route.Part) error {
	if fo.Status == "ON_HOLD" {
		if _, err := d.t.Shopify.ReleaseHold(ctx, fo.ID); err != nil {
			return fmt.Errorf("dispatch %s: release hold to split: %w", d.o.Name, err)
		}
		if err := d.timeline(ctx, d.w.Store.Write, store.SourceHub, "hold_released", "hold released: several warehouses can ship it together"); err != nil {
			return err
		}
		fo.Status = "OPEN"
	}
	ids := []string{fo.ID}
	for _, p := range parts[1:] {
		lines := map[string]int{}
		for _, l := range fo.Lines {
			if l.RemainingQuantity > 0 && slices.Contains(p.SKUs, strings.TrimSpace(l.SKU)) {
				lines[l.ID] = l.RemainingQuantity
			}
		}
		res, err := d.t.Shopify.SplitFulfillmentOrder(ctx, fo.ID, lines)
		if err != nil {
			return fmt.Errorf("dispatch %s: split fulfillment order %s for %s: %w", d.o.Name, fo.ID, p.Warehouse, err)
		}
		ids[0] = res.OriginalID
		ids = append(ids, res.NewID)
	}
	msg := fmt.Sprintf("split: %s (no single warehouse can ship every line; fulfillment order %s split into %s)",
		route.Describe(need, parts), fo.ID, strings.Join(ids, ", "))
	if err := d.timeline(ctx, d.w.Store.Write, store.SourceHub, "split", msg); err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		part, err := d.t.Shopify.GetFulfillmentOrder(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch %s: read split fulfillment order %s: %w", d.o.Name, id, err))
			continue
		}
		errs = append(errs, d.fulfillmentOrder(ctx, part))
	}
	return errors.Join(errs...)
}
