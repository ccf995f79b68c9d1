package demo_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
)

// TestStatusFlowBackToShopify drives the warehouses' status back to Shopify
// through the simulators: picking and packing are reported on the
// fulfillment order, every carrier event (in transit, out for delivery,
// delivered — or a failed delivery) becomes a fulfillment event, and a
// parcel relabelled after shipping has its new tracking number in Shopify.
// Each step is on the order's timeline.
func TestStatusFlowBackToShopify(t *testing.T) {
	t.Parallel()
	// Carrier events 1.2 s apart: Shopify keeps event times to the second.
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 33, WMSDelay: 600 * time.Millisecond, CarrierEventRate: 1, TrackingUpdateRate: 1, DeliveryFailureRate: 0.3})
	client := b.sims.Client()
	var ids []string
	for i := range 6 {
		id, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(i), b.sims.SKUs[i], b.sims.SKUs[i+10]))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// What the warehouses say now: each shipment's tracking numbers and its
	// last carrier status.
	wmsTracking := func() map[string][]string {
		out := map[string][]string{}
		for _, w := range b.sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				for _, sh := range o.Shipments {
					var nums []string
					for _, p := range sh.Packages {
						nums = append(nums, p.TrackingNumber)
					}
					out[o.OrderID] = append(out[o.OrderID], strings.Join(nums, ","))
				}
			}
		}
		return out
	}
	check := func() string {
		want := wmsTracking()
		for _, o := range b.sims.Shopify.Orders() {
			if !slices.Contains(ids, o.ID) {
				continue
			}
			if o.DisplayFulfillmentStatus != "FULFILLED" {
				return fmt.Sprintf("%s is %s", o.Name, o.DisplayFulfillmentStatus)
			}
			for _, fo := range o.FulfillmentOrders {
				// Picking is always reported (the jobs run in parallel, in
				// any order); packing too unless the shipment's
				// fulfillment closed the order first (the refusal is then
				// on the timeline).
				if !slices.ContainsFunc(fo.ProgressReports, func(r shopifysim.ProgressReportState) bool { return strings.HasPrefix(r.Notes, "picking") }) {
					return fmt.Sprintf("%s: fulfillment order %s progress reports %+v, want picking", o.Name, fo.ID, fo.ProgressReports)
				}
			}
			for _, f := range o.Fulfillments {
				var nums []string
				for _, tr := range f.Tracking {
					nums = append(nums, tr.Number)
				}
				if !slices.Contains(want[o.ID], strings.Join(nums, ",")) {
					return fmt.Sprintf("%s: fulfillment %s tracks %v, the warehouse %v", o.Name, f.ID, nums, want[o.ID])
				}
				// Carrier events are sent by parallel jobs; Shopify orders
				// them by when they happened.
				evs := slices.Clone(f.Events)
				slices.SortStableFunc(evs, func(a, b shopifysim.FulfillmentEventState) int { return a.HappenedAt.Compare(b.HappenedAt) })
				var st []string
				for _, e := range evs {
					st = append(st, e.Status)
				}
				if len(st) != 3 || st[0] != "IN_TRANSIT" || (st[2] != "DELIVERED" && st[2] != "FAILURE") {
					return fmt.Sprintf("%s: fulfillment %s events %v, want in transit … delivered or failure", o.Name, f.ID, st)
				}
				if f.DisplayStatus != st[2] {
					return fmt.Sprintf("%s: fulfillment %s display status %s after %s", o.Name, f.ID, f.DisplayStatus, st[2])
				}
			}
		}
		return ""
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		why := check()
		if why == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Each step is on the timeline, with its source.
	tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range tl {
		kinds[e.Kind] = true
	}
	for _, k := range []string{"picking", "packed", "progress", "shipped", "carrier", "tracking_updated"} {
		if !kinds[k] {
			t.Errorf("timeline of %s lacks %q: %+v", ids[0], k, tl)
		}
	}
}
