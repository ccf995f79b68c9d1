package wmsfeed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// TestShipmentLinesMappedBackToSKUs: a warehouse that knows SKU-1 as item
// P-1 in packs of 3 ships P-1; the hub stores SKU-1 in Shopify units. A
// line whose item or quantity does not fit its order line is quarantined
// with the reason, and nothing is stored for it.
func TestShipmentLinesMappedBackToSKUs(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t, d)
			// The order (2 × SKU-1, placed at zero time: the mapping in force
			// at the event's time applies) went out as 6 × P-1.
			if _, err := mapping.New(b.st).Set(ctx, shop, mapping.Mapping{Warehouse: warehouse, SKU: "SKU-1", ItemCode: "P-1", PackSize: 3, EffectiveFrom: t0.Add(-time.Hour)},
				mapping.Author{Actor: "test", Reason: "paris codes"}); err != nil {
				t.Fatal(err)
			}
			withLines := func(id string, minute int, l order.ShipmentLine) connector.Event {
				e := shippedEv(id, "S-"+id, minute)
				e.Shipment.Lines = []order.ShipmentLine{l}
				e.Shipment.Packages[0].Lines = []order.ShipmentLine{l}
				return e
			}
			b.feed.script(map[string]page{"": {events: []connector.Event{
				withLines("e1", 1, order.ShipmentLine{LineNo: 1, SKU: "SKU-1", Quantity: 6}), // the hub's SKU, not the warehouse's item
				withLines("e2", 2, order.ShipmentLine{LineNo: 1, SKU: "P-1", Quantity: 4}),   // not whole packs
				withLines("e3", 3, order.ShipmentLine{LineNo: 1, SKU: "P-1", Quantity: 6}),
			}, next: "c1"}})
			b.poll(t, 1)
			for _, id := range []string{"e1", "e2"} {
				if o := b.outcome(t, id); !strings.HasPrefix(o, "quarantined: ") {
					t.Errorf("event %s outcome %q, want quarantined", id, o)
				}
			}
			if o := b.outcome(t, "e3"); o != "applied" {
				t.Fatalf("e3 outcome %q", o)
			}
			ships, err := store.ShipmentsOf(ctx, b.st.Read, shop, ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(ships) != 1 {
				t.Fatalf("%d shipments stored, want the good one only", len(ships))
			}
			want := []order.ShipmentLine{{LineNo: 1, SKU: "SKU-1", Quantity: 2}}
			if d := cmp.Diff(want, ships[0].Shipment.Lines); d != "" {
				t.Fatalf("stored lines (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want, ships[0].Shipment.Packages[0].Lines); d != "" {
				t.Fatalf("stored package lines (-want +got):\n%s", d)
			}
			if b.progress(t) != order.ProgressShipped {
				t.Fatalf("progress %s, want shipped", b.progress(t))
			}
		})
	}
}
