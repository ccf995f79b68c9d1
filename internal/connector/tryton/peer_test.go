package tryton_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/tryton"
	"github.com/crossdock/crossdock/internal/order"
)

type peerEnv struct {
	op *tryton.Operator
	wh tryton.Warehouse
	c  *tryton.Connector
}

// setup gives a test a connector on a warehouse of its own in the real
// Tryton.
func setup(t *testing.T) *peerEnv {
	t.Helper()
	p := tryton.RequirePeer(t)
	op := tryton.NewOperator(p)
	wh := op.NewWarehouse(t)
	c, err := tryton.NewFromMap(p.Settings("", wh.Code))
	if err != nil {
		t.Fatal(err)
	}
	return &peerEnv{op: op, wh: wh, c: c}
}

func (e *peerEnv) submit(t *testing.T, o *order.WarehouseOrder) connector.SubmitResult {
	t.Helper()
	res, err := e.c.SubmitOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("SubmitOrder(%s): %v", o.ExternalRef, err)
	}
	return res
}

func TestUnknownSKUIsPermanentAndNamed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sku := connectortest.Ref("NOPE")
	e.op.EnsureProducts(t, "KNOWN-A")
	_, err := e.c.SubmitOrder(t.Context(), connectortest.NewOrder(connectortest.Ref("unknown"),
		order.Line{SKU: "KNOWN-A", Quantity: 1}, order.Line{SKU: sku, Quantity: 1}))
	if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), sku) {
		t.Fatalf("err = %v, want a permanent error naming %s", err, sku)
	}
	if strings.Contains(err.Error(), "KNOWN-A") {
		t.Errorf("err = %v names the known SKU too", err)
	}
}

// TestCancelRefusedOncePicked: a shipment picked or packed in Tryton can
// no longer be cancelled from the hub, and the answer says why.
func TestCancelRefusedOncePicked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.op.SetStock(t, e.wh, map[string]int{"PICK-A": 5})
	for _, stop := range []string{"picked", "packed"} {
		o := connectortest.NewOrder(connectortest.Ref("picked"), order.Line{SKU: "PICK-A", Quantity: 1})
		e.submit(t, o)
		e.op.Settle(t, e.wh, tryton.SettleOptions{StopAt: stop})
		res, err := e.c.CancelOrder(t.Context(), o.ExternalRef)
		if err != nil {
			t.Fatalf("%s: CancelOrder: %v", stop, err)
		}
		if res.Cancelled || !strings.Contains(res.Reason, stop) {
			t.Errorf("%s: CancelOrder = %+v, want refused because %s", stop, res, stop)
		}
	}
	if _, err := e.c.CancelOrder(t.Context(), connectortest.Ref("never-sent")); err == nil || !connector.IsPermanent(err) {
		t.Errorf("CancelOrder(unknown reference) err = %v, want permanent", err)
	}
}

// TestRewrittenShipmentKeepsEventID: a shipment written again without a
// state change comes back in the feed after the stored cursor with the same
// event id, so the hub skips it.
func TestRewrittenShipmentKeepsEventID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.op.SetStock(t, e.wh, map[string]int{"TOUCH-A": 5})
	o := connectortest.NewOrder(connectortest.Ref("touch"), order.Line{SKU: "TOUCH-A", Quantity: 2})
	res := e.submit(t, o)
	e.op.Settle(t, e.wh, tryton.SettleOptions{})
	first, cursor := connectortest.Drain(t, e.c, "", connectortest.PageSize)
	if len(first) != 1 || first[0].Type != connector.EventShipped {
		t.Fatalf("events = %+v, want one shipped event", first)
	}
	var id int64
	fmt.Sscan(res.WMSOrderID, &id)
	e.op.Touch(t, id)
	again, _ := connectortest.Drain(t, e.c, cursor, connectortest.PageSize)
	if len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("after a rewrite: %+v, want event %s again", again, first[0].ID)
	}
	if d := cmp.Diff(first[0].Shipment.Packages, again[0].Shipment.Packages); d != "" {
		t.Errorf("packages differ after a rewrite:\n%s", d)
	}
}

// TestAvailableExcludesReserved: units of a waiting shipment stay on hand
// until picked but are no longer available.
func TestAvailableExcludesReserved(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.op.SetStock(t, e.wh, map[string]int{"RES-A": 10})
	e.submit(t, connectortest.NewOrder(connectortest.Ref("reserve"), order.Line{SKU: "RES-A", Quantity: 3}))
	snap, err := e.c.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Full {
		t.Error("snapshot not full")
	}
	i := slices.IndexFunc(snap.Items, func(it connector.StockItem) bool { return it.SKU == "RES-A" })
	if i < 0 {
		t.Fatal("RES-A missing from the snapshot")
	}
	if got, want := snap.Items[i], (connector.StockItem{SKU: "RES-A", OnHand: 10, Available: 7}); got != want {
		t.Errorf("RES-A = %+v, want %+v", got, want)
	}
}

// TestAddressReused: two orders to one address share a Tryton delivery
// address; another address gets its own.
func TestAddressReused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.op.EnsureProducts(t, "ADDR-A")
	a := connectortest.NewOrder(connectortest.Ref("addr"), order.Line{SKU: "ADDR-A", Quantity: 1})
	a.ShipTo.Name = "Addr " + a.ExternalRef
	b := connectortest.NewOrder(connectortest.Ref("addr"), order.Line{SKU: "ADDR-A", Quantity: 1})
	b.ShipTo = a.ShipTo
	c := connectortest.NewOrder(connectortest.Ref("addr"), order.Line{SKU: "ADDR-A", Quantity: 1})
	c.ShipTo = a.ShipTo
	c.ShipTo.Address2 = "Bâtiment B"
	for _, o := range []*order.WarehouseOrder{a, b, c} {
		e.submit(t, o)
	}
	_, addrA := e.op.ShipmentOf(t, e.wh, a.ExternalRef)
	_, addrB := e.op.ShipmentOf(t, e.wh, b.ExternalRef)
	_, addrC := e.op.ShipmentOf(t, e.wh, c.ExternalRef)
	if addrA != addrB || addrA == addrC {
		t.Errorf("delivery addresses a=%d b=%d c=%d, want a = b ≠ c", addrA, addrB, addrC)
	}
}

func TestItems(t *testing.T) {
	t.Parallel()
	e := setup(t)
	codeA, codeB := connectortest.Ref("ITEM-A"), connectortest.Ref("ITEM-B")
	ids := e.op.EnsureProducts(t, codeA, codeB)
	e.op.AddBarcode(t, ids[codeA], "4006381333931")
	e.op.Deactivate(t, ids[codeB])
	items, err := e.c.Items(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]connector.Item{}
	for _, it := range items {
		if it.Code == codeA || it.Code == codeB {
			got[it.Code] = it
		}
	}
	want := map[string]connector.Item{
		codeA: {Code: codeA, Description: "Test product " + codeA, Barcodes: []string{"4006381333931"}, UOM: "EA", PackSize: 1, Active: true},
		codeB: {Code: codeB, Description: "Test product " + codeB, UOM: "EA", PackSize: 1, Active: false},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
}

// TestLateCommittedShipmentIsReported: Tryton dates a write when its
// transaction starts, so a shipment can commit after the feed's cursor
// passed its write_date. A feed whose cursor is a second past the
// shipment still reports it once (from a fresh connector, as after a
// restart), not again on the next call, and not at all once the cursor is
// further past it than the overlap.
func TestLateCommittedShipmentIsReported(t *testing.T) {
	t.Parallel()
	p := tryton.RequirePeer(t)
	op := tryton.NewOperator(p)
	wh := op.NewWarehouse(t)
	conn := func() *tryton.Connector {
		c, err := tryton.NewFromMap(p.Settings("", wh.Code))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	op.SetStock(t, wh, map[string]int{"LATE-A": 5})
	o := connectortest.NewOrder(connectortest.Ref("late"), order.Line{SKU: "LATE-A", Quantity: 1})
	if _, err := conn().SubmitOrder(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	op.Settle(t, wh, tryton.SettleOptions{StopAt: "packed"})
	evs, _ := connectortest.Drain(t, conn(), "", connectortest.PageSize)
	if len(evs) != 1 || evs[0].Type != connector.EventPacked {
		t.Fatalf("events = %+v, want one packed event", evs)
	}
	packed := evs[0]
	past := func(d time.Duration) string { return packed.At.Add(d).UTC().Format(time.RFC3339Nano) + "|0" }

	c := conn()
	got, next, err := c.Events(t.Context(), past(time.Second), connectortest.PageSize)
	if err != nil || len(got) != 1 || got[0].ID != packed.ID {
		t.Fatalf("cursor 1 s past the shipment: %+v, %v; want %s reported late", got, err, packed.ID)
	}
	if next != past(time.Second) {
		t.Errorf("a late event moved the cursor to %q", next)
	}
	if again, _, err := c.Events(t.Context(), next, connectortest.PageSize); err != nil || len(again) != 0 {
		t.Errorf("next call: %+v, %v; want nothing (already reported)", again, err)
	}
	if far, _, err := conn().Events(t.Context(), past(tryton.DefaultFeedOverlap+time.Minute), connectortest.PageSize); err != nil || len(far) != 0 {
		t.Errorf("cursor past the overlap: %+v, %v; want nothing", far, err)
	}
}
