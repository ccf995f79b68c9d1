package restwms_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestReturnRoundTrip announces a return through the client and reads its
// receipt back from the feed as connector.Event.Return.
func TestReturnRoundTrip(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.sim.SetStock(map[string]int{"A": 5})
	if _, err := e.client.SubmitOrder(ctx, connectortest.NewOrder("CD-7", order.Line{LineNo: 1, SKU: "A", Quantity: 2})); err != nil {
		t.Fatal(err)
	}
	n := connector.ReturnNotice{ReturnID: "gid://shopify/Return/7", ExternalRef: "CD-7", Lines: []connector.ReturnLine{{SKU: "A", Quantity: 2}}}
	for range 2 { // the second is a replay
		if err := e.client.ExpectReturn(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	n.Lines[0].Quantity = 1
	if err := e.client.ExpectReturn(ctx, n); !connector.IsPermanent(err) {
		t.Errorf("different content under the same id: %v, want a permanent error", err)
	}
	if err := e.sim.ReceiveReturn(n.ReturnID, []wmssim.ReturnReceiptLine{{SKU: "A", Quantity: 2, Condition: "damaged"}}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := e.client.Events(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got *connector.Event
	for i := range evs {
		if evs[i].Type == connector.EventReturnReceived {
			got = &evs[i]
		}
	}
	if got == nil {
		t.Fatalf("no return_received event in %+v", evs)
	}
	want := &connector.ReturnReceipt{ReturnID: n.ReturnID, Lines: []connector.ReturnReceiptLine{{SKU: "A", Quantity: 2, Condition: connector.ConditionDamaged}}}
	if diff := cmp.Diff(want, got.Return); diff != "" || got.ExternalRef != "CD-7" {
		t.Errorf("event for %s, return (-want +got):\n%s", got.ExternalRef, diff)
	}
}
