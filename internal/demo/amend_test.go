package demo_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestEditsAfterTransmission: orders edited in Shopify after they reached
// a REST warehouse. Before picking, a lower quantity and a new shipping
// address are amended at the warehouse (same reference), which ships the
// amended order, and Shopify ends fulfilled with the new quantity. After
// picking started, the edit becomes an incident on the timeline with the
// warehouse's progress as the reason, and the warehouse order is left as
// it was. Duplicated webhooks and the hub's own later updates replay the
// job, which decides nothing twice.
func TestEditsAfterTransmission(t *testing.T) {
	t.Parallel()
	// Each warehouse step takes 3 s: room to edit before picking.
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 71, WMSDelay: 3 * time.Second, DuplicateRate: 0.3})
	client := b.sims.Client()
	place := func(addr order.Address, qty int) string {
		t.Helper()
		in := b.sims.OrderOf(addr, b.sims.SKUs[3])
		in.Lines[0].Quantity = qty
		id, _, err := client.CreateOrder(b.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	qtyOrder, addrOrder, lateOrder := place(demo.Address(0), 3), place(demo.Address(1), 1), place(demo.Address(2), 3)

	wmsOrder := func(orderID string) (wmssim.OrderState, bool) {
		for _, w := range b.sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				if o.OrderID == orderID {
					return o, true
				}
			}
		}
		return wmssim.OrderState{}, false
	}
	waitWMS := func(orderID, what string, ok func(wmssim.OrderState) bool) wmssim.OrderState {
		t.Helper()
		for {
			if o, found := wmsOrder(orderID); found && ok(o) {
				return o
			}
			if b.ctx.Err() != nil {
				o, _ := wmsOrder(orderID)
				t.Fatalf("waiting for %s: %+v", what, o)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	atWMS := func(o wmssim.OrderState) bool { return true }
	edit := func(orderID string, e func(shopifysim.OrderState) shopifysim.OrderEdit) {
		t.Helper()
		o, _ := b.sims.Shopify.Order(orderID)
		if _, err := b.sims.Shopify.EditOrder(orderID, e(o)); err != nil {
			t.Fatal(err)
		}
	}
	lineTo := func(n int) func(shopifysim.OrderState) shopifysim.OrderEdit {
		return func(o shopifysim.OrderState) shopifysim.OrderEdit {
			return shopifysim.OrderEdit{Quantities: map[string]int{o.LineItems[0].ID: n}}
		}
	}

	// Before picking: 3 → 2 units, and a new address.
	if o := waitWMS(qtyOrder, "the order at the warehouse", atWMS); o.State != wmssim.StateReceived && o.State != wmssim.StateAcknowledged {
		t.Fatalf("the warehouse is already at %s: no room to edit before picking", o.State)
	}
	edit(qtyOrder, lineTo(2))
	moved := demo.Address(3)
	waitWMS(addrOrder, "the second order at the warehouse", atWMS)
	edit(addrOrder, func(shopifysim.OrderState) shopifysim.OrderEdit {
		first, last, _ := strings.Cut(moved.Name, " ")
		return shopifysim.OrderEdit{ShippingAddress: &shopifysim.AddressState{FirstName: first, LastName: last, Address1: moved.Address1,
			City: moved.City, ProvinceCode: moved.ProvinceCode, Zip: moved.PostalCode, CountryCode: moved.CountryCode}}
	})
	// After picking: 3 → 2 units, too late.
	before := waitWMS(lateOrder, "the third order picking", func(o wmssim.OrderState) bool { return o.State == wmssim.StatePicking })
	edit(lateOrder, lineTo(2))

	units := func(o wmssim.OrderState) (lines, shipped int) {
		for _, l := range o.Lines {
			lines += l.Quantity
		}
		for _, sh := range o.Shipments {
			for _, l := range sh.Lines {
				shipped += l.Quantity
			}
		}
		return lines, shipped
	}
	shipped := waitWMS(qtyOrder, "the amended order to ship", func(o wmssim.OrderState) bool { return o.State == wmssim.StateShipped })
	if l, s := units(shipped); l != 2 || s != 2 {
		t.Errorf("warehouse order has %d units and shipped %d, want the amended 2 and 2", l, s)
	}
	got := waitWMS(addrOrder, "the re-addressed order to ship", func(o wmssim.OrderState) bool { return o.State == wmssim.StateShipped })
	if a := got.Request.ShipTo; a.Address1 != moved.Address1 || a.City != moved.City || a.PostalCode != moved.PostalCode {
		t.Errorf("warehouse ships to %+v, want %+v", a, moved)
	}

	waitShopify := func(orderID, what string, ok func(shopifysim.OrderState) bool) shopifysim.OrderState {
		t.Helper()
		for {
			o, _ := b.sims.Shopify.Order(orderID)
			if ok(o) {
				return o
			}
			if b.ctx.Err() != nil {
				t.Fatalf("waiting for %s: %+v", what, o)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	fulfilled := func(o shopifysim.OrderState) bool { return o.DisplayFulfillmentStatus == "FULFILLED" }
	done := waitShopify(qtyOrder, "the amended order fulfilled", fulfilled)
	var fulfilledUnits int
	for _, f := range done.Fulfillments {
		for _, l := range f.LineItems {
			fulfilledUnits += l.Quantity
		}
	}
	if done.LineItems[0].Quantity != 2 || fulfilledUnits != 2 {
		t.Errorf("Shopify: line quantity %d, %d units fulfilled; want 2 and 2", done.LineItems[0].Quantity, fulfilledUnits)
	}
	waitShopify(addrOrder, "the re-addressed order fulfilled", fulfilled)

	entries := func(orderID, kind string) []string {
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, orderID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range tl {
			if e.Kind == kind {
				out = append(out, e.Message)
			}
		}
		return out
	}
	for len(entries(lateOrder, "incident")) == 0 {
		if b.ctx.Err() != nil {
			t.Fatal("no incident for the edit after picking")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if inc := entries(lateOrder, "incident"); len(inc) < 1 || !strings.Contains(inc[0], "already picking") {
		t.Errorf("incidents %q, want the first with the reason already picking", inc)
	}
	// The warehouse ships the 3 units it was sent; Shopify's order holds 2:
	// the hub fulfils 2 and records the third as an incident, rather than
	// leaving the shipment unfulfilled.
	late := waitShopify(lateOrder, "the late-edited order fulfilled", fulfilled)
	lateUnits := 0
	for _, f := range late.Fulfillments {
		for _, l := range f.LineItems {
			lateUnits += l.Quantity
		}
	}
	if lateUnits != 2 {
		t.Errorf("late-edited order: %d units fulfilled in Shopify, want the 2 it holds", lateUnits)
	}
	for !slices.ContainsFunc(entries(lateOrder, "incident"), func(m string) bool { return strings.Contains(m, "no longer holds") }) {
		if b.ctx.Err() != nil {
			t.Fatalf("no incident for the unit shipped beyond the edited order: %q", entries(lateOrder, "incident"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	after, _ := wmsOrder(lateOrder)
	if diff := cmp.Diff(before.Lines, after.Lines); diff != "" || after.Request.ShipTo != before.Request.ShipTo {
		t.Errorf("the warehouse order changed after picking (-before +after):\n%s", diff)
	}
	// The hub's copy followed the amendment: the order it knows is
	// fulfilled, with the amended quantity.
	for {
		o, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, qtyOrder)
		if err == nil && o.State == store.OrderFulfilled {
			break
		}
		if b.ctx.Err() != nil {
			t.Fatalf("the hub's order after the amendment: %+v %v, want fulfilled", o, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if wos, err := store.WarehouseOrdersOf(b.ctx, b.hub.Store.Read, demo.ShopDomain, qtyOrder); err != nil || len(wos) != 1 || wos[0].Order.Lines[0].Quantity != 2 {
		t.Errorf("the hub's warehouse order %+v %v, want the amended quantity 2", wos, err)
	}
	for _, id := range []string{qtyOrder, addrOrder} {
		if am := entries(id, "amended"); len(am) != 1 {
			t.Errorf("order %s: amended entries %q, want exactly one", id, am)
		}
		if inc := entries(id, "incident"); len(inc) != 0 {
			t.Errorf("order %s: incidents %q", id, inc)
		}
	}
}
