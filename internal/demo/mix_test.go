package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector/restwms"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// mixSetup starts the simulators with the realistic mix's catalogue and
// stock, and the hub; the summary reads the hub's timeline.
func mixSetup(t *testing.T, seed uint64) *bundle {
	t.Helper()
	b := setup(t, store.SQLite, demo.SimOptions{Seed: seed, Mix: demo.MixRealistic})
	b.sims.Timeline = func(orderID string) ([]store.Entry, error) {
		return store.Timeline(context.Background(), b.hub.Store.Read, demo.ShopDomain, orderID)
	}
	return b
}

// waitOrder polls the Shopify simulator until ok holds for the order.
func (b *bundle) waitOrder(t *testing.T, orderID, what string, ok func(shopifysim.OrderState) bool) shopifysim.OrderState {
	t.Helper()
	for {
		o, _ := b.sims.Shopify.Order(orderID)
		if ok(o) {
			return o
		}
		if b.ctx.Err() != nil {
			t.Fatalf("waiting for %s: order %+v", what, o)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// entries returns the order's timeline entries of kind.
func (b *bundle) entries(t *testing.T, orderID, kind string) []store.Entry {
	t.Helper()
	tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Entry
	for _, e := range tl {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestSplitOrderAcrossWarehouses: SPLIT-P1 is stocked only at Paris and
// SPLIT-N1 only at Newark, so no warehouse can ship the whole order. The
// hub splits the fulfillment order in Shopify, each part goes to its
// warehouse as its own warehouse order, and the Shopify order ends
// FULFILLED with the decision on the timeline.
func TestSplitOrderAcrossWarehouses(t *testing.T) {
	t.Parallel()
	b := mixSetup(t, 61)
	in := b.sims.OrderOf(demo.Address(0), "SPLIT-P1", "SPLIT-N1", b.sims.SKUs[0])
	in.Lines[0].Quantity = 2
	id, _, err := b.sims.Client().CreateOrder(b.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	o := b.waitOrder(t, id, "the order fulfilled", func(o shopifysim.OrderState) bool { return o.DisplayFulfillmentStatus == "FULFILLED" })

	// Two fulfillment orders, at two locations, both closed; every unit
	// fulfilled exactly once.
	locs := map[string][]string{}
	for _, fo := range o.FulfillmentOrders {
		if fo.Status != "CLOSED" {
			t.Errorf("fulfillment order %s is %s", fo.ID, fo.Status)
		}
		for _, l := range fo.LineItems {
			locs[fo.LocationName] = append(locs[fo.LocationName], l.SKU)
		}
	}
	if len(o.FulfillmentOrders) != 2 || len(locs) != 2 {
		t.Fatalf("fulfillment orders %+v, want two at two locations", o.FulfillmentOrders)
	}
	for _, li := range o.LineItems {
		if li.FulfilledQuantity != li.Quantity {
			t.Errorf("line %s fulfilled %d of %d", li.SKU, li.FulfilledQuantity, li.Quantity)
		}
	}
	// Each warehouse received its own part only.
	got := map[string][]string{}
	for _, w := range b.sims.Warehouses {
		for _, wo := range w.Sim.Orders() {
			if wo.OrderID != id {
				continue
			}
			for _, l := range wo.Request.Lines {
				got[w.ID] = append(got[w.ID], l.SKU)
			}
		}
	}
	for _, skus := range got {
		slices.Sort(skus)
	}
	want := map[string][]string{"paris": {b.sims.SKUs[0], "SPLIT-P1"}, "newark": {"SPLIT-N1"}}
	for wh, skus := range want {
		if !slices.Equal(got[wh], skus) {
			t.Errorf("%s received %v, want %v", wh, got[wh], skus)
		}
	}
	split := b.entries(t, id, "split")
	if len(split) != 1 {
		t.Fatalf("%d split entries on the timeline", len(split))
	}
	for _, part := range []string{"SPLIT-P1×2", "to paris", "SPLIT-N1×1 to newark"} {
		if !strings.Contains(split[0].Message, part) {
			t.Errorf("split entry %q lacks %q", split[0].Message, part)
		}
	}
}

// TestBackorderSurfacedThenShipped: SHORT-1 is on Paris's books but not on
// its shelf. The warehouse backorders the order and says so; the hub puts
// the shortage on the order's timeline; a delivery arrives and the order
// ships and is fulfilled by itself.
func TestBackorderSurfacedThenShipped(t *testing.T) {
	t.Parallel()
	b := mixSetup(t, 62)
	in := b.sims.OrderOf(demo.Address(1), "SHORT-1")
	in.Lines[0].Quantity = 2
	id, _, err := b.sims.Client().CreateOrder(b.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	paris := b.sims.Warehouses[0].Sim
	var entry []store.Entry
	for len(entry) == 0 {
		if b.ctx.Err() != nil {
			t.Fatal("no backordered entry on the timeline")
		}
		time.Sleep(50 * time.Millisecond)
		entry = b.entries(t, id, "backordered")
	}
	for _, part := range []string{"paris", "SHORT-1 (needs 2, has 0)"} {
		if !strings.Contains(entry[0].Message, part) {
			t.Errorf("backordered entry %q lacks %q", entry[0].Message, part)
		}
	}
	if o, _ := b.sims.Shopify.Order(id); o.DisplayFulfillmentStatus == "FULFILLED" {
		t.Fatal("fulfilled while backordered")
	}
	paris.Restock(map[string]int{"SHORT-1": 10})
	b.waitOrder(t, id, "the order fulfilled", func(o shopifysim.OrderState) bool { return o.DisplayFulfillmentStatus == "FULFILLED" })
	if sum := b.sims.Summarize(0); sum.Backorders != 1 || sum.ShippedUnitsWithoutFulfillment != 0 {
		t.Errorf("summary backorders %d, shipped units without fulfillment %d", sum.Backorders, sum.ShippedUnitsWithoutFulfillment)
	}
}

// TestRealisticMix runs 150 orders of the realistic mix: every path is
// taken by some order, every order not cancelled is shipped and fulfilled,
// and the three invariants hold.
func TestRealisticMix(t *testing.T) {
	t.Parallel()
	b := mixSetup(t, 63)
	go b.sims.RunMix(b.ctx)
	const n = 150
	if _, err := b.sims.CreateOrders(b.ctx, n, 8, 0); err != nil {
		t.Fatal(err)
	}
	sum := b.sims.WaitSettled(b.ctx, n)
	if !sum.Settled {
		t.Fatalf("not settled: %v", sum.Problems)
	}
	for name, v := range map[string]int{
		"shipped_units_without_fulfillment":        sum.ShippedUnitsWithoutFulfillment,
		"fulfilled_units_over_ordered":             sum.FulfilledUnitsOverOrdered,
		"cancelled_units_shipped_without_incident": sum.CancelledUnitsShippedWithoutIncident,
	} {
		if v != 0 {
			t.Errorf("%s = %d, want 0", name, v)
		}
	}
	for name, v := range map[string]int{
		"cancelled_before_pick": sum.CancelledBeforePick, "cancel_rejected_after_ship": sum.CancelRejectedAfterShip,
		"partial_shipments": sum.PartialShipments, "multi_package_shipments": sum.MultiPackageShipments,
		"split_orders": sum.SplitOrders, "holds_released": sum.HoldsReleased, "backorders": sum.Backorders,
		"carrier_events": sum.CarrierEvents, "tracking_updates": sum.TrackingUpdates,
	} {
		if v <= 0 {
			t.Errorf("%s = %d, want > 0", name, v)
		}
	}
	if live := sum.OrdersCreated - sum.OrdersCancelled; sum.OrdersFulfilled != live || sum.OrdersCancelled == 0 {
		t.Errorf("%d fulfilled, %d created, %d cancelled", sum.OrdersFulfilled, sum.OrdersCreated, sum.OrdersCancelled)
	}
	// Nothing a cancelled order holds reached Shopify as a fulfillment.
	for _, o := range b.sims.Shopify.Orders() {
		cancelled := len(o.FulfillmentOrders) > 0
		for _, fo := range o.FulfillmentOrders {
			cancelled = cancelled && fo.Status == "CANCELLED"
		}
		if cancelled && len(o.Fulfillments) > 0 {
			t.Errorf("order %s cancelled before picking has %d fulfillments", o.ID, len(o.Fulfillments))
		}
	}
}

// TestInvariantSeesShippedUnitsWithoutFulfillment: without a hub, a
// warehouse order submitted straight to Paris ships and nothing fulfils it
// in Shopify. The summary must count those units and refuse to settle.
func TestInvariantSeesShippedUnitsWithoutFulfillment(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	sims, err := demo.StartSims(demo.SimOptions{Seed: 64, RestoreRate: 20000, BucketSize: 40000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	in := sims.OrderOf(demo.Address(0), sims.SKUs[0], sims.SKUs[1])
	in.Lines[1].Quantity = 2
	id, _, err := sims.Client().CreateOrder(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	paris := sims.Warehouses[0]
	wms, err := restwms.New(restwms.Config{BaseURL: paris.URL, Token: demo.WMSToken})
	if err != nil {
		t.Fatal(err)
	}
	wo := &order.WarehouseOrder{ExternalRef: "CD-ROGUE-1", OrderID: id, OrderName: "#rogue", ShipTo: demo.Address(0),
		Lines: []order.Line{{LineNo: 1, SKU: sims.SKUs[0], Quantity: 1}, {LineNo: 2, SKU: sims.SKUs[1], Quantity: 2}}}
	if _, err := wms.SubmitOrder(ctx, wo); err != nil {
		t.Fatal(err)
	}
	for {
		if o, ok := paris.Sim.Order("CD-ROGUE-1"); ok && o.State == wmssim.StateShipped {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the warehouse never shipped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sum := sims.Summarize(1)
	if sum.ShippedUnitsWithoutFulfillment != 3 {
		t.Errorf("shipped_units_without_fulfillment = %d, want 3", sum.ShippedUnitsWithoutFulfillment)
	}
	if sum.Settled || !slices.ContainsFunc(sum.Problems, func(p string) bool { return strings.Contains(p, "shipped units without fulfillment") }) {
		t.Errorf("settled %v with problems %v", sum.Settled, sum.Problems)
	}
}
