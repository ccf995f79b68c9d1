package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/returns"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestReturnReceivedDamaged: an order of 2 units ships and is fulfilled; the
// customer returns both (Shopify returnCreate). The hub announces the return
// to the warehouse that shipped it; the warehouse receives 1 unit
// restockable and 1 damaged. Shopify then holds a RESTOCKED disposition at
// the warehouse's location and a NOT_RESTOCKED one, its available stock
// there rose by exactly 1, the order's timeline explains both units, and a
// return.damaged discrepancy is open for the operator until the merchant
// closes the return.
func TestReturnReceivedDamaged(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 71})
	sku := b.sims.SKUs[0] // stocked at Paris (rank 1)
	in := b.sims.OrderOf(demo.Address(0), sku)
	in.Lines[0].Quantity = 2
	orderID, _, err := b.sims.Client().CreateOrder(b.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b.waitOrder(t, orderID, "the order to be fulfilled", func(o shopifysim.OrderState) bool { return o.DisplayFulfillmentStatus == "FULFILLED" })

	wos, err := store.WarehouseOrdersOf(b.ctx, b.hub.Store.Read, demo.ShopDomain, orderID)
	if err != nil || len(wos) != 1 {
		t.Fatalf("warehouse orders %v, %v", wos, err)
	}
	shop, _ := b.hub.Tenants.Shop(demo.ShopDomain)
	wh, _ := shop.Warehouse(wos[0].Order.Warehouse)
	var sim *wmssim.Server
	for _, w := range b.sims.Warehouses {
		if w.ID == wh.ID {
			sim = w.Sim
		}
	}
	if sim == nil || wh.LocationID == "" {
		t.Fatalf("warehouse %s: no simulator or no location", wh.ID)
	}
	if err := b.sims.WaitStockPublished(b.ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := b.sims.Shopify.InventoryLevel(sku, wh.LocationID)

	ret, err := b.sims.Shopify.CreateReturn(orderID, []shopifysim.ReturnLineInput{{SKU: sku, Quantity: 2}})
	if err != nil {
		t.Fatal(err)
	}

	// The warehouse that shipped the order is told what comes back.
	var announced wmssim.ReturnState
	waitFor(t, b, "the return to be announced to "+wh.ID, func() bool {
		for _, r := range sim.Returns() {
			if r.ReturnID == ret.ID {
				announced = r
				return true
			}
		}
		return false
	})
	if announced.ExternalRef != wos[0].Order.ExternalRef || announced.Name != ret.Name || len(announced.Expected) != 1 ||
		announced.Expected[0].SKU != sku || announced.Expected[0].Quantity != 2 {
		t.Errorf("announced %+v", announced)
	}

	if err := sim.ReceiveReturn(ret.ID, []wmssim.ReturnReceiptLine{
		{SKU: sku, Quantity: 1, Condition: "restockable"},
		{SKU: sku, Quantity: 1, Condition: "damaged"},
	}); err != nil {
		t.Fatal(err)
	}

	// Shopify holds both dispositions.
	var got []shopifysim.DispositionState
	waitFor(t, b, "the dispositions in Shopify", func() bool {
		got = nil
		for _, r := range b.sims.Shopify.Returns() {
			if r.ID != ret.ID {
				continue
			}
			for _, f := range r.ReverseFulfillmentOrders {
				for _, l := range f.Lines {
					got = append(got, l.Dispositions...)
				}
			}
		}
		return len(got) >= 2
	})
	want := []shopifysim.DispositionState{{Type: "NOT_RESTOCKED", Quantity: 1}, {Type: "RESTOCKED", Quantity: 1, LocationID: wh.LocationID}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dispositions (-want +got):\n%s", diff)
	}

	// The timeline explains both units; an incident is open for the damaged one.
	var disposed []store.Entry
	waitFor(t, b, "the disposal on the timeline", func() bool {
		disposed = b.entries(t, orderID, returns.TimelineDisposed)
		return len(disposed) > 0
	})
	msg := disposed[0].Message
	for _, part := range []string{"return " + ret.Name + " received at " + wh.Name, "1 × " + sku + " restocked at " + wh.Name,
		"1 × " + sku + " damaged, not restocked", "refund decision needed"} {
		if !strings.Contains(msg, part) {
			t.Errorf("timeline %q lacks %q", msg, part)
		}
	}
	for _, kind := range []string{returns.TimelineOpened, returns.TimelineExpected, returns.TimelineReceived} {
		if len(b.entries(t, orderID, kind)) != 1 {
			t.Errorf("timeline has %d %s entries, want 1", len(b.entries(t, orderID, kind)), kind)
		}
	}
	ds, err := store.ListDiscrepancies(b.ctx, b.hub.Store.Read, store.DiscrepancyFilter{Shop: demo.ShopDomain, Kind: returns.KindDamaged, State: "open"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Entities["order"] != orderID || ds[0].Entities["return"] != ret.ID || ds[0].Entities["sku"] != sku {
		t.Fatalf("open %s discrepancies: %+v", returns.KindDamaged, ds)
	}

	// Available at the warehouse's location rose by exactly one unit, and
	// stays there once the stock engine has run again.
	if d := sim.Damaged()[sku]; d != 1 {
		t.Errorf("warehouse keeps %d damaged %s, want 1", d, sku)
	}
	time.Sleep(2500 * time.Millisecond) // two stock syncs
	if err := b.sims.WaitStockPublished(b.ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := b.sims.Shopify.InventoryLevel(sku, wh.LocationID)
	if after.Available != before.Available+1 {
		t.Errorf("Shopify available %s at %s: %d → %d, want +1", sku, wh.Name, before.Available, after.Available)
	}

	// The merchant decides the refund and closes the return: the incident
	// closes.
	if err := b.sims.Shopify.CloseReturn(ret.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, "the incident to close", func() bool {
		ds, err := store.ListDiscrepancies(b.ctx, b.hub.Store.Read, store.DiscrepancyFilter{Shop: demo.ShopDomain, Kind: returns.KindDamaged, State: "open"})
		return err == nil && len(ds) == 0
	})
	if got := b.entries(t, orderID, returns.TimelineClosed); len(got) != 1 {
		t.Errorf("%d %s entries, want 1", len(got), returns.TimelineClosed)
	}
}

// waitFor polls cond until it holds or the test's context ends.
func waitFor(t *testing.T, b *bundle, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if b.ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, b.ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
