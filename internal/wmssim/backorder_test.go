package wmssim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
)

// eventsOf returns the types of the feed's events about ref, in order.
func eventsOf(s *Server, ref string) ([]connector.EventType, []connector.Event) {
	var types []connector.EventType
	var evs []connector.Event
	for _, e := range s.Events() {
		if e.ExternalRef == ref {
			types = append(types, e.Type)
			evs = append(evs, e)
		}
	}
	return types, evs
}

func TestBackorderedEvent(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 1} })
	f.create(t, connectortest.NewOrder("BIG", line("A", 3), line("NEW", 1)))
	f.s.Settle(f.clock)

	types, evs := eventsOf(f.s, "BIG")
	if d := cmp.Diff([]connector.EventType{connector.EventAcknowledged, connector.EventBackordered}, types); d != "" {
		t.Fatalf("events before restock (-want +got):\n%s", d)
	}
	want := []connector.Shortage{{SKU: "A", Needed: 3, Available: 1}, {SKU: "NEW", Needed: 1, Available: 0}}
	if d := cmp.Diff(want, evs[1].Shortages); d != "" {
		t.Errorf("shortages (-want +got):\n%s", d)
	}
	// Restocking short of the need publishes nothing more; enough stock
	// ships the order.
	f.s.SetStock(map[string]int{"A": 2, "NEW": 1})
	f.s.Settle(f.clock)
	if types, _ := eventsOf(f.s, "BIG"); len(types) != 2 {
		t.Fatalf("events after a short restock: %v", types)
	}
	f.s.SetStock(map[string]int{"A": 3, "NEW": 1})
	f.s.Settle(f.clock)
	types, _ = eventsOf(f.s, "BIG")
	wantTypes := []connector.EventType{connector.EventAcknowledged, connector.EventBackordered,
		connector.EventPicking, connector.EventPacked, connector.EventShipped}
	if d := cmp.Diff(wantTypes, types, cmpopts.IgnoreSliceElements(func(e connector.EventType) bool {
		return e == connector.EventCarrier || e == connector.EventTrackingUpdated
	})); d != "" {
		t.Errorf("events after restock (-want +got):\n%s", d)
	}
}

func TestShortOnShelfUntilRestock(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 10} })
	f.s.SetShortOnShelf("A")
	f.create(t, connectortest.NewOrder("O1", line("A", 2)))
	f.s.Settle(f.clock)
	st := f.state(t, "O1")
	if st.State != StateAcknowledged || !st.Backordered {
		t.Fatalf("order %+v, want backordered", st)
	}
	// On the books the stock is still there.
	if got := f.s.Stock()["A"]; got.OnHand != 10 {
		t.Errorf("A on hand %d, want 10 on the books", got.OnHand)
	}
	f.s.Restock(map[string]int{"A": 12})
	f.s.Settle(f.clock)
	if st := f.state(t, "O1"); st.State != StateShipped {
		t.Fatalf("order %s after the restock", st.State)
	}
	if got := f.s.Stock()["A"]; got.OnHand != 10 {
		t.Errorf("A on hand %d after shipping 2 of 12", got.OnHand)
	}
}
