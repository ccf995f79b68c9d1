package filesim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

var skus = []string{"SKU-A", "SKU-B", "SKU-C", "0042"}

// fixture is a simulated 3PL (wmssim + Partner) and the hub's connector on
// the same folder.
type fixture struct {
	root    string
	clock   *wmssim.ManualClock
	sim     *wmssim.Server
	partner *filesim.Partner
	conn    connector.WMS
	ctx     context.Context
}

func setup(t *testing.T, protocol string, mod ...func(*filesim.Config)) *fixture {
	t.Helper()
	root := t.TempDir()
	clock := wmssim.NewManualClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	stock := map[string]int{}
	for _, s := range skus {
		stock[s] = 50
	}
	sim := wmssim.New(wmssim.Config{Name: "lyon", Token: "tok", Now: clock.Now, Stock: stock,
		MultiPackageRate: 1, PartialShipRate: 0.5, Seed: 7})
	t.Cleanup(sim.Close)
	hubDrop, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	partnerDrop, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filesim.Config{Sim: sim, Token: "tok", Drop: partnerDrop, Protocol: protocol, Now: clock.Now,
		EDI: filesim.EDIProfile{ID: "DEMO3PL", HubID: "CROSSDOCK"}}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := filesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var conn connector.WMS
	switch protocol {
	case filesim.ProtocolCSV:
		conn, err = csvwms.New(csvwms.Config{Drop: hubDrop, NoStableWait: true})
	default:
		conn, err = ediwms.New(ediwms.Config{Drop: hubDrop, NoStableWait: true,
			Profile: ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "DEMO3PL"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{root: root, clock: clock, sim: sim, partner: p, conn: conn, ctx: t.Context()}
}

func (f *fixture) step(t *testing.T) {
	t.Helper()
	if err := f.partner.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
}

// newOrder returns order n: n+1 lines of 2–3 units each.
func newOrder(n int) *order.WarehouseOrder {
	o := &order.WarehouseOrder{
		ExternalRef: fmt.Sprintf("CD-%d", 1000+n), OrderName: fmt.Sprintf("#%d", 1000+n),
		OrderID: fmt.Sprintf("gid://shopify/Order/%d", n), FulfillmentOrderID: fmt.Sprintf("gid://shopify/FulfillmentOrder/%d", 1000+n),
		ShipTo: order.Address{Name: "Hélène Dubois", Address1: "3 place Bellecour", City: "Lyon", PostalCode: "69002", CountryCode: "FR"},
	}
	for i := range min(n+1, len(skus)) {
		o.Lines = append(o.Lines, order.Line{LineNo: i + 1, SKU: skus[(n+i)%len(skus)], Quantity: 2 + (n+i)%2})
	}
	return o
}

// shipment is what both sides must agree on: ids, lines, packages and
// their tracking numbers.
type shipment struct {
	ID, Ref  string
	Lines    []order.ShipmentLine
	Packages []pkg
}

type pkg struct {
	ID, Tracking string
	Lines        []order.ShipmentLine
}

func project(sh order.Shipment) shipment {
	out := shipment{ID: sh.ID, Ref: sh.ExternalRef, Lines: sortLines(sh.Lines)}
	for _, p := range sh.Packages {
		out.Packages = append(out.Packages, pkg{ID: p.ID, Tracking: p.TrackingNumber, Lines: sortLines(p.Lines)})
	}
	return out
}

func sortLines(ls []order.ShipmentLine) []order.ShipmentLine {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b order.ShipmentLine) int { return a.LineNo - b.LineNo })
	return ls
}

func units(ls []order.Line) []order.Line {
	out := make([]order.Line, len(ls))
	for i, l := range ls {
		out[i] = order.Line{LineNo: l.LineNo, SKU: l.SKU, Quantity: l.Quantity}
	}
	return out
}

// TestOrdersShipmentsAndStockThroughFiles sends orders through the hub's
// connector, lets the simulated warehouse ship them, and checks that the
// connector reads back exactly the warehouse's shipments (lines, packages,
// tracking numbers) and stock, for both protocols.
func TestOrdersShipmentsAndStockThroughFiles(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{filesim.ProtocolCSV, filesim.ProtocolEDI} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			f := setup(t, proto)
			var sent []*order.WarehouseOrder
			for n := range 4 {
				o := newOrder(n)
				if _, err := f.conn.SubmitOrder(f.ctx, o); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, o)
			}
			f.step(t)
			for _, o := range sent {
				got, ok := f.sim.Order(o.ExternalRef)
				if !ok {
					t.Fatalf("warehouse never received %s", o.ExternalRef)
				}
				if d := cmp.Diff(units(o.Lines), units(got.Lines)); d != "" {
					t.Errorf("%s lines (-sent +received):\n%s", o.ExternalRef, d)
				}
				if got.Request.ShipTo.City == "" {
					t.Errorf("%s arrived without its address", o.ExternalRef)
				}
			}
			f.sim.Settle(f.clock)
			f.clock.Advance(filesim.DefaultStockInterval) // a new stock snapshot is due
			f.step(t)

			var want []shipment
			for _, o := range f.sim.Orders() {
				if o.State != wmssim.StateShipped {
					t.Fatalf("%s is %s after Settle", o.ExternalRef, o.State)
				}
				for _, sh := range o.Shipments {
					want = append(want, project(sh))
				}
			}
			evs, _, err := f.conn.Events(f.ctx, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			var got []shipment
			for _, e := range evs {
				if e.Type != connector.EventShipped || e.Shipment == nil {
					t.Fatalf("unexpected event %+v", e)
				}
				for _, p := range e.Shipment.Packages {
					if p.TrackingNumber == "" {
						t.Errorf("%s: package %s without tracking", e.ExternalRef, p.ID)
					}
				}
				got = append(got, project(*e.Shipment))
			}
			byID := func(a, b shipment) int { return strings.Compare(a.ID, b.ID) }
			slices.SortFunc(want, byID)
			slices.SortFunc(got, byID)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shipments (-warehouse +connector):\n%s", d)
			}
			if len(want) <= len(sent) {
				t.Errorf("%d shipments for %d orders: no partial shipment exercised", len(want), len(sent))
			}

			snap, err := f.conn.Stock(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			gotStock := map[string][2]int{}
			for _, it := range snap.Items {
				gotStock[it.SKU] = [2]int{it.OnHand, it.Available}
			}
			wantStock := map[string][2]int{}
			for sku, it := range f.sim.Stock() {
				wantStock[sku] = [2]int{it.OnHand, it.Available}
			}
			if d := cmp.Diff(wantStock, gotStock); d != "" {
				t.Errorf("stock (-warehouse +connector):\n%s", d)
			}
			if st := f.partner.Stats(); st.FilesRejected != 0 || st.OrdersCreated != len(sent) {
				t.Errorf("partner stats %+v", st)
			}
		})
	}
}

// TestEDIAcknowledgements checks 997s both ways: every 940 group the hub
// sent is acknowledged (none left overdue), and the hub's 997s for the
// partner's 945s and 846s are read by the partner.
func TestEDIAcknowledgements(t *testing.T) {
	t.Parallel()
	f := setup(t, filesim.ProtocolEDI)
	conn := f.conn.(*ediwms.Conn)
	for n := range 3 {
		if _, err := conn.SubmitOrder(f.ctx, newOrder(n)); err != nil {
			t.Fatal(err)
		}
	}
	if len(conn.Overdue997(time.Now().Add(time.Hour), 0)) != 3 {
		t.Fatalf("3 groups sent, overdue: %v", conn.Overdue997(time.Now().Add(time.Hour), 0))
	}
	f.step(t)
	f.sim.Settle(f.clock)
	f.step(t)
	if _, _, err := conn.Events(f.ctx, "", 1000); err != nil { // reads the partner's 997s, acks its 945s
		t.Fatal(err)
	}
	if _, err := conn.Stock(f.ctx); err != nil { // acks the 846
		t.Fatal(err)
	}
	if o := conn.Overdue997(time.Now().Add(time.Hour), 0); len(o) != 0 {
		t.Errorf("groups still awaiting the partner's 997: %+v", o)
	}
	if r := conn.Rejected997(); len(r) != 0 {
		t.Errorf("groups the partner rejected: %+v", r)
	}
	f.step(t)
	st := f.partner.Stats()
	if st.AcksSent != 3 {
		t.Errorf("partner sent %d 997 sets, want one per group received (3)", st.AcksSent)
	}
	if st.AcksReceived < 2 {
		t.Errorf("partner read %d of the hub's 997 sets, want at least the 945 and 846 ones", st.AcksReceived)
	}
}

// TestCancel cancels an order the warehouse has not picked: the partner
// answers the cancel (EDI W05 F, CSV cancel file) with a shipment shipping
// nothing (a 945, a CSV shipment whose lines ship 0), which the connector
// reads as the cancellation; until then CancelOrder says it is pending.
func TestCancel(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{filesim.ProtocolCSV, filesim.ProtocolEDI} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			f := setup(t, proto)
			o := newOrder(1)
			if _, err := f.conn.SubmitOrder(f.ctx, o); err != nil {
				t.Fatal(err)
			}
			f.step(t)
			res, err := f.conn.CancelOrder(f.ctx, o.ExternalRef)
			if !errors.Is(err, ediwms.ErrCancelPending) && !errors.Is(err, csvwms.ErrCancelPending) {
				t.Fatalf("first %s cancel: %+v, %v; want pending", proto, res, err)
			}
			f.step(t)
			if got, _ := f.sim.Order(o.ExternalRef); got.State != wmssim.StateCancelled {
				t.Fatalf("warehouse order is %s, want cancelled", got.State)
			}
			evs, _, err := f.conn.Events(f.ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Type != connector.EventCancelled || evs[0].ExternalRef != o.ExternalRef {
				t.Fatalf("events %+v, want one cancelled for %s", evs, o.ExternalRef)
			}
			res, err = f.conn.CancelOrder(f.ctx, o.ExternalRef)
			if err != nil || !res.Cancelled {
				t.Fatalf("cancel after the answer: %+v, %v", res, err)
			}
		})
	}
}

// TestUnreadableFileIsRejectedWithReason puts a broken file in the inbox:
// it is moved to rejected/ beside a reason file, never dropped, and the
// files after it are still read.
func TestUnreadableFileIsRejectedWithReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ proto, name string }{
		{filesim.ProtocolCSV, "ord_0000-broken.csv"},
		{filesim.ProtocolEDI, "940_0000-broken.edi"},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tc.proto)
			if err := os.MkdirAll(filepath.Join(f.root, filesim.DefaultInbox), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(f.root, filesim.DefaultInbox, tc.name), []byte("this is not an order\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			o := newOrder(2)
			if _, err := f.conn.SubmitOrder(f.ctx, o); err != nil {
				t.Fatal(err)
			}
			f.step(t)
			for _, name := range []string{tc.name, tc.name + ".reason.txt"} {
				b, err := os.ReadFile(filepath.Join(f.root, filesim.DefaultRejected, name))
				if err != nil {
					t.Fatalf("rejected file: %v", err)
				}
				if strings.HasSuffix(name, ".txt") && len(strings.TrimSpace(string(b))) == 0 {
					t.Error("empty reason file")
				}
			}
			if _, err := os.Stat(filepath.Join(f.root, filesim.DefaultInbox, tc.name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("broken file still in the inbox: %v", err)
			}
			if _, ok := f.sim.Order(o.ExternalRef); !ok {
				t.Error("the good order after the broken file was not read")
			}
			if st := f.partner.Stats(); st.FilesRejected != 1 {
				t.Errorf("FilesRejected = %d, want 1", st.FilesRejected)
			}
		})
	}
}

// TestResubmittedOrderIsNotDuplicated: the hub sends the same order twice
// to a partner that clears its inbox (Config.Done), so the connector finds
// no earlier file and writes it again; the warehouse keeps one order.
func TestResubmittedOrderIsNotDuplicated(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{filesim.ProtocolCSV, filesim.ProtocolEDI} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			f := setup(t, proto, func(c *filesim.Config) { c.Done = "processed" })
			o := newOrder(3)
			for range 2 {
				if _, err := f.conn.SubmitOrder(f.ctx, o); err != nil {
					t.Fatal(err)
				}
				f.step(t)
			}
			if n := len(f.sim.Orders()); n != 1 {
				t.Fatalf("warehouse holds %d orders, want 1", n)
			}
			if st := f.partner.Stats(); st.OrdersCreated != 1 || st.OrdersReplayed != 1 || st.FilesRejected != 0 {
				t.Errorf("stats %+v, want 1 created and 1 replayed", st)
			}
		})
	}
}

// TestSendStockWritesASnapshotAtOnce checks that SendStock makes the next
// Step write a stock file even though StockInterval has not passed, and
// that without it none is written.
func TestSendStockWritesASnapshotAtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, filesim.ProtocolCSV)
	f.step(t) // the first snapshot
	first := f.partner.Stats().StockFiles
	f.step(t)
	if got := f.partner.Stats().StockFiles; got != first {
		t.Fatalf("stock files after a Step within StockInterval: %d, want %d", got, first)
	}
	f.sim.SetStock(map[string]int{"SKU-A": 7})
	f.partner.SendStock()
	f.step(t)
	if got := f.partner.Stats().StockFiles; got != first+1 {
		t.Fatalf("stock files after SendStock: %d, want %d", got, first+1)
	}
	snap, err := f.conn.Stock(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range snap.Items {
		if it.SKU == "SKU-A" && it.OnHand != 7 {
			t.Errorf("SKU-A on hand %d in the hub's snapshot, want 7", it.OnHand)
		}
	}
}

// TestDuplicateEventsInOnePageAreWrittenOnce checks that a shipment the
// simulator publishes twice in the same page of its feed is written once:
// each shipment the connector reads carries the order's units, not twice
// them.
func TestDuplicateEventsInOnePageAreWrittenOnce(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{filesim.ProtocolCSV, filesim.ProtocolEDI} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			f := setup(t, proto)
			f.sim.SetDuplicateEventRate(1)
			f.sim.SetPartialShipRate(0)
			o := newOrder(1)
			if _, err := f.conn.SubmitOrder(f.ctx, o); err != nil {
				t.Fatal(err)
			}
			f.step(t)
			f.sim.Settle(f.clock)
			f.step(t)
			evs, _, err := f.conn.Events(f.ctx, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			ordered := map[string]int{}
			for _, l := range o.Lines {
				ordered[l.SKU] += l.Quantity
			}
			shipped := map[string]int{}
			n := 0
			for _, e := range evs {
				if e.Type != connector.EventShipped || e.Shipment == nil {
					continue
				}
				n++
				for _, l := range e.Shipment.Lines {
					shipped[l.SKU] += l.Quantity
				}
			}
			if n == 0 {
				t.Fatal("no shipment read")
			}
			if d := cmp.Diff(ordered, shipped); d != "" {
				t.Errorf("units shipped (-ordered +read):\n%s", d)
			}
		})
	}
}
