package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestRenamedSKURoutesWithTheMappingInForce: Paris renames the item it
// stocks SKU CD-0001 as (PAR-0001, sold by Shopify in pairs: pack size 2)
// from a time between two orders. The order placed before the rename
// reaches the Paris simulator as CD-0001 × 1 although it is transmitted
// after the rename was recorded, the one placed after as PAR-0001 × 2,
// and both come
// back as shipments of CD-0001 that fulfil the Shopify orders.
func TestRenamedSKURoutesWithTheMappingInForce(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			testRenamedSKU(t, d)
		})
	}
}

func testRenamedSKU(t *testing.T, d store.Dialect) {
	b := setup(t, d, demo.SimOptions{Seed: 41})
	paris := b.sims.Warehouses[0]
	if paris.ID != "paris" {
		t.Fatalf("first warehouse is %s, want paris (rank 1)", paris.ID)
	}
	sku := b.sims.SKUs[0] // stocked by Paris and Newark; Paris ranks first
	paris.Sim.SetStock(map[string]int{"PAR-0001": 5000})
	client := b.sims.Client()

	// Paris is down until after the rename's time: both orders reach it
	// after the rename, and each must go out with the code of its own time.
	paris.Sim.SetDown(true)
	before, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(0), sku))
	if err != nil {
		t.Fatal(err)
	}
	so, ok := b.sims.Shopify.Order(before)
	if !ok {
		t.Fatalf("order %s not in the simulator", before)
	}
	// Shopify's times have second precision: the rename applies from the
	// second after the first order.
	rename := so.CreatedAt.Truncate(time.Second).Add(time.Second)
	tab := mapping.New(b.hub.Store)
	if _, err := tab.Set(b.ctx, demo.ShopDomain, mapping.Mapping{Warehouse: "paris", SKU: sku, ItemCode: "PAR-0001", UOM: "EA", PackSize: 2, EffectiveFrom: rename},
		mapping.Author{Actor: "test", Reason: "Paris renamed its item codes"}); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(rename.Add(10 * time.Millisecond)) {
		time.Sleep(20 * time.Millisecond) // wait for the rename's time, not for the hub
	}
	after, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), sku))
	if err != nil {
		t.Fatal(err)
	}
	paris.Sim.SetDown(false)

	// Both orders reach Paris, each with the item code of its time.
	wms := func(orderID string) (wmssim.OrderState, bool) {
		for _, o := range paris.Sim.Orders() {
			if o.OrderID == orderID {
				return o, true
			}
		}
		return wmssim.OrderState{}, false
	}
	fulfilled := func(orderID string) bool {
		o, ok := b.sims.Shopify.Order(orderID)
		return ok && o.DisplayFulfillmentStatus == "FULFILLED"
	}
	for !(fulfilled(before) && fulfilled(after)) {
		if b.ctx.Err() != nil {
			_, okA := wms(before)
			_, okB := wms(after)
			t.Fatalf("orders not fulfilled (in Paris: before %v, after %v)", okA, okB)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		id, item string
		qty      int
	}{{before, sku, 1}, {after, "PAR-0001", 2}} {
		o, ok := wms(c.id)
		if !ok {
			t.Fatalf("order %s never reached Paris", c.id)
		}
		if len(o.Lines) != 1 || o.Lines[0].SKU != c.item || o.Lines[0].Quantity != c.qty {
			t.Errorf("Paris received %s with lines %+v, want %d × %s", c.id, o.Lines, c.qty, c.item)
		}
		// The hub keeps the order and its shipment in SKUs and Shopify units.
		wos, err := store.WarehouseOrdersOf(b.ctx, b.hub.Store.Read, demo.ShopDomain, c.id)
		if err != nil || len(wos) != 1 {
			t.Fatalf("warehouse orders of %s: %v %v", c.id, wos, err)
		}
		if l := wos[0].Order.Lines[0]; l.SKU != sku || l.Quantity != 1 {
			t.Errorf("hub stored line %+v for %s, want 1 × %s", l, c.id, sku)
		}
		ships, err := store.ShipmentsOf(b.ctx, b.hub.Store.Read, demo.ShopDomain, wos[0].Order.ExternalRef)
		if err != nil || len(ships) != 1 {
			t.Fatalf("shipments of %s: %v %v", c.id, ships, err)
		}
		if l := ships[0].Shipment.Lines[0]; l.SKU != sku || l.Quantity != 1 {
			t.Errorf("hub stored shipment line %+v for %s, want 1 × %s", l, c.id, sku)
		}
	}
	// The timeline says which item the order went out as.
	tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, after)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range tl {
		found = found || (e.Kind == "mapped" && strings.Contains(e.Message, "→ item PAR-0001 ×2"))
	}
	if !found {
		t.Errorf("timeline of the order after the rename has no mapping entry: %+v", tl)
	}
}
