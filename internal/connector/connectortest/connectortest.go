// Package connectortest is a conformance suite for connector.WMS
// implementations. A connector's tests call Run with the capabilities its
// warehouse has and a function that builds a fresh Harness (a connector
// wired to a warehouse the test controls) for each case.
//
// The harness contract: the warehouse does not move orders forward on its
// own between calls; it moves them only in Settle. Every case builds its own
// harness, so cases run in parallel and never share a warehouse.
package connectortest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Features are the capabilities a connector and its harness support; a case
// that needs a missing capability is skipped.
type Features struct {
	// Cancel: CancelOrder answers synchronously, accepting a cancel before
	// picking and refusing one after shipping.
	Cancel bool
	// Conflict: submitting a known external reference with different lines
	// fails with a permanent error.
	Conflict bool
	// MultiPackage: Harness.SetMultiPackage can make the warehouse ship an
	// order in several packages.
	MultiPackage bool
	// DuplicateEvents: Harness.SetDuplicateEvents can make the warehouse
	// deliver events twice.
	DuplicateEvents bool
	// Outage: Harness.SetDown can take the warehouse down.
	Outage bool
	// Stock: Harness.SetStock sets on-hand quantities and Stock reports
	// on_hand after shipments.
	Stock bool
}

// Harness is a connector wired to a warehouse the test drives. Hooks needed
// only by a feature may be nil when the feature is off.
type Harness struct {
	// WMS is the connector under test.
	WMS connector.WMS
	// Settle moves the warehouse until every order that can progress has
	// shipped or been cancelled (orders waiting for stock may stay), and
	// the resulting events are visible through WMS.Events. Required.
	Settle func(t *testing.T)
	// SetStock sets the on-hand quantity of the listed SKUs. If nil, the
	// warehouse must be able to fill any order.
	SetStock func(t *testing.T, onHand map[string]int)
	// SetDown starts (true) or ends (false) an outage.
	SetDown func(t *testing.T, down bool)
	// SetDuplicateEvents sets the probability that an event is delivered
	// twice.
	SetDuplicateEvents func(t *testing.T, rate float64)
	// SetMultiPackage sets the fraction of orders shipped in several
	// packages.
	SetMultiPackage func(t *testing.T, rate float64)
}

// PageSize is the limit the suite passes to Events when it drains the feed.
const PageSize = 50

var refSeq atomic.Int64

// runID keeps references unique across runs against a persistent peer.
var runID = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

// Ref returns a new external reference unique to this process and run.
func Ref(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, runID, refSeq.Add(1))
}

// NewOrder returns a valid warehouse order for ref with the given lines; a
// line with LineNo 0 is numbered by its position.
func NewOrder(ref string, lines ...order.Line) *order.WarehouseOrder {
	o := &order.WarehouseOrder{
		ExternalRef:        ref,
		Shop:               "conformance.myshopify.com",
		Warehouse:          "conformance",
		OrderID:            "gid://shopify/Order/" + ref,
		OrderName:          "#" + ref,
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/" + ref,
		ShippingMethod:     "Standard",
		ShipTo: order.Address{Name: "Camille Dupont", Address1: "12 rue de la Paix", City: "Paris",
			PostalCode: "75002", CountryCode: "FR", Email: "camille@example.com"},
		PlacedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
	}
	for i, l := range lines {
		if l.LineNo == 0 {
			l.LineNo = i + 1
		}
		if l.FulfillmentOrderLineItemID == "" {
			l.FulfillmentOrderLineItemID = fmt.Sprintf("gid://shopify/FulfillmentOrderLineItem/%s-%d", ref, l.LineNo)
		}
		o.Lines = append(o.Lines, l)
	}
	return o
}

// Drain reads events from cursor until an empty page, checking that no page
// exceeds limit, and returns them with the final cursor.
func Drain(t *testing.T, w connector.WMS, cursor string, limit int) ([]connector.Event, string) {
	t.Helper()
	var all []connector.Event
	for range 10000 {
		evs, next, err := w.Events(t.Context(), cursor, limit)
		if err != nil {
			t.Fatalf("Events(%q, %d): %v", cursor, limit, err)
		}
		if limit > 0 && len(evs) > limit {
			t.Fatalf("Events(%q, %d) returned %d events", cursor, limit, len(evs))
		}
		if len(evs) == 0 {
			return all, next
		}
		if next == cursor {
			t.Fatalf("Events(%q, %d) returned %d events but did not advance the cursor", cursor, limit, len(evs))
		}
		cursor = next
		all = append(all, evs...)
	}
	t.Fatal("event feed does not end after 10000 pages")
	return nil, ""
}

// Dedupe keeps the first event of each id, in order.
func Dedupe(evs []connector.Event) []connector.Event {
	seen := make(map[string]bool, len(evs))
	var out []connector.Event
	for _, e := range evs {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

type suiteCase struct {
	name string
	need func(Features) bool
	run  func(t *testing.T, h Harness)
}

// Run runs the conformance suite. newHarness is called once per case, in the
// case's (parallel) subtest.
func Run(t *testing.T, f Features, newHarness func(t *testing.T) Harness) {
	cases := []suiteCase{
		{"SubmitIdempotent", nil, testSubmitIdempotent},
		{"SubmitConflict", func(f Features) bool { return f.Conflict }, testSubmitConflict},
		{"SubmitInvalidIsPermanent", nil, testSubmitInvalid},
		{"CancelBeforePicking", func(f Features) bool { return f.Cancel }, testCancelBeforePicking},
		{"CancelAfterShipped", func(f Features) bool { return f.Cancel }, testCancelAfterShipped},
		{"ShippedWithTracking", nil, testShipped},
		{"MultiPackage", func(f Features) bool { return f.MultiPackage }, testMultiPackage},
		{"DuplicateEventsDeduplicated", func(f Features) bool { return f.DuplicateEvents }, testDuplicateEvents},
		{"CursorResumes", nil, testCursorResumes},
		{"StockAfterShipment", func(f Features) bool { return f.Stock }, testStock},
		{"OutageIsRetryable", func(f Features) bool { return f.Outage }, testOutage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.need != nil && !c.need(f) {
				t.Skip("feature not supported by this connector")
			}
			h := newHarness(t)
			checkHarness(t, f, h)
			c.run(t, h)
		})
	}
}

func checkHarness(t *testing.T, f Features, h Harness) {
	t.Helper()
	missing := func(name string, ok bool) {
		if !ok {
			t.Fatalf("harness: %s is nil", name)
		}
	}
	missing("WMS", h.WMS != nil)
	missing("Settle", h.Settle != nil)
	missing("SetStock (Features.Stock)", !f.Stock || h.SetStock != nil)
	missing("SetDown (Features.Outage)", !f.Outage || h.SetDown != nil)
	missing("SetDuplicateEvents (Features.DuplicateEvents)", !f.DuplicateEvents || h.SetDuplicateEvents != nil)
	missing("SetMultiPackage (Features.MultiPackage)", !f.MultiPackage || h.SetMultiPackage != nil)
}

func stock(t *testing.T, h Harness, onHand map[string]int) {
	t.Helper()
	if h.SetStock != nil {
		h.SetStock(t, onHand)
	}
}

func submit(t *testing.T, w connector.WMS, o *order.WarehouseOrder) connector.SubmitResult {
	t.Helper()
	res, err := w.SubmitOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("SubmitOrder(%s): %v", o.ExternalRef, err)
	}
	if res.WMSOrderID == "" {
		t.Fatalf("SubmitOrder(%s): empty WMSOrderID", o.ExternalRef)
	}
	return res
}

// progressOf maps the forward event types to order progress.
var progressOf = map[connector.EventType]order.Progress{
	connector.EventAcknowledged: order.ProgressAcknowledged,
	connector.EventPicking:      order.ProgressPicking,
	connector.EventPacked:       order.ProgressPacked,
	connector.EventShipped:      order.ProgressShipped,
}

// checkEvents checks the deduplicated events: each has an id, a type, a
// reference and a time; an order's forward events never go back.
func checkEvents(t *testing.T, evs []connector.Event) map[string][]connector.Event {
	t.Helper()
	byRef := map[string][]connector.Event{}
	last := map[string]order.Progress{}
	for _, e := range evs {
		if e.ID == "" || e.Type == "" || e.ExternalRef == "" || e.At.IsZero() {
			t.Errorf("incomplete event %+v", e)
		}
		if p, ok := progressOf[e.Type]; ok {
			if p < last[e.ExternalRef] {
				t.Errorf("%s: event %s (%s) after %s", e.ExternalRef, e.ID, e.Type, last[e.ExternalRef])
			}
			last[e.ExternalRef] = p
		}
		byRef[e.ExternalRef] = append(byRef[e.ExternalRef], e)
	}
	return byRef
}

// checkShipped checks that o was shipped in full by the shipped events
// among evs, with tracking on every package, and returns the packages.
func checkShipped(t *testing.T, o *order.WarehouseOrder, evs []connector.Event) []order.Package {
	t.Helper()
	want := map[int]int{}
	for _, l := range o.Lines {
		want[l.LineNo] += l.Quantity
	}
	got := map[int]int{}
	var pkgs []order.Package
	shipped := 0
	for _, e := range evs {
		if e.Type != connector.EventShipped {
			continue
		}
		shipped++
		sh := e.Shipment
		if sh == nil {
			t.Fatalf("%s: shipped event %s has no shipment", o.ExternalRef, e.ID)
		}
		if sh.ID == "" || sh.ExternalRef != o.ExternalRef || sh.ShippedAt.IsZero() {
			t.Errorf("%s: shipment %q ref %q shipped at %v", o.ExternalRef, sh.ID, sh.ExternalRef, sh.ShippedAt)
		}
		if len(sh.Packages) == 0 {
			t.Errorf("%s: shipment %s has no package", o.ExternalRef, sh.ID)
		}
		inShipment := map[int]int{}
		for _, l := range sh.Lines {
			got[l.LineNo] += l.Quantity
			inShipment[l.LineNo] += l.Quantity
		}
		inPackages := map[int]int{}
		withLines := false
		for _, p := range sh.Packages {
			if p.TrackingNumber == "" {
				t.Errorf("%s: package %q has no tracking number", o.ExternalRef, p.ID)
			}
			for _, l := range p.Lines {
				withLines = true
				inPackages[l.LineNo] += l.Quantity
			}
			pkgs = append(pkgs, p)
		}
		if withLines {
			if d := cmp.Diff(inShipment, inPackages); d != "" {
				t.Errorf("%s: package contents differ from shipment %s lines (-shipment +packages):\n%s", o.ExternalRef, sh.ID, d)
			}
		}
	}
	if shipped == 0 {
		t.Fatalf("%s: no shipped event among %d events", o.ExternalRef, len(evs))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: shipped quantities per line (-ordered +shipped):\n%s", o.ExternalRef, d)
	}
	return pkgs
}

func testSubmitIdempotent(t *testing.T, h Harness) {
	o := NewOrder(Ref("idem"), order.Line{SKU: "IDEM-A", Quantity: 2}, order.Line{SKU: "IDEM-B", Quantity: 1})
	stock(t, h, map[string]int{"IDEM-A": 10, "IDEM-B": 10})
	first := submit(t, h.WMS, o)
	if !first.Created {
		t.Errorf("first SubmitOrder: Created false")
	}
	again := submit(t, h.WMS, o)
	if again.Created {
		t.Errorf("replayed SubmitOrder: Created true")
	}
	if again.WMSOrderID != first.WMSOrderID {
		t.Errorf("replay WMSOrderID %q, first %q", again.WMSOrderID, first.WMSOrderID)
	}
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	byRef := checkEvents(t, Dedupe(evs))
	checkShipped(t, o, byRef[o.ExternalRef])
	n := 0
	for _, e := range byRef[o.ExternalRef] {
		if e.Type == connector.EventShipped {
			n++
		}
	}
	if n != 1 {
		t.Errorf("order submitted twice shipped %d times", n)
	}
}

func testSubmitConflict(t *testing.T, h Harness) {
	ref := Ref("conflict")
	submit(t, h.WMS, NewOrder(ref, order.Line{SKU: "CONF-A", Quantity: 1}))
	_, err := h.WMS.SubmitOrder(t.Context(), NewOrder(ref, order.Line{SKU: "CONF-A", Quantity: 5}))
	if err == nil || !connector.IsPermanent(err) {
		t.Fatalf("resubmission with different lines: err = %v, want a permanent error", err)
	}
}

func testSubmitInvalid(t *testing.T, h Harness) {
	for name, o := range map[string]*order.WarehouseOrder{
		"no lines":      NewOrder(Ref("invalid")),
		"zero quantity": NewOrder(Ref("invalid"), order.Line{SKU: "INV-A", Quantity: 0}),
		"no address": func() *order.WarehouseOrder {
			o := NewOrder(Ref("invalid"), order.Line{SKU: "INV-A", Quantity: 1})
			o.ShipTo = order.Address{}
			return o
		}(),
	} {
		_, err := h.WMS.SubmitOrder(t.Context(), o)
		if err == nil || !connector.IsPermanent(err) {
			t.Errorf("%s: err = %v, want a permanent error", name, err)
		}
	}
}

func testCancelBeforePicking(t *testing.T, h Harness) {
	o := NewOrder(Ref("cancel"), order.Line{SKU: "CAN-A", Quantity: 1})
	stock(t, h, map[string]int{"CAN-A": 5})
	submit(t, h.WMS, o)
	for i := range 2 { // the second cancel is a replay
		res, err := h.WMS.CancelOrder(t.Context(), o.ExternalRef)
		if err != nil {
			t.Fatalf("CancelOrder #%d: %v", i+1, err)
		}
		if !res.Cancelled {
			t.Fatalf("CancelOrder #%d before picking refused: %q", i+1, res.Reason)
		}
	}
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	var cancelled bool
	for _, e := range checkEvents(t, Dedupe(evs))[o.ExternalRef] {
		switch e.Type {
		case connector.EventCancelled:
			cancelled = true
		case connector.EventPicking, connector.EventPacked, connector.EventShipped:
			t.Errorf("cancelled order got event %s (%s)", e.ID, e.Type)
		}
	}
	if !cancelled {
		t.Error("no cancelled event in the feed")
	}
}

func testCancelAfterShipped(t *testing.T, h Harness) {
	o := NewOrder(Ref("late-cancel"), order.Line{SKU: "LATE-A", Quantity: 1})
	stock(t, h, map[string]int{"LATE-A": 5})
	submit(t, h.WMS, o)
	h.Settle(t)
	res, err := h.WMS.CancelOrder(t.Context(), o.ExternalRef)
	if err != nil {
		t.Fatalf("CancelOrder: %v", err)
	}
	if res.Cancelled || res.Reason == "" {
		t.Fatalf("CancelOrder after shipping = %+v, want refused with a reason", res)
	}
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	byRef := checkEvents(t, Dedupe(evs))
	checkShipped(t, o, byRef[o.ExternalRef])
	for _, e := range byRef[o.ExternalRef] {
		if e.Type == connector.EventCancelled {
			t.Errorf("shipped order got a cancelled event %s", e.ID)
		}
	}
}

func testShipped(t *testing.T, h Harness) {
	stock(t, h, map[string]int{"SHIP-A": 20, "SHIP-B": 20})
	orders := []*order.WarehouseOrder{
		NewOrder(Ref("ship"), order.Line{SKU: "SHIP-A", Quantity: 1}),
		NewOrder(Ref("ship"), order.Line{SKU: "SHIP-A", Quantity: 2}, order.Line{SKU: "SHIP-B", Quantity: 3}),
		NewOrder(Ref("ship"), order.Line{LineNo: 7, SKU: "SHIP-B", Quantity: 1}),
	}
	for _, o := range orders {
		submit(t, h.WMS, o)
	}
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	byRef := checkEvents(t, Dedupe(evs))
	tracking := map[string]string{}
	for _, o := range orders {
		for _, p := range checkShipped(t, o, byRef[o.ExternalRef]) {
			if prev, dup := tracking[p.TrackingNumber]; dup {
				t.Errorf("tracking number %s used by %s and %s", p.TrackingNumber, prev, o.ExternalRef)
			}
			tracking[p.TrackingNumber] = o.ExternalRef
		}
	}
}

func testMultiPackage(t *testing.T, h Harness) {
	h.SetMultiPackage(t, 1)
	stock(t, h, map[string]int{"MULTI-A": 50, "MULTI-B": 50})
	o := NewOrder(Ref("multi"), order.Line{SKU: "MULTI-A", Quantity: 4}, order.Line{SKU: "MULTI-B", Quantity: 3})
	submit(t, h.WMS, o)
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	pkgs := checkShipped(t, o, checkEvents(t, Dedupe(evs))[o.ExternalRef])
	if len(pkgs) < 2 {
		t.Fatalf("%d package(s), want several", len(pkgs))
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if seen[p.TrackingNumber] {
			t.Errorf("tracking number %s repeated across packages", p.TrackingNumber)
		}
		seen[p.TrackingNumber] = true
	}
}

func testDuplicateEvents(t *testing.T, h Harness) {
	h.SetDuplicateEvents(t, 1)
	stock(t, h, map[string]int{"DUP-A": 50})
	var orders []*order.WarehouseOrder
	for range 3 {
		o := NewOrder(Ref("dup"), order.Line{SKU: "DUP-A", Quantity: 1})
		submit(t, h.WMS, o)
		orders = append(orders, o)
	}
	h.Settle(t)

	// A consumer that keeps its cursor and dedupes on id, reading small
	// pages so that copies can straddle pages.
	cursor := ""
	seen := map[string]connector.Event{}
	var unique []connector.Event
	raw := 0
	for range 10000 {
		evs, next, err := h.WMS.Events(t.Context(), cursor, 3)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(evs) == 0 {
			break
		}
		if next == cursor {
			t.Fatalf("Events(%q) returned %d events but did not advance the cursor", cursor, len(evs))
		}
		cursor = next
		for _, e := range evs {
			raw++
			if prev, ok := seen[e.ID]; ok {
				if d := cmp.Diff(prev, e); d != "" {
					t.Errorf("event %s delivered twice with different content:\n%s", e.ID, d)
				}
				continue
			}
			seen[e.ID] = e
			unique = append(unique, e)
		}
	}
	if raw <= len(unique) {
		t.Fatalf("%d events delivered, %d unique: no duplicate was injected", raw, len(unique))
	}
	byRef := checkEvents(t, unique)
	for _, o := range orders {
		n := 0
		for _, e := range byRef[o.ExternalRef] {
			if e.Type == connector.EventShipped {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d shipped events after dedupe, want 1", o.ExternalRef, n)
		}
		checkShipped(t, o, byRef[o.ExternalRef])
	}
	if evs, _ := Drain(t, h.WMS, cursor, PageSize); len(evs) != 0 {
		t.Errorf("%d events after the stored cursor, want none", len(evs))
	}
}

func ids(evs []connector.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testCursorResumes(t *testing.T, h Harness) {
	stock(t, h, map[string]int{"CUR-A": 100})
	var first []*order.WarehouseOrder
	for range 4 {
		o := NewOrder(Ref("cursor"), order.Line{SKU: "CUR-A", Quantity: 1})
		submit(t, h.WMS, o)
		first = append(first, o)
	}
	h.Settle(t)

	// Page through with a small limit, remembering every cursor.
	const limit = 2
	cursors := []string{""}
	var paged [][]connector.Event
	for range 10000 {
		evs, next, err := h.WMS.Events(t.Context(), cursors[len(cursors)-1], limit)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(evs) > limit {
			t.Fatalf("Events returned %d events for limit %d", len(evs), limit)
		}
		if len(evs) == 0 {
			break
		}
		if next == cursors[len(cursors)-1] {
			t.Fatalf("Events(%q) returned %d events but did not advance the cursor", next, len(evs))
		}
		paged = append(paged, evs)
		cursors = append(cursors, next)
	}
	var all []connector.Event
	for _, p := range paged {
		all = append(all, p...)
	}
	if got := Dedupe(all); len(got) != len(all) {
		t.Errorf("feed repeats %d events with duplicates off", len(all)-len(got))
	}
	whole, end := Drain(t, h.WMS, "", 0)
	if d := cmp.Diff(ids(whole), ids(all)); d != "" {
		t.Errorf("paged read differs from one read (-whole +paged):\n%s", d)
	}
	// Re-reading from a stored cursor (a consumer that crashed before
	// committing) returns the same events.
	if len(paged) > 1 {
		again, _, err := h.WMS.Events(t.Context(), cursors[1], limit)
		if err != nil {
			t.Fatalf("Events(replay): %v", err)
		}
		if d := cmp.Diff(ids(paged[1]), ids(again)); d != "" {
			t.Errorf("re-read from a stored cursor differs (-first +again):\n%s", d)
		}
	}
	byRef := checkEvents(t, all)
	for _, o := range first {
		checkShipped(t, o, byRef[o.ExternalRef])
	}

	// New activity is read from the stored cursor, and only it.
	last := cursors[len(cursors)-1]
	if evs, _ := Drain(t, h.WMS, last, limit); len(evs) != 0 {
		t.Fatalf("%d events after the end cursor before new activity", len(evs))
	}
	more := NewOrder(Ref("cursor"), order.Line{SKU: "CUR-A", Quantity: 2})
	submit(t, h.WMS, more)
	h.Settle(t)
	newer, _ := Drain(t, h.WMS, last, limit)
	old := map[string]bool{}
	for _, e := range all {
		old[e.ID] = true
	}
	for _, e := range newer {
		if old[e.ID] {
			t.Errorf("event %s (%s %s) read again after the stored cursor", e.ID, e.Type, e.ExternalRef)
		}
		if e.ExternalRef != more.ExternalRef {
			t.Errorf("event %s for %s after the stored cursor; only %s changed", e.ID, e.ExternalRef, more.ExternalRef)
		}
	}
	checkShipped(t, more, checkEvents(t, newer)[more.ExternalRef])
	if end == "" {
		t.Error("Events returned an empty cursor after reading events")
	}
}

func testStock(t *testing.T, h Harness) {
	h.SetStock(t, map[string]int{"STK-A": 10, "STK-B": 5})
	snap := stockOf(t, h.WMS)
	for sku, want := range map[string]int{"STK-A": 10, "STK-B": 5} {
		if it, ok := snap[sku]; !ok || it.OnHand != want || it.Available != want {
			t.Errorf("before: %s = %+v, want on_hand = available = %d", sku, it, want)
		}
	}
	o := NewOrder(Ref("stock"), order.Line{SKU: "STK-A", Quantity: 3}, order.Line{SKU: "STK-B", Quantity: 5})
	submit(t, h.WMS, o)
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	checkShipped(t, o, checkEvents(t, Dedupe(evs))[o.ExternalRef])
	snap = stockOf(t, h.WMS)
	for sku, want := range map[string]int{"STK-A": 7, "STK-B": 0} {
		if snap[sku].OnHand != want || snap[sku].Available != want {
			t.Errorf("after shipment: %s = %+v, want on_hand = available = %d", sku, snap[sku], want)
		}
	}
}

// stockOf reads a snapshot and indexes it by SKU; a SKU missing from a full
// snapshot reads as zero.
func stockOf(t *testing.T, w connector.WMS) map[string]connector.StockItem {
	t.Helper()
	s, err := w.Stock(t.Context())
	if err != nil {
		t.Fatalf("Stock: %v", err)
	}
	if s.AsOf.IsZero() {
		t.Error("stock snapshot has no as_of")
	}
	m := map[string]connector.StockItem{}
	for _, it := range s.Items {
		if _, dup := m[it.SKU]; dup {
			t.Errorf("SKU %s listed twice", it.SKU)
		}
		if it.Available > it.OnHand {
			t.Errorf("%s: available %d > on_hand %d", it.SKU, it.Available, it.OnHand)
		}
		m[it.SKU] = it
	}
	return m
}

func testOutage(t *testing.T, h Harness) {
	stock(t, h, map[string]int{"OUT-A": 10})
	o := NewOrder(Ref("outage"), order.Line{SKU: "OUT-A", Quantity: 1})
	h.SetDown(t, true)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	retryable := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s during an outage succeeded", what)
		} else if connector.IsPermanent(err) {
			t.Errorf("%s during an outage: permanent error %v", what, err)
		}
	}
	_, err := h.WMS.SubmitOrder(ctx, o)
	retryable("SubmitOrder", err)
	_, _, err = h.WMS.Events(ctx, "", PageSize)
	retryable("Events", err)
	_, err = h.WMS.Stock(ctx)
	retryable("Stock", err)

	h.SetDown(t, false)
	submit(t, h.WMS, o) // Created may be false if the failed call got through
	h.Settle(t)
	evs, _ := Drain(t, h.WMS, "", PageSize)
	checkShipped(t, o, checkEvents(t, Dedupe(evs))[o.ExternalRef])
}
