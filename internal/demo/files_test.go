package demo_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// TestWarehousePerProtocol runs the demo with one warehouse per protocol
// (REST, CSV over SFTP, X12 over SFTP) and checks the must-show invariants
// on the simulators' state: every order shipped and fulfilled with
// tracking, no duplicate warehouse order or fulfillment, every warehouse
// used, and every package's tracking number — the file warehouses' come
// through shipment files and 945s — on a Shopify fulfillment.
func TestWarehousePerProtocol(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			protocols := []string{demo.ProtocolREST, demo.ProtocolCSV, demo.ProtocolEDI}
			b := setup(t, d, demo.SimOptions{DuplicateRate: 0.2, ReorderRate: 0.1, PartialShipRate: 0.2, Seed: 23, Warehouses: protocols})
			var got []string
			for _, w := range b.sims.Warehouses {
				got = append(got, w.Protocol)
				if (w.Protocol == demo.ProtocolREST) != (w.Partner == nil) {
					t.Fatalf("%s (%s): file partner %v", w.ID, w.Protocol, w.Partner)
				}
			}
			if d := cmp.Diff(protocols, got); d != "" {
				t.Fatalf("warehouses (-want +got):\n%s", d)
			}
			const n = 30
			if _, err := b.sims.CreateOrders(b.ctx, n, 8, 0); err != nil {
				t.Fatal(err)
			}
			sum := b.sims.WaitSettled(b.ctx, n)
			if !sum.Settled {
				t.Fatalf("not settled: %v\n%s", sum.Problems, sum.JSON())
			}
			if sum.OrdersShipped != n || sum.OrdersFulfilled != n || sum.FulfillmentsMissingTracking != 0 ||
				sum.DuplicateWMSOrders != 0 || sum.DuplicateFulfillments != 0 {
				t.Fatalf("summary: %s", sum.JSON())
			}
			tracking := map[string]bool{}
			for _, o := range b.sims.Shopify.Orders() {
				for _, f := range o.Fulfillments {
					for _, tr := range f.Tracking {
						tracking[tr.Number] = true
					}
				}
			}
			for _, w := range b.sims.Warehouses {
				if sum.PerWarehouse[w.ID].Orders == 0 {
					t.Errorf("warehouse %s (%s) received no order: %+v", w.ID, w.Protocol, sum.PerWarehouse)
				}
				for _, o := range w.Sim.Orders() {
					for _, sh := range o.Shipments {
						for _, p := range sh.Packages {
							if !tracking[p.TrackingNumber] {
								t.Errorf("%s %s: package %s tracking %s is on no Shopify fulfillment", w.ID, o.ExternalRef, p.ID, p.TrackingNumber)
							}
						}
					}
				}
				if w.Partner == nil {
					continue
				}
				st := w.Partner.Stats()
				if st.FilesRejected != 0 || st.OrdersRefused != 0 {
					t.Errorf("%s: partner rejected files or orders: %+v", w.ID, st)
				}
				if st.OrdersCreated != sum.PerWarehouse[w.ID].Orders {
					t.Errorf("%s: partner created %d orders, warehouse holds %d", w.ID, st.OrdersCreated, sum.PerWarehouse[w.ID].Orders)
				}
				if w.Protocol == demo.ProtocolEDI && (st.AcksSent == 0 || st.AcksReceived == 0) {
					t.Errorf("%s: no 997 exchanged: %+v", w.ID, st)
				}
			}
		})
	}
}

// TestParseWarehouses checks the --warehouses flag's parsing.
func TestParseWarehouses(t *testing.T) {
	t.Parallel()
	got, err := demo.ParseWarehouses(" rest, CSV ,edi")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"rest", "csv", "edi"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []string{"", "rest,ftp", ",", "rest,rest,rest,rest,rest,rest,rest"} {
		if _, err := demo.ParseWarehouses(bad); err == nil {
			t.Errorf("ParseWarehouses(%q) accepted", bad)
		}
	}
}
