package ediwms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/x12"
)

var testProfile = ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "ACME3PL", ReceiverQualifier: "01"}

// fake3PL is the warehouse side: it reads our 940s from the out folder with
// x12.Parse and, on settle, answers with 997, 945 and 846 files it writes
// with x12.Encode into the in folder.
type fake3PL struct {
	t    *testing.T
	drop *filedrop.Local

	mu        sync.Mutex
	numbers   x12.MemoryControlNumbers
	stock     map[string]int // nil: unlimited
	multi     float64
	dup       float64 // rate of 945 files sent twice (same bytes, second name)
	noAck     bool    // do not send 997s for our 940s
	rng       *rand.Rand
	seq       int
	cancelled map[string]bool
	amended   map[string][]order.Line // W05 R: the lines that replace the order's
	shipped   map[string]bool
}

type env struct {
	root  string
	flaky *connectortest.FlakyDrop
	conn  *ediwms.Conn
	wh    *fake3PL
}

func setup(t *testing.T) env {
	t.Helper()
	root := t.TempDir()
	local, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &connectortest.FlakyDrop{Drop: local}
	conn, err := ediwms.New(ediwms.Config{Drop: flaky, NoStableWait: true, Profile: testProfile})
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

func newFake(t *testing.T, local *filedrop.Local) *fake3PL {
	return &fake3PL{t: t, drop: local, rng: rand.New(rand.NewPCG(1, 2)), cancelled: map[string]bool{},
		amended: map[string][]order.Line{}, shipped: map[string]bool{}}
}

// envelope is the partner's interchange header (partner → us).
func (w *fake3PL) envelope(fid string, sets ...*x12.TransactionSet) *x12.Interchange {
	isa := x12.NewSegment("ISA", "00", "", "00", "", "01", "ACME3PL", "ZZ", "CROSSDOCK",
		"260303", "0800", "U", "00401", "", "0", "P", ">")
	gs := x12.NewSegment("GS", fid, "ACME3PL", "CROSSDOCK", "20260303", "0800", "", "X", "004010")
	return &x12.Interchange{ISA: isa, Groups: []*x12.FunctionalGroup{{GS: gs, Sets: sets}}}
}

func (w *fake3PL) encode(ic *x12.Interchange) []byte {
	data, _, err := x12.Encode(context.Background(), ic, x12.WriterOptions{Newline: "\n", Numbers: &w.numbers, Partner: "us"})
	if err != nil {
		w.t.Fatalf("3PL encode: %v", err)
	}
	return data
}

func (w *fake3PL) put(prefix string, data []byte) string {
	w.seq++
	name := fmt.Sprintf("%s_%06d.edi", prefix, w.seq)
	if err := w.drop.WriteAtomic(context.Background(), ediwms.DefaultIn, name, data); err != nil {
		w.t.Fatal(err)
	}
	return name
}

func (w *fake3PL) setStock(m map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stock == nil {
		w.stock = map[string]int{}
	}
	for k, v := range m {
		w.stock[k] = v
	}
	w.writeStockLocked()
}

func (w *fake3PL) writeStockLocked() {
	set := &x12.TransactionSet{ST: x12.NewSegment("ST", "846", "")}
	set.Segments = append(set.Segments, x12.NewSegment("BIA", "00", "SI", fmt.Sprintf("INV%d", w.seq), "20260303"))
	skus := make([]string, 0, len(w.stock))
	for k := range w.stock {
		skus = append(skus, k)
	}
	slices.Sort(skus)
	for _, k := range skus {
		q := strconv.Itoa(w.stock[k])
		set.Segments = append(set.Segments, x12.NewSegment("LIN", "", "SK", k),
			x12.NewSegment("QTY", "17", q, "EA"), x12.NewSegment("QTY", "33", q, "EA"))
	}
	set.Segments = append(set.Segments, x12.NewSegment("CTT", strconv.Itoa(len(skus))))
	w.put("846", w.encode(w.envelope("IB", set)))
}

// parsed940 is what the 3PL reads from one of our 940s.
type parsed940 struct {
	ic    *x12.Interchange
	code  string // W05-01
	ref   string
	lines []order.Line
}

func read940(t *testing.T, data []byte) parsed940 {
	t.Helper()
	ics, warns, err := x12.Parse(bytes.NewReader(data))
	if err != nil || len(warns) > 0 || len(ics) != 1 || len(ics[0].Groups) != 1 || len(ics[0].Groups[0].Sets) != 1 {
		t.Fatalf("3PL: our 940 does not parse cleanly: %v %v\n%s", err, warns, data)
	}
	g := ics[0].Groups[0]
	if g.FunctionalID() != "OW" || g.Sets[0].Code() != "940" {
		t.Fatalf("3PL: group %s set %s, want OW 940", g.FunctionalID(), g.Sets[0].Code())
	}
	p := parsed940{ic: ics[0]}
	lineNo := 0
	for _, s := range g.Sets[0].Segments {
		switch s.ID {
		case "W05":
			p.code, p.ref = s.Value(1), s.Value(2)
		case "LX":
			lineNo, _ = strconv.Atoi(s.Value(1))
		case "W01":
			q, _ := strconv.Atoi(s.Value(1))
			if s.Value(2) != "EA" || s.Value(4) != "SK" {
				t.Errorf("3PL: W01 %v: want UOM EA and qualifier SK", s.Elements)
			}
			p.lines = append(p.lines, order.Line{LineNo: lineNo, SKU: s.Value(5), Quantity: q})
		}
	}
	return p
}

// settle acknowledges our 940s (997s into in/), drops cancelled orders,
// ships every order it can fill with a 945, archives what it handled, and
// writes an 846 when stock is tracked.
func (w *fake3PL) settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx := context.Background()
	ents, err := w.drop.List(ctx, ediwms.DefaultOut)
	if err != nil {
		w.t.Fatal(err)
	}
	slices.SortFunc(ents, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	var orders []filedrop.FileInfo
	for _, e := range ents {
		if e.IsDir || !strings.HasPrefix(e.Name, "940") {
			continue
		}
		data, err := w.drop.Read(ctx, e.Path)
		if err != nil {
			w.t.Fatal(err)
		}
		p := read940(w.t, data)
		if !w.noAck && !strings.HasPrefix(e.Name, "acked-") {
			w.put("997", w.encode(x12.AckInterchange(p.ic, x12.AckOptions{}, time.Now())))
		}
		switch p.code {
		case "F":
			// Too late once shipped (the 945 went out already); otherwise
			// the order is closed and a 945 shipping nothing says so.
			if !w.shipped[p.ref] && !w.cancelled[p.ref] {
				w.cancelled[p.ref] = true
				w.put("945", w.encode(w.envelope("SW", w.nothingShipped(p))))
			}
			w.archive(e)
			continue
		case "R":
			w.amended[p.ref] = p.lines
			w.archive(e)
			continue
		}
		orders = append(orders, e)
	}
	for _, e := range orders {
		data, _ := w.drop.Read(ctx, e.Path)
		p := read940(w.t, data)
		if w.cancelled[p.ref] {
			w.archive(e)
			continue
		}
		if lines, ok := w.amended[p.ref]; ok {
			p.lines = lines
		}
		if !w.canFill(p.lines) {
			continue
		}
		for _, l := range p.lines {
			if w.stock != nil {
				if _, ok := w.stock[l.SKU]; ok {
					w.stock[l.SKU] -= l.Quantity
				}
			}
		}
		data = w.encode(w.envelope("SW", w.shipment(p)))
		w.put("945", data)
		if w.dup > 0 && w.rng.Float64() < w.dup {
			w.put("945", data) // the partner's retry: same interchange, new file
		}
		w.shipped[p.ref] = true
		w.archive(e)
	}
	if w.stock != nil {
		w.writeStockLocked()
	}
}

func (w *fake3PL) archive(e filedrop.FileInfo) {
	if err := w.drop.Move(context.Background(), e.Path, ediwms.DefaultArchive+"/"+e.Name); err != nil {
		w.t.Fatal(err)
	}
}

func (w *fake3PL) canFill(lines []order.Line) bool {
	if w.stock == nil {
		return true
	}
	need := map[string]int{}
	for _, l := range lines {
		need[l.SKU] += l.Quantity
	}
	for sku, n := range need {
		if have, ok := w.stock[sku]; ok && have < n {
			return false
		}
	}
	return true
}

// nothingShipped renders the 945 that closes a cancelled order: every
// line with status CL and zero units shipped.
func (w *fake3PL) nothingShipped(p parsed940) *x12.TransactionSet {
	set := &x12.TransactionSet{ST: x12.NewSegment("ST", "945", "")}
	set.Segments = append(set.Segments, x12.NewSegment("W06", "F", p.ref, "20260303", fmt.Sprintf("CNL%06d", w.seq+1)))
	for _, l := range p.lines {
		set.Segments = append(set.Segments, x12.NewSegment("LX", strconv.Itoa(l.LineNo)),
			x12.NewSegment("W12", "CL", strconv.Itoa(l.Quantity), "0", strconv.Itoa(l.Quantity), "EA", "", l.SKU))
	}
	set.Segments = append(set.Segments, x12.NewSegment("W03", "0"))
	return set
}

// shipment renders one 945: LX per line, MAN (SSCC + carrier package id)
// per parcel, W12 with the quantity in that parcel; with the multi-package
// rate the order goes out in two parcels.
func (w *fake3PL) shipment(p parsed940) *x12.TransactionSet {
	type part struct {
		pkg  int
		line order.Line
	}
	var parts []part
	multi := w.multi > 0 && w.rng.Float64() < w.multi
	switch {
	case multi && len(p.lines) >= 2:
		for i, l := range p.lines {
			parts = append(parts, part{min(i, 1), l})
		}
	case multi && p.lines[0].Quantity >= 2:
		l := p.lines[0]
		a, b := l, l
		a.Quantity, b.Quantity = 1, l.Quantity-1
		parts = append(parts, part{0, a}, part{1, b})
		for _, l := range p.lines[1:] {
			parts = append(parts, part{1, l})
		}
	default:
		for _, l := range p.lines {
			parts = append(parts, part{0, l})
		}
	}
	shipID := fmt.Sprintf("SHP%06d", w.seq+1)
	set := &x12.TransactionSet{ST: x12.NewSegment("ST", "945", "")}
	add := func(s x12.Segment) { set.Segments = append(set.Segments, s) }
	add(x12.NewSegment("W06", "F", p.ref, "20260303", shipID))
	add(x12.NewSegment("N1", "ST", "SHIP TO"))
	add(x12.NewSegment("W27", "M", "COLI", "COLISSIMO"))
	total := 0
	lastLX := -1
	for _, pt := range parts {
		if pt.line.LineNo != lastLX {
			add(x12.NewSegment("LX", strconv.Itoa(pt.line.LineNo)))
			lastLX = pt.line.LineNo
		}
		add(x12.NewSegment("MAN", "GM", fmt.Sprintf("00%s%d", shipID, pt.pkg+1), "", "CP", fmt.Sprintf("TRK%s-%d", shipID, pt.pkg+1)))
		add(x12.NewSegment("W12", "CC", strconv.Itoa(pt.line.Quantity), strconv.Itoa(pt.line.Quantity), "0", "EA", "", pt.line.SKU))
		total += pt.line.Quantity
	}
	add(x12.NewSegment("W03", strconv.Itoa(total)))
	return set
}

// TestConformance runs the shared suite. Cancel is off: the partner
// confirms a W05 F cancel asynchronously by file, so CancelOrder cannot
// answer at once (see TestCancel). DuplicateEvents: the fake partner sends
// 945 files twice and the copies carry the same event ids.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Features{
		Cancel: false, Conflict: true, MultiPackage: true, DuplicateEvents: true, Outage: true, Stock: true,
	}, func(t *testing.T) connectortest.Harness {
		e := setup(t)
		return connectortest.Harness{
			WMS:             e.conn,
			Settle:          func(*testing.T) { e.wh.settle() },
			SetStock:        func(_ *testing.T, m map[string]int) { e.wh.setStock(m) },
			SetDown:         func(_ *testing.T, down bool) { e.flaky.SetDown(down) },
			SetMultiPackage: func(_ *testing.T, r float64) { e.wh.mu.Lock(); e.wh.multi = r; e.wh.mu.Unlock() },
			SetDuplicateEvents: func(_ *testing.T, r float64) {
				e.wh.mu.Lock()
				e.wh.dup = r
				e.wh.mu.Unlock()
			},
		}
	})
}

func readFile(t *testing.T, root, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

func submit(t *testing.T, w connector.WMS, o *order.WarehouseOrder) connector.SubmitResult {
	t.Helper()
	res, err := w.SubmitOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("SubmitOrder(%s): %v", o.ExternalRef, err)
	}
	return res
}

// sampleHeader wraps the transaction-only sample in a (well-formed) envelope.
const sampleHeader = "ISA*00*          *00*          *01*SIMPLOT        *ZZ*CROSSDOCK      *131029*1035*U*00401*000000045*0*P*>~\n" +
	"GS*SW*SIMPLOT*CROSSDOCK*20131029*1035*45*X*004010~\n"
const sampleTrailer = "GE*1*45~\nIEA*1*000000045~\n"

// TestSample945 reads the real Simplot 945 (its SE01 says 32 for 29
// segments): with tracking in N9 (qualifier LV, its pallet license plates)
// it becomes one shipment with lines from LX/W12, five tracked packages and
// the W27 SCAC; the SE01 defect is a warning in the event's reason, and the
// 997 sent back rejects the set for its count (AK5 R 4). With the default
// MAN profile the same file is still delivered, with a "no tracking" warning.
func TestSample945(t *testing.T) {
	t.Parallel()
	sample := readFile(t, "../../x12/testdata/x12-types-extracted", "945-simplot-transaction-only.x12")
	for _, tc := range []struct {
		name     string
		profile  ediwms.Profile
		tracking []string
	}{
		{"N9", ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "SIMPLOT", ReceiverQualifier: "01", TrackingIn: "N9", TrackingQualifier: "LV"},
			[]string{"00100752782101847618", "00100752782101847619", "00100752782101847620", "00100752782101847621", "00100752782101847622"}},
		{"MAN", ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "SIMPLOT", ReceiverQualifier: "01"}, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			local, _ := filedrop.NewLocal(root)
			conn, err := ediwms.New(ediwms.Config{Drop: local, NoStableWait: true, Profile: tc.profile})
			if err != nil {
				t.Fatal(err)
			}
			_ = local.MkdirAll(t.Context(), ediwms.DefaultIn)
			data := append(append([]byte(sampleHeader), sample...), sampleTrailer...)
			if err := local.WriteAtomic(t.Context(), ediwms.DefaultIn, "945_simplot.x12", data); err != nil {
				t.Fatal(err)
			}
			evs, cur, err := conn.Events(t.Context(), "", 10)
			if err != nil || len(evs) != 1 || cur != "945_simplot.x12" {
				t.Fatalf("Events = %+v, %q, %v", evs, cur, err)
			}
			e := evs[0]
			sh := e.Shipment
			if e.Type != connector.EventShipped || e.ExternalRef != "01766655" || sh.ID != "1035" ||
				!sh.ShippedAt.Equal(time.Date(2013, 10, 29, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("event %+v shipment %+v", e, sh)
			}
			wantLines := []order.ShipmentLine{{LineNo: 1, SKU: "007117901645", Quantity: 72}, {LineNo: 2, SKU: "007117901645", Quantity: 72}, {LineNo: 3, SKU: "007117900070", Quantity: 96}}
			if !slices.Equal(sh.Lines, wantLines) {
				t.Errorf("lines = %+v, want %+v", sh.Lines, wantLines)
			}
			var tracking []string
			for _, p := range sh.Packages {
				tracking = append(tracking, p.TrackingNumber)
				if p.Carrier != "TRUK" || p.Service != "TRUCKING" {
					t.Errorf("package %+v: carrier/service from W27 missing", p)
				}
			}
			if !slices.Equal(tracking, tc.tracking) {
				t.Errorf("tracking = %q, want %q", tracking, tc.tracking)
			}
			if !strings.Contains(e.Reason, `SE01 is "32", transaction set has 29 segments`) {
				t.Errorf("reason %q lacks the SE01 warning", e.Reason)
			}
			if tc.name == "MAN" && !strings.Contains(e.Reason, "no tracking number") {
				t.Errorf("reason %q lacks the missing tracking warning", e.Reason)
			}
			ack := readFile(t, root, ediwms.DefaultOut+"/997_945_simplot.edi")
			for _, want := range []string{"ISA*00*          *00*          *ZZ*CROSSDOCK      *01*SIMPLOT        *", "GS*FA*CROSSDOCK*SIMPLOT*", "AK1*SW*45~", "AK2*945*0001~", "AK5*R*4~", "AK9*R*1*1*0~"} {
				if !bytes.Contains(ack, []byte(want)) {
					t.Errorf("997 lacks %q:\n%s", want, ack)
				}
			}
		})
	}
}

// TestFrenchAddress: accents are transliterated, delimiters stripped and
// lengths cut in N1/N3/N4; a SKU with a delimiter, a SKU or a reference
// too long for its element are refused permanently (never altered).
func TestFrenchAddress(t *testing.T) {
	t.Parallel()
	e := setup(t)
	o := connectortest.NewOrder("fr-1", order.Line{SKU: "VIN-01", Quantity: 1, Name: "Crème brûlée ~ édition"})
	o.ShipTo = order.Address{Name: "Françoise Lefèvre-Cœur", Company: "Bœuf & Çie*SARL",
		Address1: "12 rue de l'Église~ bâtiment>B", Address2: "Résidence « Les Érables » ^ 3ème étage",
		City: "Saint-Étienne-du-Rouvray-la-Très-Longue", PostalCode: "76800", CountryCode: "FR", Phone: "+33 6 12 34 56 78"}
	submit(t, e.conn, o)
	p := readFile(t, e.root, ediwms.DefaultOut+"/940_fr-1.edi")
	ics, warns, err := x12.Parse(bytes.NewReader(p))
	if err != nil || len(warns) > 0 {
		t.Fatalf("940: %v %v", err, warns)
	}
	got := map[string]x12.Segment{}
	for _, s := range ics[0].Groups[0].Sets[0].Segments {
		got[s.ID] = s
	}
	for _, c := range []struct{ seg, want string }{
		{"N1", "ST|Francoise Lefevre-Coeur"},
		{"N2", "Boeuf & Cie SARL"},
		{"N3", "12 rue de l'Eglise batiment B|Residence \" Les Erables \" 3eme etage"},
		{"N4", "Saint-Etienne-du-Rouvray-la-Tr||76800|FR"},
		{"G69", "Creme brulee edition"},
	} {
		var vs []string
		for i := range got[c.seg].Elements {
			vs = append(vs, got[c.seg].Value(i+1))
		}
		if s := strings.Join(vs, "|"); s != c.want {
			t.Errorf("%s = %q, want %q", c.seg, s, c.want)
		}
	}
	for i, b := range p {
		if b >= 0x80 {
			t.Fatalf("non-ASCII byte %#x at %d in the 940", b, i)
		}
	}
	if got := ediwms.Clean("œuvre ça*va~", x12.DefaultDelimiters, 0); got != "oeuvre ca va" {
		t.Errorf("Clean = %q", got)
	}
	_, err = e.conn.SubmitOrder(t.Context(), connectortest.NewOrder("fr-2", order.Line{SKU: "BAD*SKU", Quantity: 1}))
	if !connector.IsPermanent(err) {
		t.Errorf("SKU with a delimiter: err = %v, want permanent", err)
	}
	_, err = e.conn.SubmitOrder(t.Context(), connectortest.NewOrder("fr-3", order.Line{SKU: strings.Repeat("S", 49), Quantity: 1}))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "never cut") {
		t.Errorf("SKU of 49 characters: err = %v, want permanent", err)
	}
	_, err = e.conn.SubmitOrder(t.Context(), connectortest.NewOrder(strings.Repeat("R", 23), order.Line{SKU: "S", Quantity: 1}))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "W05-02") {
		t.Errorf("reference of 23 characters: err = %v, want permanent", err)
	}
}

// Test997PerGroup: a 945 file holding two groups gets one 997 per group
// (AK1 naming each GS06) in out/, written once even when the file is read
// again from an older cursor; the 846 read by Stock is acknowledged too.
func Test997PerGroup(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := connectortest.NewOrder("g-1", order.Line{SKU: "A", Quantity: 1})
	b := connectortest.NewOrder("g-2", order.Line{SKU: "B", Quantity: 2})
	ic := e.wh.envelope("SW", e.wh.shipment(parsed940{ref: a.ExternalRef, lines: a.Lines}))
	g2 := e.wh.envelope("SW", e.wh.shipment(parsed940{ref: b.ExternalRef, lines: b.Lines})).Groups[0]
	ic.Groups = append(ic.Groups, g2)
	data, written, err := x12.Encode(t.Context(), ic, x12.WriterOptions{Newline: "\n", Numbers: &e.wh.numbers, Partner: "us"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "945_two.edi", data); err != nil {
		t.Fatal(err)
	}
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 2 || evs[0].ExternalRef != "g-1" || evs[1].ExternalRef != "g-2" || evs[0].Reason != "" {
		t.Fatalf("events = %+v", evs)
	}
	ack := readFile(t, e.root, ediwms.DefaultOut+"/997_945_two.edi")
	ics, warns, err := x12.Parse(bytes.NewReader(ack))
	if err != nil || len(warns) > 0 || len(ics) != 1 || len(ics[0].Groups) != 1 {
		t.Fatalf("997 file: %v %v\n%s", err, warns, ack)
	}
	var ak1 []string
	for _, s := range ics[0].Groups[0].Sets {
		if s.Code() != "997" {
			t.Errorf("set %s in the ack group", s.Code())
		}
		for _, seg := range s.Segments {
			if seg.ID == "AK1" {
				ak1 = append(ak1, seg.Value(1)+" "+seg.Value(2))
			}
			if seg.ID == "AK9" && seg.Value(1) != "A" {
				t.Errorf("AK9 %v", seg.Elements)
			}
		}
	}
	want := []string{"SW " + written.Groups[0].ControlNumber(), "SW " + written.Groups[1].ControlNumber()}
	if !slices.Equal(ak1, want) {
		t.Errorf("AK1s = %q, want %q", ak1, want)
	}
	// A re-read from the start (archive) does not send another 997.
	if err := os.Remove(filepath.Join(e.root, ediwms.DefaultOut, "997_945_two.edi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.conn.Events(t.Context(), "945_two.edi", 10); err != nil { // commits: archives the file
		t.Fatal(err)
	}
	if again, _ := connectortest.Drain(t, e.conn, "", 10); len(again) != 2 {
		t.Fatalf("replay = %d events", len(again))
	}
	if exists(e.root, ediwms.DefaultOut+"/997_945_two.edi") {
		t.Error("a replay wrote the 997 again")
	}

	e.wh.setStock(map[string]int{"A": 3})
	snap, err := e.conn.Stock(t.Context())
	if err != nil || !snap.Full || len(snap.Items) != 1 || snap.Items[0] != (connector.StockItem{SKU: "A", OnHand: 3, Available: 3}) {
		t.Fatalf("Stock = %+v, %v", snap, err)
	}
	if !bytes.Contains(readFile(t, e.root, ediwms.DefaultOut+"/997_846_000001.edi"), []byte("AK1*IB*")) {
		t.Error("no 997 for the 846")
	}
}

// TestPending997: our 940 is pending (Overdue) until the partner's 997
// arrives and Events reads it; the sample 846 (5010) reads as stock.
func TestPending997(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.wh.noAck = true
	o := connectortest.NewOrder("pend-1", order.Line{SKU: "P", Quantity: 1})
	submit(t, e.conn, o)
	pend := e.conn.Pending().Overdue(time.Now().Add(time.Hour), time.Minute)
	if len(pend) != 1 || pend[0].FunctionalID != "OW" || pend[0].Partner != e.conn.Partner() {
		t.Fatalf("pending after submit = %+v", pend)
	}
	p := read940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_pend-1.edi"))
	if pend[0].Control != p.ic.Groups[0].ControlNumber() {
		t.Errorf("pending GS06 %s, 940 GS06 %s", pend[0].Control, p.ic.Groups[0].ControlNumber())
	}
	e.wh.settle() // ships, no 997
	if evs, _ := connectortest.Drain(t, e.conn, "", 10); len(evs) != 1 {
		t.Fatalf("events = %+v", evs)
	}
	if n := len(e.conn.Pending().Overdue(time.Now().Add(time.Hour), time.Minute)); n != 1 {
		t.Fatalf("%d pending before the 997, want 1", n)
	}
	e.wh.put("997", e.wh.encode(x12.AckInterchange(p.ic, x12.AckOptions{}, time.Now())))
	if _, _, err := e.conn.Events(t.Context(), "", 10); err != nil {
		t.Fatal(err)
	}
	if pend := e.conn.Pending().Overdue(time.Now().Add(time.Hour), time.Minute); len(pend) != 0 {
		t.Fatalf("still pending after the 997: %+v", pend)
	}
	if !exists(e.root, ediwms.DefaultArchive+"/997_000002.edi") {
		t.Error("partner 997 not archived")
	}

	sample := readFile(t, "../../x12/testdata/x12-types-extracted", "846-x12types-minimal-5010.x12")
	if err := e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "846_zzz.edi", sample); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	_ = os.Chtimes(filepath.Join(e.root, ediwms.DefaultIn, "846_zzz.edi"), future, future)
	snap, err := e.conn.Stock(t.Context())
	if err != nil || len(snap.Items) != 1 || snap.Items[0] != (connector.StockItem{SKU: "ABC123", OnHand: 100, Available: 100}) {
		t.Fatalf("Stock(sample 846) = %+v, %v", snap, err)
	}
}

// TestBadFileQuarantined: a 945 that does not parse goes to error/ with a
// reason file; the next file is still delivered. A 945 without W06-02 too,
// but its group, which parsed, is still acknowledged.
func TestBadFileQuarantined(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_ = e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "945_a.edi", []byte("this is not X12"))
	noRef := e.wh.encode(e.wh.envelope("SW", &x12.TransactionSet{ST: x12.NewSegment("ST", "945", ""),
		Segments: []x12.Segment{x12.NewSegment("W06", "F"), x12.NewSegment("LX", "1"), x12.NewSegment("W12", "CC", "1", "1", "", "EA", "", "X")}}))
	_ = e.wh.drop.WriteAtomic(t.Context(), ediwms.DefaultIn, "945_b.edi", noRef)
	o := connectortest.NewOrder("q-1", order.Line{SKU: "Q", Quantity: 1})
	submit(t, e.conn, o)
	e.wh.settle()
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 1 || evs[0].ExternalRef != "q-1" {
		t.Fatalf("events = %+v", evs)
	}
	for name, want := range map[string]string{"945_a.edi": "does not parse as X12", "945_b.edi": "no W06-02"} {
		if !exists(e.root, ediwms.DefaultError+"/"+name) {
			t.Errorf("%s not in error/", name)
		}
		if r := readFile(t, e.root, ediwms.DefaultError+"/"+name+".reason.txt"); !bytes.Contains(r, []byte(want)) {
			t.Errorf("%s reason %q lacks %q", name, r, want)
		}
	}
	if exists(e.root, ediwms.DefaultOut+"/997_945_a.edi") || !exists(e.root, ediwms.DefaultOut+"/997_945_b.edi") {
		t.Error("want a 997 for the group that parsed (945_b) and none for the file that did not (945_a)")
	}
}

// TestCancel: a cancel is the order's 940 again with W05 F and the NTE
// note, written once; until the warehouse answers by file CancelOrder asks
// the hub to retry later (never a guess). The fake 3PL closes the order
// with a 945 that ships nothing: Events reports it as cancelled and
// CancelOrder then answers Cancelled true. A cancel that crosses the
// warehouse's 945 is answered "already shipped" once the 945 is read.
// Cancelling an unknown reference is permanent.
func TestCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	o := connectortest.NewOrder("c-1", order.Line{SKU: "C", Quantity: 2})
	submit(t, e.conn, o)
	for range 2 {
		res, err := e.conn.CancelOrder(t.Context(), o.ExternalRef)
		d, retry := connector.RetryDelay(err)
		if !errors.Is(err, ediwms.ErrCancelPending) || !retry || d != ediwms.DefaultCancelRecheck || connector.IsPermanent(err) || res.Cancelled {
			t.Fatalf("CancelOrder before the answer = %+v, %v; want RetryAfter(%s, ErrCancelPending)", res, err, ediwms.DefaultCancelRecheck)
		}
	}
	data := readFile(t, e.root, ediwms.DefaultOut+"/940F_c-1.edi")
	p := read940(t, data)
	if p.code != "F" || p.ref != "c-1" || len(p.lines) != 1 || !bytes.Contains(data, []byte("NTE*SPH*CANCELLED - DO NOT SHIP~")) {
		t.Errorf("cancel 940 = %+v\n%s", p, data)
	}
	if n := len(e.conn.Overdue997(time.Now().Add(time.Hour), 0)); n != 2 {
		t.Errorf("%d groups pending, want 2 (order and one cancel)", n)
	}
	e.wh.settle()
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 1 || evs[0].Type != connector.EventCancelled || evs[0].ExternalRef != "c-1" || !strings.Contains(evs[0].Reason, `status "CL"`) {
		t.Fatalf("events after the cancel = %+v, want one cancelled", evs)
	}
	if res, err := e.conn.CancelOrder(t.Context(), o.ExternalRef); err != nil || !res.Cancelled {
		t.Errorf("CancelOrder after the answer = %+v, %v; want Cancelled", res, err)
	}

	// The warehouse ships while the cancel is on its way: the 945 answers it.
	late := connectortest.NewOrder("c-2", order.Line{SKU: "C", Quantity: 1})
	submit(t, e.conn, late)
	e.wh.settle()
	if _, err := e.conn.CancelOrder(t.Context(), late.ExternalRef); !errors.Is(err, ediwms.ErrCancelPending) {
		t.Fatalf("CancelOrder before the 945 is read: %v", err)
	}
	if evs, _ := connectortest.Drain(t, e.conn, "", 10); len(evs) != 2 {
		t.Fatalf("events = %+v", evs)
	}
	if res, err := e.conn.CancelOrder(t.Context(), late.ExternalRef); err != nil || res.Cancelled || !strings.Contains(res.Reason, "already shipped") {
		t.Errorf("CancelOrder after the 945 = %+v, %v; want refused, already shipped", res, err)
	}
	if _, err := e.conn.CancelOrder(t.Context(), "never-sent"); !connector.IsPermanent(err) {
		t.Errorf("cancel of an unknown order: %v, want permanent", err)
	}
}

// TestConfig: the registry builds the kind from a strict map.
func TestConfig(t *testing.T) {
	t.Parallel()
	info, ok := connector.Lookup("edi")
	if !ok {
		t.Fatal("edi connector not registered")
	}
	dir := t.TempDir()
	prof := map[string]any{"sender_id": "US", "receiver_id": "THEM", "tracking_in": "N9", "uom": "CS", "max_name": 35}
	stateDir := filepath.Join(t.TempDir(), "state")
	w, err := info.New(map[string]any{"transport": "local", "dir": dir, "profile": prof, "stable_after": "0s", "out": "o", "in": "i", "state_dir": stateDir})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, w, connectortest.NewOrder("cfg-1", order.Line{SKU: "S", Quantity: 1}))
	if b := readFile(t, dir, "o/940_cfg-1.edi"); !bytes.Contains(b, []byte("W01*1*CS**SK*S~")) || !bytes.Contains(b, []byte("*ZZ*US             *ZZ*THEM           *")) {
		t.Errorf("940 with profile:\n%s", b)
	}
	if _, err := os.Stat(x12.StatePath(stateDir, "ZZ:THEM")); err != nil {
		t.Errorf("state_dir: %v", err)
	}
	for name, m := range map[string]map[string]any{
		"unknown key":         {"transport": "local", "dir": dir, "profile": prof, "color": "red"},
		"unknown profile key": {"transport": "local", "dir": dir, "profile": map[string]any{"sender_id": "US", "receiver_id": "T", "trackin": "N9"}},
		"no profile":          {"transport": "local", "dir": dir},
		"bad tracking_in":     {"transport": "local", "dir": dir, "profile": map[string]any{"sender_id": "US", "receiver_id": "T", "tracking_in": "REF"}},
		"sftp key on local":   {"transport": "local", "dir": dir, "profile": prof, "address": "x:22"},
		"same folders":        {"transport": "local", "dir": dir, "profile": prof, "in": "x", "out": "x"},
		"bad stock_scope":     {"transport": "local", "dir": dir, "profile": map[string]any{"sender_id": "US", "receiver_id": "T", "stock_scope": "some"}},
		"bad charset":         {"transport": "local", "dir": dir, "profile": map[string]any{"sender_id": "US", "receiver_id": "T", "charset": "latin1"}},
		"bad uom factor":      {"transport": "local", "dir": dir, "profile": map[string]any{"sender_id": "US", "receiver_id": "T", "uom_factors": map[string]any{"CS": 0}}},
		"state_dir not text":  {"transport": "local", "dir": dir, "profile": prof, "state_dir": 3},
	} {
		if _, err := info.New(m); !connector.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
}
