package wmssim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
)

func TestReturnExpectedAndReceived(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 10} })
	f.create(t, connectortest.NewOrder("CD-1", line("A", 2)))
	f.s.Settle(f.clock)
	if st := f.state(t, "CD-1").State; st != StateShipped {
		t.Fatalf("order %s, want shipped", st)
	}
	before := f.s.Stock()["A"]

	notice := connector.ReturnNotice{ReturnID: "gid://shopify/Return/1", ExternalRef: "CD-1", Lines: []connector.ReturnLine{{SKU: "A", Quantity: 2}}}
	w := f.do(t, "POST", "/v1/returns", notice)
	wantStatus(t, w, http.StatusCreated)
	if r := decode[returnResponse](t, w); !r.Created {
		t.Errorf("first announcement: %+v", r)
	}
	w = f.do(t, "POST", "/v1/returns", notice) // a replay
	wantStatus(t, w, http.StatusOK)
	if r := decode[returnResponse](t, w); r.Created {
		t.Errorf("replay answered created")
	}
	other := notice
	other.Lines = []connector.ReturnLine{{SKU: "A", Quantity: 1}}
	wantStatus(t, f.do(t, "POST", "/v1/returns", other), http.StatusConflict)
	unknown := notice
	unknown.ReturnID, unknown.ExternalRef = "gid://shopify/Return/2", "CD-404"
	wantStatus(t, f.do(t, "POST", "/v1/returns", unknown), http.StatusUnprocessableEntity)

	if err := f.s.ReceiveReturn("gid://shopify/Return/9", []ReturnReceiptLine{{SKU: "A", Quantity: 1, Condition: "restockable"}}); err == nil {
		t.Error("a return never announced was received")
	}
	if err := f.s.ReceiveReturn(notice.ReturnID, []ReturnReceiptLine{{SKU: "A", Quantity: 1, Condition: "scratched"}}); err == nil {
		t.Error("an unknown condition was accepted")
	}
	feedBefore := len(f.s.Events())
	lines := []ReturnReceiptLine{{SKU: "A", Quantity: 1, Condition: "restockable"}, {SKU: "A", Quantity: 1, Condition: "damaged"}}
	if err := f.s.ReceiveReturn(notice.ReturnID, lines); err != nil {
		t.Fatal(err)
	}

	after := f.s.Stock()["A"]
	if after.OnHand != before.OnHand+1 || after.Available != before.Available+1 {
		t.Errorf("stock %+v → %+v, want one more on hand and available", before, after)
	}
	if d := f.s.Damaged()["A"]; d != 1 {
		t.Errorf("damaged A = %d, want 1", d)
	}
	evs := f.s.Events()
	if len(evs) != feedBefore+1 {
		t.Fatalf("%d events published, want 1", len(evs)-feedBefore)
	}
	ev := evs[len(evs)-1]
	want := &connector.ReturnReceipt{ReturnID: notice.ReturnID, Lines: []connector.ReturnReceiptLine{
		{SKU: "A", Quantity: 1, Condition: connector.ConditionRestockable}, {SKU: "A", Quantity: 1, Condition: connector.ConditionDamaged}}}
	if ev.Type != connector.EventReturnReceived || ev.ExternalRef != "CD-1" {
		t.Errorf("event %s for %s", ev.Type, ev.ExternalRef)
	}
	if diff := cmp.Diff(want, ev.Return); diff != "" {
		t.Errorf("event return (-want +got):\n%s", diff)
	}
	rs := f.s.Returns()
	if len(rs) != 1 || len(rs[0].Received) != 2 || rs[0].ReceivedAt.IsZero() {
		t.Errorf("returns %+v", rs)
	}
}
