package restwms_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// stepTo advances the simulator one step at a time until ref is in state
// want.
func (e env) stepTo(t *testing.T, ref string, want wmssim.State) {
	t.Helper()
	for range 10 {
		if st, _ := e.sim.Order(ref); st.State == want {
			return
		}
		next, ok := e.sim.NextDue()
		if !ok {
			break
		}
		e.clock.Set(next)
		e.sim.Tick()
	}
	st, _ := e.sim.Order(ref)
	t.Fatalf("%s is %s, want %s", ref, st.State, want)
}

func TestAmendBeforePicking(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sim.SetStock(map[string]int{"A": 10, "B": 10})
	o := connectortest.NewOrder(connectortest.Ref("amend"), order.Line{SKU: "A", Quantity: 3}, order.Line{SKU: "B", Quantity: 1})
	if _, err := e.client.SubmitOrder(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	e.stepTo(t, o.ExternalRef, wmssim.StateAcknowledged)

	amended := *o
	amended.Lines = []order.Line{{LineNo: 1, SKU: "A", Quantity: 2}}
	amended.ShipTo.Address1 = "2 rue Neuve"
	for range 2 { // the second call is a replay
		res, err := e.client.Amend(t.Context(), &amended)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(connector.AmendResult{Amended: true}, res); diff != "" {
			t.Fatalf("Amend (-want +got):\n%s", diff)
		}
	}
	st, _ := e.sim.Order(o.ExternalRef)
	if diff := cmp.Diff(amended.Lines, st.Lines); diff != "" {
		t.Errorf("warehouse lines (-want +got):\n%s", diff)
	}
	if st.Request.ShipTo != amended.ShipTo {
		t.Errorf("ship-to %+v, want %+v", st.Request.ShipTo, amended.ShipTo)
	}
	stock := e.sim.Stock()
	if stock["A"].Allocated != 2 || stock["B"].Allocated != 0 {
		t.Errorf("allocation A=%d B=%d, want the amended lines' 2 and 0", stock["A"].Allocated, stock["B"].Allocated)
	}
	e.sim.Settle(e.clock)
	st, _ = e.sim.Order(o.ExternalRef)
	shipped := 0
	for _, sh := range st.Shipments {
		for _, l := range sh.Lines {
			shipped += l.Quantity
		}
	}
	if st.State != wmssim.StateShipped || shipped != 2 {
		t.Errorf("state %s with %d units shipped, want shipped with the amended 2", st.State, shipped)
	}
}

func TestAmendRefusedOncePicking(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sim.SetStock(map[string]int{"A": 10})
	o := connectortest.NewOrder(connectortest.Ref("late"), order.Line{SKU: "A", Quantity: 3})
	if _, err := e.client.SubmitOrder(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	e.stepTo(t, o.ExternalRef, wmssim.StatePicking)
	amended := *o
	amended.Lines = []order.Line{{LineNo: 1, SKU: "A", Quantity: 1}}
	res, err := e.client.Amend(t.Context(), &amended)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(connector.AmendResult{Reason: "already picking"}, res); diff != "" {
		t.Errorf("Amend (-want +got):\n%s", diff)
	}
	st, _ := e.sim.Order(o.ExternalRef)
	if diff := cmp.Diff(o.Lines, st.Lines); diff != "" {
		t.Errorf("a refused amendment changed the lines (-want +got):\n%s", diff)
	}
}

func TestAmendUnknownOrderIsPermanent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	o := connectortest.NewOrder(connectortest.Ref("none"), order.Line{SKU: "A", Quantity: 1})
	_, err := e.client.Amend(t.Context(), o)
	if !connector.IsPermanent(err) {
		t.Fatalf("Amend of an unknown order: %v, want a permanent error", err)
	}
}
