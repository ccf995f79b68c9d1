package ediwms_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/x12"
)

// setupWith is setup with a profile and a state directory of the test's own.
func setupWith(t *testing.T, p ediwms.Profile, stateDir string) env {
	t.Helper()
	root := t.TempDir()
	local, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &connectortest.FlakyDrop{Drop: local}
	conn, err := ediwms.New(ediwms.Config{Drop: flaky, NoStableWait: true, Profile: p, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{ediwms.DefaultOut, ediwms.DefaultIn, ediwms.DefaultArchive} {
		if err := local.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	return env{root: root, flaky: flaky, conn: conn, wh: newFake(t, local)}
}

// reopen builds a new connector on the same drop and state directory: a
// restarted process.
func reopen(t *testing.T, e env, p ediwms.Profile, stateDir string) *ediwms.Conn {
	t.Helper()
	conn, err := ediwms.New(ediwms.Config{Drop: e.flaky, NoStableWait: true, Profile: p, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func parse940(t *testing.T, data []byte) (*x12.Interchange, ediwms.Order940) {
	t.Helper()
	ics, warns, err := x12.Parse(bytes.NewReader(data))
	if err != nil || len(warns) > 0 || len(ics) != 1 {
		t.Fatalf("940 does not parse cleanly: %v %v\n%s", err, warns, data)
	}
	o, ws, err := ediwms.Read940(ics[0].Groups[0].Sets[0])
	if err != nil || len(ws) > 0 {
		t.Fatalf("Read940: %v %v", err, ws)
	}
	return ics[0], o
}

// TestStateDirSurvivesRestart: with state_dir, a restarted connector
// continues the control numbers (no ISA13/GS06 is reused) and still lists
// the 940s whose 997 never came (Overdue997); once the 997 is read, another
// restart no longer lists it.
func TestStateDirSurvivesRestart(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	e := setupWith(t, testProfile, stateDir)
	e.wh.noAck = true
	submit(t, e.conn, connectortest.NewOrder("st-1", order.Line{SKU: "A", Quantity: 1}))
	submit(t, e.conn, connectortest.NewOrder("st-2", order.Line{SKU: "B", Quantity: 1}))
	first, _ := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_st-1.edi"))
	second, _ := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_st-2.edi"))

	conn := reopen(t, e, testProfile, stateDir)
	later := time.Now().Add(3 * time.Hour)
	var overdue []string
	for _, g := range conn.Overdue997(later, 2*time.Hour) {
		overdue = append(overdue, g.FunctionalID+" "+g.Control)
	}
	want := []string{"OW " + first.Groups[0].ControlNumber(), "OW " + second.Groups[0].ControlNumber()}
	if diff := cmp.Diff(want, overdue); diff != "" {
		t.Errorf("overdue after restart (-want +got):\n%s", diff)
	}
	submit(t, conn, connectortest.NewOrder("st-3", order.Line{SKU: "C", Quantity: 1}))
	third, _ := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_st-3.edi"))
	for _, prev := range []*x12.Interchange{first, second} {
		if third.ControlNumber() == prev.ControlNumber() || third.Groups[0].ControlNumber() == prev.Groups[0].ControlNumber() {
			t.Errorf("control numbers reused after restart: ISA13 %s GS06 %s", third.ControlNumber(), third.Groups[0].ControlNumber())
		}
	}

	e.wh.put("997", e.wh.encode(x12.AckInterchange(first, x12.AckOptions{}, time.Now())))
	if _, _, err := conn.Events(t.Context(), "", 10); err != nil {
		t.Fatal(err)
	}
	again := reopen(t, e, testProfile, stateDir)
	overdue = nil
	for _, g := range again.Overdue997(later, 2*time.Hour) {
		overdue = append(overdue, g.Control)
	}
	if diff := cmp.Diff([]string{second.Groups[0].ControlNumber(), third.Groups[0].ControlNumber()}, overdue); diff != "" {
		t.Errorf("overdue after the 997 and a restart (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(x12.StatePath(stateDir, "01:ACME3PL")); err != nil {
		t.Errorf("state file: %v", err)
	}
}

// TestAmendOrder: AmendOrder writes the whole order again with W05 R under
// a numbered name, once per distinct content; the original and the amended
// order both resubmit without conflict; the warehouse ships the amended
// lines; an order cancelled or never sent cannot be amended.
func TestAmendOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	o := connectortest.NewOrder("am-1", order.Line{SKU: "A", Quantity: 1}, order.Line{SKU: "B", Quantity: 1})
	submit(t, e.conn, o)
	changed := *o
	changed.Lines = []order.Line{{LineNo: 1, SKU: "A", Quantity: 3}}
	changed.ShipTo.Address2 = "Batiment C"
	for range 2 {
		if err := e.conn.AmendOrder(t.Context(), &changed); err != nil {
			t.Fatal(err)
		}
	}
	if exists(e.root, ediwms.DefaultOut+"/940R_am-1.2.edi") {
		t.Error("the same amendment was written twice")
	}
	_, got := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940R_am-1.1.edi"))
	if got.Purpose != "R" || got.Order.ShipTo.Address2 != "Batiment C" || !slices.Equal(got.Order.Lines, []order.Line{{LineNo: 1, SKU: "A", Quantity: 3}}) {
		t.Errorf("amendment = %+v", got)
	}
	for _, again := range []*order.WarehouseOrder{o, &changed} {
		if res, err := e.conn.SubmitOrder(t.Context(), again); err != nil || res.Created {
			t.Errorf("resubmit %v: %+v, %v; want Created false", again.Lines, res, err)
		}
	}
	e.wh.settle()
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 1 || !slices.Equal(evs[0].Shipment.Lines, []order.ShipmentLine{{LineNo: 1, SKU: "A", Quantity: 3}}) {
		t.Fatalf("shipment after the amendment = %+v", evs)
	}

	c := connectortest.NewOrder("am-2", order.Line{SKU: "A", Quantity: 1})
	submit(t, e.conn, c)
	if _, err := e.conn.CancelOrder(t.Context(), c.ExternalRef); !connector.IsPermanent(err) && err == nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := e.conn.AmendOrder(t.Context(), c); !connector.IsPermanent(err) {
		t.Errorf("amend after cancel: %v, want permanent", err)
	}
	if err := e.conn.AmendOrder(t.Context(), connectortest.NewOrder("am-none", order.Line{SKU: "A", Quantity: 1})); !connector.IsPermanent(err) {
		t.Errorf("amend of an order never sent: %v, want permanent", err)
	}
}

// TestCancelUnansweredAndRestart: the time a cancel was sent survives a
// restart (state_dir), and with no answer within CancelAnswerWithin the
// cancel becomes a permanent error for the operator, not a guess.
func TestCancelUnansweredAndRestart(t *testing.T) {
	t.Parallel()
	stateDir := t.TempDir()
	root := t.TempDir()
	local, _ := filedrop.NewLocal(root)
	now := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := ediwms.Config{Drop: local, NoStableWait: true, Profile: testProfile, StateDir: stateDir, Now: clock, CancelAnswerWithin: 24 * time.Hour}
	conn, err := ediwms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, conn, connectortest.NewOrder("cu-1", order.Line{SKU: "A", Quantity: 1}))
	if _, err := conn.CancelOrder(t.Context(), "cu-1"); !errors.Is(err, ediwms.ErrCancelPending) {
		t.Fatalf("first cancel: %v", err)
	}
	now = now.Add(23 * time.Hour)
	restarted, err := ediwms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.CancelOrder(t.Context(), "cu-1"); !errors.Is(err, ediwms.ErrCancelPending) {
		t.Fatalf("cancel after restart within the limit: %v", err)
	}
	now = now.Add(2 * time.Hour)
	_, err = restarted.CancelOrder(t.Context(), "cu-1")
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "no answer from the warehouse") || !strings.Contains(err.Error(), "2026-03-03T08:00:00Z") {
		t.Fatalf("cancel unanswered for 25h: %v, want permanent naming the time it was sent", err)
	}
}

// testdataPartnerHeader wraps bare sets in a partner envelope.
func partnerFile(t *testing.T, wh *fake3PL, fid string, sets ...*x12.TransactionSet) []byte {
	t.Helper()
	return wh.encode(wh.envelope(fid, sets...))
}

// TestMovements: the real 944 sample (stupidedi RE944) and a 947 with a
// decrease, an increase, a signed count and a case quantity become
// StockMovements with stable ids, dates and reasons, page by page with a
// cursor; a re-read from the start gives the same ids; a 947 with a line
// without an item id goes to error/ with the reason and no movement of it
// is returned; every file's groups get a 997.
func TestMovements(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.UOMFactors = map[string]int{"CS": 12}
	e := setupWith(t, p, "")
	sample := readFile(t, "../../x12/testdata/stupidedi", "004010-RE944-pass-1.edi")
	if err := e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "944_a.edi", sample); err != nil {
		t.Fatal(err)
	}
	adj := &x12.TransactionSet{ST: x12.NewSegment("ST", "947", ""), Segments: []x12.Segment{
		x12.NewSegment("W15", "20260305", "ADJ-9"),
		x12.NewSegment("LX", "1"), x12.NewSegment("W19", "AV", "2", "EA", "", "SK", "SKU-1"),
		x12.NewSegment("LX", "2"), x12.NewSegment("W19", "56", "1", "CS", "", "VN", "SKU-2"),
		x12.NewSegment("LX", "3"), x12.NewSegment("W19", "AA", "-3", "EA", "", "SK", "SKU-3"),
	}}
	e.wh.put("947", partnerFile(t, e.wh, "AW", adj))
	bad := &x12.TransactionSet{ST: x12.NewSegment("ST", "947", ""), Segments: []x12.Segment{
		x12.NewSegment("W15", "20260305", "ADJ-10"), x12.NewSegment("W19", "06", "1", "EA"),
	}}
	badName := e.wh.put("947", partnerFile(t, e.wh, "AW", bad))

	page1, cur, err := e.conn.Movements(t.Context(), "", 1)
	if err != nil || len(page1) != 1 || cur != "944_a.edi" {
		t.Fatalf("page 1 = %+v, %q, %v", page1, cur, err)
	}
	page2, cur2, err := e.conn.Movements(t.Context(), cur, 10)
	if err != nil || cur2 != badName {
		t.Fatalf("page 2 = %+v, %q, %v", page2, cur2, err)
	}
	d := func(s string) time.Time { t, _ := time.Parse("20060102", s); return t }
	want := []connector.StockMovement{
		{ID: "944:2607141200:000000001:1:0001-1", SKU: "ITEM123", Delta: 100, Reason: "receipt WR12345 for DO12345", At: d("20260714")},
		{ID: "947:2603030800:000000001:1:0001-1", SKU: "SKU-1", Delta: -2, Reason: "adjustment AV (ADJ-9)", At: d("20260305")},
		{ID: "947:2603030800:000000001:1:0001-2", SKU: "SKU-2", Delta: 12, Reason: "adjustment 56 (ADJ-9)", At: d("20260305")},
		{ID: "947:2603030800:000000001:1:0001-3", SKU: "SKU-3", Delta: -3, Reason: "adjustment AA (ADJ-9)", At: d("20260305")},
	}
	if diff := cmp.Diff(want, append(page1, page2...)); diff != "" {
		t.Errorf("movements (-want +got):\n%s", diff)
	}
	if r := readFile(t, e.root, ediwms.DefaultError+"/"+badName+".reason.txt"); !bytes.Contains(r, []byte("has no item id")) {
		t.Errorf("reason for the bad 947: %s", r)
	}
	for _, n := range []string{"997_944_a.edi", "997_947_000001.edi", "997_" + strings.TrimSuffix(badName, ".edi") + ".edi"} {
		if !exists(e.root, ediwms.DefaultOut+"/"+n) {
			t.Errorf("no %s", n)
		}
	}
	if _, _, err := e.conn.Movements(t.Context(), cur2, 10); err != nil { // commits: archives
		t.Fatal(err)
	}
	replay, _, err := e.conn.Movements(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, replay); diff != "" {
		t.Errorf("replay from the start (-want +got):\n%s", diff)
	}
	if evs, _ := connectortest.Drain(t, e.conn, "", 10); len(evs) != 0 {
		t.Errorf("movement files leaked into Events: %+v", evs)
	}
	// The partner resends the 944 unchanged under a new name (one that
	// sorts after the cursor; either prefix reaches Movements): same ids.
	if err := e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "947_zz_resent.edi", sample); err != nil {
		t.Fatal(err)
	}
	resent, _, err := e.conn.Movements(t.Context(), cur2, 10)
	if err != nil || len(resent) != 1 || resent[0].ID != want[0].ID {
		t.Errorf("resent 944 = %+v, %v; want the id %s again", resent, err, want[0].ID)
	}
}

// TestPartialStockAndUnknownFiles: with stock_scope partial, the 846 files
// are merged (the newest wins per SKU, quantities in cases converted) into a
// snapshot that is not Full; files returned once are archived by the next
// call. A file whose name no reader takes goes to error/ with a reason.
func TestPartialStockAndUnknownFiles(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.StockScope, p.UOMFactors = ediwms.StockPartial, map[string]int{"CS": 6}
	e := setupWith(t, p, "")
	inv := func(lines ...[3]string) *x12.TransactionSet {
		set := &x12.TransactionSet{ST: x12.NewSegment("ST", "846", ""), Segments: []x12.Segment{x12.NewSegment("BIA", "00", "DD", "X", "20260303")}}
		for _, l := range lines {
			set.Segments = append(set.Segments, x12.NewSegment("LIN", "", "SK", l[0]), x12.NewSegment("QTY", "33", l[1], l[2]))
		}
		return set
	}
	old := e.wh.put("846", partnerFile(t, e.wh, "IB", inv([3]string{"A", "5", "EA"}, [3]string{"B", "7", "EA"})))
	past := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	_ = os.Chtimes(filepath.Join(e.root, ediwms.DefaultIn, old), past, past)
	e.wh.put("846", partnerFile(t, e.wh, "IB", inv([3]string{"B", "2", "CS"})))
	_ = e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "856_asn.edi", []byte("ISA"))

	snap, err := e.conn.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := connector.StockSnapshot{Full: false, Items: []connector.StockItem{{SKU: "A", OnHand: 5, Available: 5}, {SKU: "B", OnHand: 12, Available: 12}}}
	if diff := cmp.Diff(want, snap, cmpopts.IgnoreFields(connector.StockSnapshot{}, "AsOf")); diff != "" {
		t.Errorf("partial snapshot (-want +got):\n%s", diff)
	}
	if !snap.AsOf.Equal(past) {
		t.Errorf("AsOf %s is not the oldest file's time %s", snap.AsOf, past)
	}
	if _, err := e.conn.Stock(t.Context()); err == nil {
		t.Error("second call without new files: no error")
	}
	if !exists(e.root, ediwms.DefaultArchive+"/"+old) {
		t.Error("partial files returned once are not archived")
	}

	if _, _, err := e.conn.Events(t.Context(), "", 10); err != nil {
		t.Fatal(err)
	}
	if r := readFile(t, e.root, ediwms.DefaultError+"/856_asn.edi.reason.txt"); !bytes.Contains(r, []byte("does not start with 945, 944, 947, 846 or 997")) {
		t.Errorf("reason for the unknown file: %s", r)
	}
}

// TestBasicCharset: with charset "basic" free text is upper case and in the
// X12 basic set; accents are transliterated ("Rémi Lefèvre, Hôtel-Dieu").
func TestBasicCharset(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.Charset = ediwms.CharsetBasic
	e := setupWith(t, p, "")
	o := connectortest.NewOrder("bc-1", order.Line{SKU: "a-1", Quantity: 1, Name: "Thé vert #5 <bio>"})
	o.ShipTo.Name, o.ShipTo.Address1 = "Rémi Lefèvre, Hôtel-Dieu", "1 place du Parvis Notre-Dame_B"
	submit(t, e.conn, o)
	_, got := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_bc-1.edi"))
	if got.Order.ShipTo.Name != "REMI LEFEVRE, HOTEL-DIEU" || got.Order.ShipTo.Address1 != "1 PLACE DU PARVIS NOTRE-DAME B" ||
		got.Order.Lines[0].Name != "THE VERT 5 BIO" || got.Order.Lines[0].SKU != "a-1" {
		t.Errorf("basic charset: %+v", got.Order)
	}
}

// TestRoundTrip940: any order whose free text needs no cleaning (ASCII
// without delimiters, within the element limits) is written by SubmitOrder
// and read back by Read940 identically in every field a 940 carries.
func TestRoundTrip940(t *testing.T) {
	t.Parallel()
	e := setup(t)
	text := func(max int) *rapid.Generator[string] {
		return rapid.StringMatching(`[A-Za-z0-9]([A-Za-z0-9 .,'/#&-]{0,` + strconv.Itoa(max-2) + `}[A-Za-z0-9])?`)
	}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		text := func(max int) *rapid.Generator[string] { // Clean collapses runs of spaces
			return rapid.Map(text(max), func(s string) string { return strings.Join(strings.Fields(s), " ") })
		}
		o := connectortest.NewOrder("rt-"+strconv.Itoa(n), order.Line{})
		o.Lines = nil
		o.OrderName = text(22).Draw(rt, "order_name")
		o.ShippingMethod = text(35).Draw(rt, "method")
		o.ShipTo = order.Address{
			Name: text(60).Draw(rt, "name"), Company: text(60).Draw(rt, "company"),
			Address1: text(55).Draw(rt, "a1"), Address2: text(55).Draw(rt, "a2"),
			City: text(30).Draw(rt, "city"), ProvinceCode: rapid.StringMatching(`[A-Z]{2}`).Draw(rt, "prov"),
			PostalCode: rapid.StringMatching(`[0-9A-Z]{3,10}`).Draw(rt, "postal"), CountryCode: rapid.StringMatching(`[A-Z]{2}`).Draw(rt, "country"),
			Phone: rapid.StringMatching(`\+?[0-9]{6,15}`).Draw(rt, "phone"), Email: rapid.StringMatching(`[a-z0-9.]{1,20}@[a-z]{1,10}\.fr`).Draw(rt, "email"),
		}
		o.PlacedAt = time.Date(2026, time.Month(rapid.IntRange(1, 12).Draw(rt, "m")), rapid.IntRange(1, 28).Draw(rt, "d"), 0, 0, 0, 0, time.UTC)
		for i := range rapid.IntRange(1, 5).Draw(rt, "lines") {
			o.Lines = append(o.Lines, order.Line{LineNo: i + 1 + rapid.IntRange(0, 3).Draw(rt, "gap"),
				SKU: rapid.StringMatching(`[A-Za-z0-9][A-Za-z0-9._/-]{0,20}`).Draw(rt, "sku"), Quantity: rapid.IntRange(1, 9999).Draw(rt, "qty"),
				Name: text(45).Draw(rt, "line_name")})
			if i > 0 && o.Lines[i].LineNo <= o.Lines[i-1].LineNo {
				o.Lines[i].LineNo = o.Lines[i-1].LineNo + 1
			}
		}
		if _, err := e.conn.SubmitOrder(t.Context(), o); err != nil {
			rt.Fatalf("SubmitOrder: %v", err)
		}
		data := readFile(t, e.root, ediwms.DefaultOut+"/940_"+o.ExternalRef+".edi")
		ics, warns, err := x12.Parse(bytes.NewReader(data))
		if err != nil || len(warns) > 0 {
			rt.Fatalf("parse: %v %v", err, warns)
		}
		if isa := ics[0].ISA; isa.Value(11) != "U" || isa.Value(12) != "00401" || ics[0].Groups[0].GS.Value(8) != "004010" {
			rt.Fatalf("envelope version: ISA11 %q ISA12 %q GS08 %q", isa.Value(11), isa.Value(12), ics[0].Groups[0].GS.Value(8))
		}
		got, ws, err := ediwms.Read940(ics[0].Groups[0].Sets[0])
		if err != nil || len(ws) > 0 || got.Purpose != "N" {
			rt.Fatalf("Read940: %+v %v %v", got, ws, err)
		}
		want := *o
		want.Shop, want.Warehouse, want.OrderID, want.FulfillmentOrderID = "", "", "", ""
		if diff := cmp.Diff(want, got.Order); diff != "" {
			rt.Fatalf("940 read back (-sent +read):\n%s\n%s", diff, data)
		}
	})
}

// TestRead940Samples: the real 940 samples (new, change, cancel, and the
// EdiEngine ones) map to orders with their purpose, reference and lines.
func TestRead940Samples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, purpose, ref string
		lines              int
	}{
		{"edi-engine/940.OK.edi", "N", "538686", 3},
		{"x12-types-extracted/940-generalmills-new.x12", "N", "18061923", 2},
		{"x12-types-extracted/940-generalmills-change-W05R.x12", "R", "18061930", 1},
		{"x12-types-extracted/940-generalmills-cancel-W05F.x12", "F", "18061923", 0},
	} {
		ics, _, err := x12.Parse(bytes.NewReader(readFile(t, "../../x12/testdata", tc.file)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got, _, err := ediwms.Read940(ics[0].Groups[0].Sets[0])
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got.Purpose != tc.purpose || got.Order.ExternalRef != tc.ref || len(got.Order.Lines) != tc.lines {
			t.Errorf("%s: purpose %s ref %s %d lines", tc.file, got.Purpose, got.Order.ExternalRef, len(got.Order.Lines))
		}
		for _, l := range got.Order.Lines {
			if l.SKU == "" || l.Quantity <= 0 {
				t.Errorf("%s: line %+v", tc.file, l)
			}
		}
	}
}

// TestRejected997: a 997 that rejects our 940's group takes it off the
// overdue list and puts it on Rejected997 for the operator.
func TestRejected997(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.wh.noAck = true
	submit(t, e.conn, connectortest.NewOrder("rj-1", order.Line{SKU: "A", Quantity: 1}))
	sent, _ := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_rj-1.edi"))
	gs06 := sent.Groups[0].ControlNumber()
	ack := &x12.TransactionSet{ST: x12.NewSegment("ST", "997", ""), Segments: []x12.Segment{
		x12.NewSegment("AK1", "OW", gs06), x12.NewSegment("AK2", "940", "0001"), x12.NewSegment("AK5", "R", "5"), x12.NewSegment("AK9", "R", "1", "1", "0"),
	}}
	e.wh.put("997", partnerFile(t, e.wh, "FA", ack))
	if _, _, err := e.conn.Events(t.Context(), "", 10); err != nil {
		t.Fatal(err)
	}
	if o := e.conn.Overdue997(time.Now().Add(time.Hour), 0); len(o) != 0 {
		t.Errorf("overdue = %+v", o)
	}
	r := e.conn.Rejected997()
	if len(r) != 1 || r[0].Control != gs06 || r[0].AckStatus != "R" {
		t.Errorf("rejected = %+v, want group %s with R", r, gs06)
	}
}

// TestCaseUOM: a partner counting in cases of 6 (uom CS, uom_factors
// CS: 6) gets W01 quantities in cases, refuses an order that is not a
// whole number of cases, and its 945 quantities in cases come back as
// units.
func TestCaseUOM(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.UOM, p.UOMFactors = "CS", map[string]int{"cs": 6}
	e := setupWith(t, p, "")
	submit(t, e.conn, connectortest.NewOrder("cs-1", order.Line{SKU: "W", Quantity: 12}))
	if b := readFile(t, e.root, ediwms.DefaultOut+"/940_cs-1.edi"); !bytes.Contains(b, []byte("W01*2*CS**SK*W~")) || !bytes.Contains(b, []byte("W76*2~")) {
		t.Errorf("940 in cases:\n%s", b)
	}
	if _, err := e.conn.SubmitOrder(t.Context(), connectortest.NewOrder("cs-2", order.Line{SKU: "W", Quantity: 5})); !connector.IsPermanent(err) {
		t.Errorf("5 units in cases of 6: %v, want permanent", err)
	}
	ship := &x12.TransactionSet{ST: x12.NewSegment("ST", "945", ""), Segments: []x12.Segment{
		x12.NewSegment("W06", "F", "cs-1", "20260303", "S-CS"), x12.NewSegment("LX", "1"),
		x12.NewSegment("MAN", "CP", "TRK-CS"), x12.NewSegment("W12", "CC", "2", "2", "0", "CS", "", "W"),
	}}
	e.wh.put("945", partnerFile(t, e.wh, "SW", ship))
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 1 || evs[0].Reason != "" || !slices.Equal(evs[0].Shipment.Lines, []order.ShipmentLine{{LineNo: 1, SKU: "W", Quantity: 12}}) {
		t.Errorf("945 in cases = %+v", evs)
	}
}
