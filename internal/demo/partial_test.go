package demo_test

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestPartialShipmentsBecomeTwoFulfillments: every warehouse ships every
// order in two shipments. Each shipment must become one Shopify fulfillment
// with exactly its quantities and tracking, the two adding up to what was
// ordered and never more, and the hub must call the order fulfilled only
// after the second shipment.
func TestPartialShipmentsBecomeTwoFulfillments(t *testing.T) {
	t.Parallel()
	// ShipDelay is 2 × WMSDelay: 400 ms between an order's two shipments,
	// long enough to look at the hub in between.
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 21, PartialShipRate: 1, WMSDelay: 200 * time.Millisecond})
	sk := b.sims.SKUs // Paris stocks sk[0:30], Newark all 40
	withQty := func(in shopify.OrderInput, q ...int) shopify.OrderInput {
		for i := range in.Lines {
			in.Lines[i].Quantity = q[i]
		}
		return in
	}
	inputs := []shopify.OrderInput{
		b.sims.OrderOf(demo.Address(0), sk[0], sk[1]),
		b.sims.OrderOf(demo.Address(1), sk[2], sk[3], sk[4]),
		withQty(b.sims.OrderOf(demo.Address(2), sk[5]), 3), // one line split across shipments
		withQty(b.sims.OrderOf(demo.Address(3), sk[7], sk[8]), 2, 2),
		b.sims.OrderOf(demo.Address(0), sk[35], sk[6]), // Newark only
		withQty(b.sims.OrderOf(demo.Address(1), sk[36]), 2),
	}
	client := b.sims.Client()
	var ids []string
	for _, in := range inputs {
		id, _, err := client.CreateOrder(b.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	n := len(ids)

	// Watch the window between an order's two shipments: the hub must not
	// call it fulfilled, and the demo summary must not count it shipped.
	wmsState := func(orderID string) wmssim.State {
		for _, w := range b.sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				if o.OrderID == orderID {
					return o.State
				}
			}
		}
		return ""
	}
	var (
		mu        sync.Mutex
		windows   = map[string]bool{} // orders seen between shipments with their first fulfillment in Shopify
		violation string
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, id := range ids {
				if wmsState(id) != wmssim.StatePartiallyShipped {
					continue
				}
				so, ok := b.sims.Shopify.Order(id)
				ho, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
				sum := b.sims.Summarize(n)
				if wmsState(id) != wmssim.StatePartiallyShipped || err != nil || !ok {
					continue // the second shipment left meanwhile
				}
				mu.Lock()
				switch {
				case ho.State == store.OrderFulfilled:
					violation = "hub order " + so.Name + " fulfilled while its second shipment is still in the warehouse"
				case sum.OrdersShipped >= n:
					violation = "the summary counts a partially shipped order as shipped"
				case len(so.Fulfillments) == 1:
					if so.DisplayFulfillmentStatus != "PARTIALLY_FULFILLED" {
						violation = "Shopify order " + so.Name + " is " + so.DisplayFulfillmentStatus + " after one of two fulfillments"
					}
					// The hub has recorded the first shipment by now: its
					// warehouse order must say partially shipped.
					if wos, err := store.WarehouseOrdersOf(b.ctx, b.hub.Store.Read, demo.ShopDomain, id); err == nil && len(wos) == 1 &&
						wos[0].Progress >= order.ProgressShipped && wmsState(id) == wmssim.StatePartiallyShipped {
						violation = "hub warehouse order " + wos[0].Order.ExternalRef + " is " + wos[0].Progress.String() + " after one of two shipments"
					}
					windows[id] = true
				}
				mu.Unlock()
			}
		}
	}()

	sum := b.sims.WaitSettled(b.ctx, n)
	close(stop)
	<-done
	if !sum.Settled {
		t.Fatalf("not settled: %v\n%s", sum.Problems, sum.JSON())
	}
	if violation != "" {
		t.Fatal(violation)
	}
	if len(windows) == 0 {
		t.Fatal("no order was seen between its two fulfillments: the test proves nothing about when the hub calls it fulfilled")
	}
	t.Logf("%d of %d orders observed between their two fulfillments; ship→fulfillment latency %+v", len(windows), n, sum.ShipToFulfillmentMs)
	if sum.OrdersShipped != n || sum.OrdersFulfilled != n || sum.ShopifyFulfillments != 2*n || sum.DuplicateFulfillments != 0 {
		t.Fatalf("summary %s", sum.JSON())
	}
	if sum.PerWarehouse["paris"].Shipped == 0 || sum.PerWarehouse["newark"].Shipped == 0 {
		t.Fatalf("one warehouse only: %+v", sum.PerWarehouse)
	}

	// Every warehouse shipment, by tracking number.
	type shipped struct {
		orderID string
		sh      order.Shipment
	}
	byTracking := map[string]shipped{}
	shipments := map[string]int{} // order id → shipments
	for _, w := range b.sims.Warehouses {
		for _, o := range w.Sim.Orders() {
			if o.State != wmssim.StateShipped || len(o.Shipments) != 2 {
				t.Fatalf("%s %s: %s with %d shipments", w.ID, o.ExternalRef, o.State, len(o.Shipments))
			}
			shipments[o.OrderID] += len(o.Shipments)
			for _, sh := range o.Shipments {
				for _, p := range sh.Packages {
					byTracking[p.TrackingNumber] = shipped{o.OrderID, sh}
				}
			}
		}
	}

	for _, o := range b.sims.Shopify.Orders() {
		if shipments[o.ID] != 2 {
			t.Fatalf("order %s: %d warehouse shipments", o.Name, shipments[o.ID])
		}
		if len(o.Fulfillments) != 2 {
			t.Fatalf("order %s has %d fulfillments, want 2", o.Name, len(o.Fulfillments))
		}
		total := map[string]int{} // line item → fulfilled
		seen := map[string]bool{} // shipment ids
		for _, f := range o.Fulfillments {
			if len(f.Tracking) == 0 {
				t.Fatalf("order %s fulfillment %s has no tracking", o.Name, f.Name)
			}
			var sh *shipped
			var numbers []string
			for _, tr := range f.Tracking {
				if tr.Number == "" {
					t.Fatalf("order %s fulfillment %s has an empty tracking number", o.Name, f.Name)
				}
				numbers = append(numbers, tr.Number)
				s, ok := byTracking[tr.Number]
				if !ok || s.orderID != o.ID || (sh != nil && sh.sh.ID != s.sh.ID) {
					t.Fatalf("order %s fulfillment %s: tracking %s matches no single shipment of the order", o.Name, f.Name, tr.Number)
				}
				sh = &s
			}
			var pkgNumbers []string
			for _, p := range sh.sh.Packages {
				pkgNumbers = append(pkgNumbers, p.TrackingNumber)
			}
			slices.Sort(numbers)
			slices.Sort(pkgNumbers)
			if !slices.Equal(numbers, pkgNumbers) {
				t.Fatalf("order %s fulfillment %s tracks %v, shipment %s has %v", o.Name, f.Name, numbers, sh.sh.ID, pkgNumbers)
			}
			if seen[sh.sh.ID] {
				t.Fatalf("order %s: shipment %s reported twice", o.Name, sh.sh.ID)
			}
			seen[sh.sh.ID] = true
			inFul, inShip := map[string]int{}, map[string]int{}
			for _, l := range f.LineItems {
				inFul[l.SKU] += l.Quantity
				total[l.LineItemID] += l.Quantity
			}
			for _, l := range sh.sh.Lines {
				inShip[l.SKU] += l.Quantity
			}
			if !maps.Equal(inFul, inShip) {
				t.Fatalf("order %s fulfillment %s has %v, shipment %s %v", o.Name, f.Name, inFul, sh.sh.ID, inShip)
			}
		}
		for _, li := range o.LineItems {
			if total[li.ID] != li.Quantity || li.FulfilledQuantity != li.Quantity {
				t.Fatalf("order %s line %s: fulfilled %d (Shopify says %d) of %d", o.Name, li.SKU, total[li.ID], li.FulfilledQuantity, li.Quantity)
			}
		}
	}
	if st := b.sims.Shopify.Stats(); st.RejectedOverfulfillments != 0 || st.DuplicateTracking != 0 {
		t.Fatalf("Shopify refused or saw duplicate fulfillments: %+v", st)
	}

	// The hub: fulfilled, after two shipments and two fulfillments.
	for _, id := range ids {
		deadline := time.Now().Add(10 * time.Second)
		for { // the hub records the order fulfilled just after Shopify has it
			o, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
			if err == nil && o.State == store.OrderFulfilled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("hub order %s = %+v, %v; want fulfilled", id, o, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		count := map[string]int{}
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
			count[e.Kind]++
		}
		if count["shipped"] != 2 || count["fulfilled"] != 2 {
			t.Fatalf("order %s timeline has %d shipped and %d fulfilled entries, want 2 and 2: %v", id, count["shipped"], count["fulfilled"], kinds)
		}
		if i := slices.Index(kinds, "shipped"); i < 0 || slices.Index(kinds[i+1:], "shipped") < 0 {
			t.Fatalf("order %s timeline %v", id, kinds)
		}
	}
}
