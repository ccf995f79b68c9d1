package wmsfeed_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/store"
)

// finalState is what a warehouse's notifications leave behind: the order's
// progress and step times, the shipments stored, the fulfilments and
// carrier events enqueued. (Progress reports are not state: a "packed"
// arriving after a shipment is not reported, as the order is past it.)
type finalState struct {
	Progress     string
	Acknowledged bool
	Shipped      bool
	Shipments    []string
	FulfilJobs   int
	CarrierJobs  int
}

func (b *bundle) final(t *rapid.T) finalState {
	ctx := context.Background()
	wo, err := store.GetWarehouseOrderByRef(ctx, b.st.Read, shop, ref)
	if err != nil {
		t.Fatal(err)
	}
	ships, err := store.ShipmentsOf(ctx, b.st.Read, shop, ref)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range ships {
		ids = append(ids, s.Shipment.ID)
	}
	slices.Sort(ids)
	count := func(kind string) int {
		var n int
		if err := b.st.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return finalState{Progress: wo.Progress.String(), Acknowledged: wo.AcknowledgedAt != nil, Shipped: wo.ShippedAt != nil, Shipments: ids,
		FulfilJobs: count("shipment.fulfil"), CarrierJobs: count("shipment.carrier_event")}
}

// TestPropertyOutOfOrderAndDuplicatedNotifications: a warehouse's
// notifications for an order — acknowledged, picking, packed, two partial
// shipments, a carrier event — delivered in any order, any of them
// several times, over any number of polls, leave the same final state as
// in-order delivery: same progress, same shipments stored once each, one
// fulfilment per shipment, one carrier job.
func TestPropertyOutOfOrderAndDuplicatedNotifications(t *testing.T) {
	inOrder := func() []connector.Event {
		first, second := shippedEv("e4", "SH1", 4), shippedEv("e5", "SH2", 5)
		first.Shipment.Lines[0].Quantity, second.Shipment.Lines[0].Quantity = 1, 1
		first.Shipment.Packages[0].Lines[0].Quantity, second.Shipment.Packages[0].Lines[0].Quantity = 1, 1
		second.Shipment.Packages[0].TrackingNumber = "1Z998"
		carrier := ev("e6", connector.EventCarrier, 6)
		carrier.Carrier = &connector.CarrierUpdate{ShipmentID: "SH1", TrackingNumber: "1Z999", Status: connector.CarrierInTransit, HappenedAt: carrier.At}
		return []connector.Event{ev("e1", connector.EventAcknowledged, 1), ev("e2", connector.EventPicking, 2), ev("e3", connector.EventPacked, 3), first, second, carrier}
	}
	deliver := func(rt *rapid.T, events []connector.Event, pageSize int) finalState {
		b := setup(t, store.SQLite)
		pages := map[string]page{}
		cursor := ""
		for i := 0; i < len(events); i += pageSize {
			next := strconv.Itoa(i + pageSize)
			pages[cursor] = page{events[i:min(i+pageSize, len(events))], next}
			cursor = next
		}
		b.feed.script(pages)
		for range len(pages) + 1 {
			if _, err := b.p.PollOnce(context.Background()); err != nil {
				rt.Fatal(err)
			}
		}
		return b.final(rt)
	}
	var want finalState
	rapid.Check(t, func(rt *rapid.T) {
		if want.Progress == "" {
			want = deliver(rt, inOrder(), 10)
			if want.Progress != "shipped" || len(want.Shipments) != 2 || want.FulfilJobs != 2 || want.CarrierJobs != 1 || !want.Acknowledged || !want.Shipped {
				rt.Fatalf("in-order delivery left %+v", want)
			}
		}
		events := inOrder()
		// Any order, with duplicates (a duplicate is the same event id).
		var sent []connector.Event
		for _, i := range rapid.Permutation([]int{0, 1, 2, 3, 4, 5}).Draw(rt, "order") {
			for range rapid.IntRange(1, 3).Draw(rt, fmt.Sprintf("copies of %s", events[i].ID)) {
				sent = append(sent, events[i])
			}
		}
		sent = rapid.Permutation(sent).Draw(rt, "interleaving")
		got := deliver(rt, sent, rapid.IntRange(1, 4).Draw(rt, "page size"))
		if diff := cmp.Diff(want, got); diff != "" {
			rt.Fatalf("out-of-order delivery of %v left a different state (-in order +got):\n%s", ids(sent), diff)
		}
	})
}

func ids(evs []connector.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
