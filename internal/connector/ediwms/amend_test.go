package ediwms_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/order"
)

// TestAmendCapability: the connector is a connector.Amender; Amend writes
// the 940 W05 R (once per content) and answers Amended, and an order that
// cannot be amended is a permanent error, as with AmendOrder.
func TestAmendCapability(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var w connector.WMS = e.conn
	am, ok := w.(connector.Amender)
	if !ok {
		t.Fatal("ediwms is not a connector.Amender")
	}
	o := connectortest.NewOrder("cap-1", order.Line{SKU: "A", Quantity: 2})
	submit(t, e.conn, o)
	changed := *o
	changed.Lines = []order.Line{{LineNo: 1, SKU: "A", Quantity: 1}}
	for range 2 {
		res, err := am.Amend(t.Context(), &changed)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(connector.AmendResult{Amended: true}, res); diff != "" {
			t.Fatalf("Amend (-want +got):\n%s", diff)
		}
	}
	if !exists(e.root, ediwms.DefaultOut+"/940R_cap-1.1.edi") || exists(e.root, ediwms.DefaultOut+"/940R_cap-1.2.edi") {
		t.Error("want exactly one 940 W05 R for one amendment")
	}
	if _, err := am.Amend(t.Context(), connectortest.NewOrder("cap-none", order.Line{SKU: "A", Quantity: 1})); !connector.IsPermanent(err) {
		t.Errorf("Amend of an order never sent: %v, want permanent", err)
	}
}
