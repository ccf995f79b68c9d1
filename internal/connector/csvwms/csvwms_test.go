package csvwms_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
)

// fake3PL is the warehouse side: it takes order files from the out folder
// and, on Settle, answers with shipment and stock files in the in folder.
type fake3PL struct {
	t       *testing.T
	root    string
	drop    *filedrop.Local
	profile csvfile.Profile

	mu    sync.Mutex
	stock map[string]int // nil: unlimited
	multi float64
	rng   *rand.Rand
	seq   int
}

// env is a connector on a flaky local drop with a fake 3PL behind it.
type env struct {
	root  string
	flaky *connectortest.FlakyDrop
	conn  *csvwms.Conn
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
	conn, err := csvwms.New(csvwms.Config{Drop: flaky, NoStableWait: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{csvwms.DefaultOut, csvwms.DefaultIn, csvwms.DefaultArchive} {
		if err := local.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	wh := &fake3PL{t: t, root: root, drop: local, profile: csvwms.DefaultProfile(), rng: rand.New(rand.NewPCG(1, 2))}
	return env{root: root, flaky: flaky, conn: conn, wh: wh}
}

func (w *fake3PL) name(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s%06d.csv", prefix, w.seq)
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
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"sku", "on_hand", "available"})
	skus := make([]string, 0, len(w.stock))
	for k := range w.stock {
		skus = append(skus, k)
	}
	slices.Sort(skus)
	for _, k := range skus {
		q := strconv.Itoa(w.stock[k])
		_ = cw.Write([]string{k, q, q})
	}
	cw.Flush()
	if err := w.drop.WriteAtomic(context.Background(), csvwms.DefaultIn, w.name("inv_"), b.Bytes()); err != nil {
		w.t.Error(err)
	}
}

// settle ships every order file it can fill, in name order, and archives
// it; then writes a stock file when stock is tracked.
func (w *fake3PL) settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx := context.Background()
	ents, err := w.drop.List(ctx, csvwms.DefaultOut)
	if err != nil {
		w.t.Fatal(err)
	}
	slices.SortFunc(ents, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, e := range ents {
		if e.IsDir || !strings.HasPrefix(e.Name, "ord_") {
			continue
		}
		data, err := w.drop.Read(ctx, e.Path)
		if err != nil {
			w.t.Fatal(err)
		}
		orders, rowErrs, err := csvfile.ReadOrders(bytes.NewReader(data), w.profile)
		if err != nil || len(rowErrs) > 0 || len(orders) != 1 {
			w.t.Fatalf("3PL: %s: %v %v (%d orders)", e.Name, err, rowErrs, len(orders))
		}
		o := orders[0]
		if !w.canFill(o) {
			continue
		}
		for _, l := range o.Lines {
			if w.stock != nil {
				if _, ok := w.stock[l.SKU]; ok {
					w.stock[l.SKU] -= l.Quantity
				}
			}
		}
		name := w.name("shp_")
		if err := w.drop.WriteAtomic(ctx, csvwms.DefaultIn, name, w.shipment(o, strings.TrimSuffix(name, ".csv"))); err != nil {
			w.t.Fatal(err)
		}
		if err := w.drop.Move(ctx, e.Path, csvwms.DefaultArchive+"/"+e.Name); err != nil {
			w.t.Fatal(err)
		}
	}
	if w.stock != nil {
		w.writeStockLocked()
	}
}

func (w *fake3PL) canFill(o order.WarehouseOrder) bool {
	if w.stock == nil {
		return true
	}
	need := map[string]int{}
	for _, l := range o.Lines {
		need[l.SKU] += l.Quantity
	}
	for sku, n := range need {
		if have, ok := w.stock[sku]; ok && have < n {
			return false
		}
	}
	return true
}

// shipment renders one shipment, one row per line per package; with the
// multi-package rate it splits the order over two parcels.
func (w *fake3PL) shipment(o order.WarehouseOrder, id string) []byte {
	type row struct {
		pkg  int
		line order.Line
	}
	var rows []row
	multi := w.multi > 0 && w.rng.Float64() < w.multi
	switch {
	case multi && len(o.Lines) >= 2:
		for i, l := range o.Lines {
			rows = append(rows, row{min(i, 1), l})
		}
	case multi && o.Lines[0].Quantity >= 2:
		l := o.Lines[0]
		a, b := l, l
		a.Quantity, b.Quantity = 1, l.Quantity-1
		rows = append(rows, row{0, a}, row{1, b})
		for _, l := range o.Lines[1:] {
			rows = append(rows, row{1, l})
		}
	default:
		for _, l := range o.Lines {
			rows = append(rows, row{0, l})
		}
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(csvfile.ShipmentFields)
	at := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC).Format(time.RFC3339)
	for _, r := range rows {
		pkg := fmt.Sprintf("%s-P%d", id, r.pkg+1)
		// external_ref shipment_id shipped_at line_no sku quantity package_id carrier service tracking_number tracking_url
		_ = cw.Write([]string{o.ExternalRef, id, at, strconv.Itoa(r.line.LineNo), r.line.SKU, strconv.Itoa(r.line.Quantity),
			pkg, "Colissimo", "", "TRK-" + pkg, ""})
	}
	cw.Flush()
	return b.Bytes()
}

// TestConformance runs the shared suite. Cancel is off: a CSV partner
// confirms cancels asynchronously by file. DuplicateEvents is off: a
// consumer that keeps its cursor never sees an event id twice (ids are
// "<file>#<shipment>"); a partner resending a shipment in a new file gives
// a new event id for the same shipment id, which the hub deduplicates on
// the shipment id instead.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Features{
		Cancel: false, Conflict: true, MultiPackage: true, DuplicateEvents: false, Outage: true, Stock: true,
	}, func(t *testing.T) connectortest.Harness {
		e := setup(t)
		return connectortest.Harness{
			WMS:             e.conn,
			Settle:          func(*testing.T) { e.wh.settle() },
			SetStock:        func(_ *testing.T, m map[string]int) { e.wh.setStock(m) },
			SetDown:         func(_ *testing.T, down bool) { e.flaky.SetDown(down) },
			SetMultiPackage: func(_ *testing.T, r float64) { e.wh.mu.Lock(); e.wh.multi = r; e.wh.mu.Unlock() },
		}
	})
}

// shpHeader is the default profile's shipment header (every canonical column).
var shpHeader = strings.Join(csvfile.ShipmentFields, ",") + "\n"

func exists(t *testing.T, root, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func ids(evs []connector.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func submit(t *testing.T, w connector.WMS, o *order.WarehouseOrder) connector.SubmitResult {
	t.Helper()
	res, err := w.SubmitOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("SubmitOrder(%s): %v", o.ExternalRef, err)
	}
	return res
}

// TestRereadAfterCrash: a file is archived only once a call comes with a
// cursor past it, so a hub that crashed before committing a cursor reads
// the same events again (also from a restarted connector).
func TestRereadAfterCrash(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 2 {
		submit(t, e.conn, connectortest.NewOrder(connectortest.Ref("crash"), order.Line{SKU: "A", Quantity: 1}))
	}
	e.wh.settle()
	in := csvwms.DefaultIn
	first, c1, err := e.conn.Events(t.Context(), "", 1)
	if err != nil || len(first) != 1 || c1 != "shp_000001.csv" {
		t.Fatalf("Events(\"\", 1) = %v, %q, %v", ids(first), c1, err)
	}
	again, c1b, err := e.conn.Events(t.Context(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, again); d != "" || c1b != c1 {
		t.Fatalf("re-read after a crash differs (cursor %q vs %q):\n%s", c1, c1b, d)
	}
	if !exists(t, e.root, in+"/shp_000001.csv") || exists(t, e.root, "archive/shp_000001.csv") {
		t.Fatal("file archived before the hub moved its cursor past it")
	}

	// A restarted connector (no memory) with the old cursor: same events.
	restarted, err := csvwms.New(csvwms.Config{Drop: e.flaky, NoStableWait: true})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := restarted.Events(t.Context(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, fresh); d != "" {
		t.Fatalf("restarted connector read different events:\n%s", d)
	}

	second, c2, err := e.conn.Events(t.Context(), c1, 1)
	if err != nil || len(second) != 1 || c2 != "shp_000002.csv" || second[0].ID == first[0].ID {
		t.Fatalf("Events(%q, 1) = %v, %q, %v", c1, ids(second), c2, err)
	}
	if exists(t, e.root, in+"/shp_000001.csv") || !exists(t, e.root, "archive/shp_000001.csv") {
		t.Error("file not archived once the cursor moved past it")
	}
	if !exists(t, e.root, in+"/shp_000002.csv") {
		t.Error("the file of the uncommitted page was archived")
	}
	// Archived files stay in the feed for a replay from an older cursor.
	all, _ := connectortest.Drain(t, e.conn, "", 10)
	if d := cmp.Diff(append(ids(first), ids(second)...), ids(all)); d != "" {
		t.Errorf("replay from the start (-want +got):\n%s", d)
	}
}

// TestBadFilesQuarantined: a file with a bad row and a file whose header
// lacks a required column go to error/ with a reason file; the good file
// after them is still delivered, and the cursor moves past all three. A
// stock file with bad rows is used with those rows rejected one by one; a
// stock file with a CSV syntax error goes to error/.
func TestBadFilesQuarantined(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	in := csvwms.DefaultIn
	write := func(name, body string) {
		t.Helper()
		if err := e.wh.drop.WriteAtomic(ctx, in, name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	write("shp_1.csv", shpHeader+"R1,S1,,1,A,lots,P1,,,T1,\n")
	write("shp_2.csv", "reference,sku,quantity\nR2,A,1\n")
	write("shp_3.csv", shpHeader+"R3,S3,,1,A,1,P3,,,T3,\n")
	evs, cur, err := e.conn.Events(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"shp_3.csv#S3"}, ids(evs)); d != "" || cur != "shp_3.csv" {
		t.Fatalf("events (-want +got):\n%s cursor %q", d, cur)
	}
	for name, want := range map[string]string{"shp_1.csv": `line 2, column "quantity"`, "shp_2.csv": "external_ref"} {
		if exists(t, e.root, in+"/"+name) || !exists(t, e.root, "error/"+name) {
			t.Errorf("%s not moved to error/", name)
		}
		reason, err := os.ReadFile(filepath.Join(e.root, "error", name+".reason.txt"))
		if err != nil || !strings.Contains(string(reason), want) {
			t.Errorf("%s reason = %q, %v; want it to mention %s", name, reason, err, want)
		}
	}
	// A stock file with bad rows is used: its good rows are items, each
	// bad row a rejected line (data row index, SKU, line/column/value
	// reason), and it is not quarantined; the older file is archived.
	write("inv_1.csv", "sku,on_hand,available\nA,4,4\n")
	time.Sleep(10 * time.Millisecond)
	write("inv_2.csv", "sku,on_hand,available\nA,-1,-1\nB,2,1\n,3,3\nC,x,1\n")
	snap, err := e.conn.Stock(ctx)
	if err != nil || !snap.Full {
		t.Fatalf("Stock = %+v, %v", snap, err)
	}
	if d := cmp.Diff([]connector.StockItem{{SKU: "B", OnHand: 2, Available: 1}}, snap.Items); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	wantRejected := []connector.RejectedStockLine{
		{Index: 0, SKU: "A", Reason: `line 2, column "on_hand", value "-1": on_hand must be at least 0, got -1; ` +
			`line 2, column "available", value "-1": available must be at least 0, got -1`},
		{Index: 2, Reason: `line 4, column "sku": SKU is empty`},
		{Index: 3, SKU: "C", Reason: `line 5, column "on_hand", value "x": on_hand "x" is not a whole number`},
	}
	if d := cmp.Diff(wantRejected, snap.Rejected); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if exists(t, e.root, "error/inv_2.csv") || !exists(t, e.root, "archive/inv_1.csv") {
		t.Error("a stock file with bad rows went to error/, or the older one was not archived")
	}
	// A file that cannot be read row by row (an unbalanced quote) goes to
	// error/ with a reason, and the previous file is used again.
	time.Sleep(10 * time.Millisecond)
	write("inv_3.csv", "sku,on_hand,available\nA,\"4,4\nB,1,1\n")
	snap, err = e.conn.Stock(ctx)
	if err != nil || len(snap.Items) != 1 || snap.Items[0].SKU != "B" || len(snap.Rejected) != 3 {
		t.Fatalf("Stock after a malformed file = %+v, %v", snap, err)
	}
	reason, err := os.ReadFile(filepath.Join(e.root, "error", "inv_3.csv.reason.txt"))
	if err != nil || !strings.Contains(string(reason), "malformed CSV") {
		t.Errorf("malformed stock file reason = %q, %v", reason, err)
	}
}

// TestLateFileNotDropped: a file whose name sorts before the committed
// cursor and that was never delivered goes to error/ with a reason, not to
// archive/.
func TestLateFileNotDropped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	if err := e.wh.drop.WriteAtomic(ctx, csvwms.DefaultIn, "shp_a.csv", []byte(shpHeader+"R1,S1,,,,,,,,T1,\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.conn.Events(ctx, "shp_b.csv", 10); err != nil {
		t.Fatal(err)
	}
	if !exists(t, e.root, "error/shp_a.csv") || !exists(t, e.root, "error/shp_a.csv.reason.txt") || exists(t, e.root, "archive/shp_a.csv") {
		t.Error("late file not quarantined with a reason")
	}
}

// TestStableAfter: with a stability wait, a fresh file is read only once it
// has been seen unchanged in two listings.
func TestStableAfter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conn, err := csvwms.New(csvwms.Config{Drop: e.flaky, StableAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.wh.drop.WriteAtomic(t.Context(), csvwms.DefaultIn, "shp_1.csv", []byte(shpHeader+"R1,S1,,,,,,,,T1,\n")); err != nil {
		t.Fatal(err)
	}
	evs, cur, err := conn.Events(t.Context(), "", 10)
	if err != nil || len(evs) != 0 || cur != "" {
		t.Fatalf("first listing: %v, %q, %v; want nothing yet", ids(evs), cur, err)
	}
	evs, cur, err = conn.Events(t.Context(), "", 10)
	if err != nil || len(evs) != 1 || cur != "shp_1.csv" {
		t.Fatalf("second listing: %v, %q, %v", ids(evs), cur, err)
	}
}

// TestSubmitAfterArchiveAndCancel: an order the 3PL already moved to
// archive/ is still recognised as sent; cancel writes a request file and
// waits for the warehouse's answer.
func TestSubmitAfterArchiveAndCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	o := connectortest.NewOrder("CD-42", order.Line{SKU: "A", Quantity: 1})
	if res := submit(t, e.conn, o); !res.Created || res.WMSOrderID != "ord_CD-42.csv" {
		t.Fatalf("first submit: %+v", res)
	}
	e.wh.settle()
	if !exists(t, e.root, "archive/ord_CD-42.csv") {
		t.Fatal("3PL did not archive the order")
	}
	if res := submit(t, e.conn, o); res.Created {
		t.Error("resubmission after the 3PL archived the order: Created true")
	}
	o2 := connectortest.NewOrder("CD-42", order.Line{SKU: "B", Quantity: 1})
	if _, err := e.conn.SubmitOrder(t.Context(), o2); !connector.IsPermanent(err) {
		t.Errorf("different lines under an archived reference: %v, want permanent", err)
	}
	if _, err := e.conn.CancelOrder(t.Context(), "CD-42"); !errors.Is(err, csvwms.ErrCancelPending) {
		t.Fatalf("CancelOrder = %v, want pending", err)
	}
	b, err := os.ReadFile(filepath.Join(e.root, csvwms.DefaultOut, "cancel_CD-42.csv"))
	if err != nil || string(b) != "external_ref\r\nCD-42\r\n" {
		t.Errorf("cancel file = %q, %v", b, err)
	}
	if _, err := e.conn.SubmitOrder(t.Context(), connectortest.NewOrder("../x", order.Line{SKU: "A", Quantity: 1})); !connector.IsPermanent(err) {
		t.Errorf("reference with a slash: %v, want permanent", err)
	}
}

// French 3PL: ';' and Windows-1252, French headers.
var frenchProfile = map[string]any{
	"delimiter": ";",
	"encoding":  "windows-1252",
	"header":    true,
	"orders": map[string]any{
		"external_ref": "Commande", "ship_to.name": "Destinataire", "ship_to.address1": "Adresse",
		"ship_to.postal_code": "Code postal", "ship_to.city": "Ville", "ship_to.country_code": "Pays",
		"line_no": "Ligne", "sku": "Article", "quantity": "Quantité",
	},
	"shipments": map[string]any{
		"external_ref": "Commande", "shipment_id": "Expédition", "shipped_at": "Date d'expédition",
		"line_no": "Ligne", "sku": "Article", "quantity": "Quantité", "package_id": "Colis",
		"carrier": "Transporteur", "tracking_number": "Suivi",
	},
	"stock": map[string]any{"sku": "Article", "on_hand": "Quantité"},
}

// TestFrenchWindows1252EndToEnd: configured from a map (registry), the
// connector writes a ';' Windows-1252 order file the French 3PL reads, and
// reads its Windows-1252 shipment and stock files (leading zeros kept, two
// parcels).
func TestFrenchWindows1252EndToEnd(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	info, ok := connector.Lookup("csv")
	if !ok {
		t.Fatal(`kind "csv" is not registered`)
	}
	w, err := info.New(map[string]any{
		"transport": "local", "dir": root, "out": "vers_entrepot", "in": "depuis_entrepot",
		"stable_after": "0s", "profile": frenchProfile,
	})
	if err != nil {
		t.Fatal(err)
	}
	o := connectortest.NewOrder("FR-1001", order.Line{SKU: "00123", Quantity: 2}, order.Line{SKU: "ABC-9", Quantity: 2})
	o.ShipTo.Name = "Hôtel de l'Épée"
	submit(t, w, o)
	data, err := os.ReadFile(filepath.Join(root, "vers_entrepot", "ord_FR-1001.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("Commande;")) || !bytes.Contains(data, []byte("Quantit\xe9")) || !bytes.Contains(data, []byte("H\xf4tel de l'\xc9p\xe9e")) {
		t.Fatalf("order file is not ';' Windows-1252:\n%q", data)
	}
	prof := csvfile.Profile{Delimiter: ";", Encoding: "windows-1252", Header: true, Orders: csvfile.Columns{}}
	for k, v := range frenchProfile["orders"].(map[string]any) {
		prof.Orders[k] = v.(string)
	}
	got, rowErrs, err := csvfile.ReadOrders(bytes.NewReader(data), prof)
	if err != nil || len(rowErrs) > 0 || len(got) != 1 || got[0].ShipTo.Name != o.ShipTo.Name || got[0].Lines[0].SKU != "00123" {
		t.Fatalf("3PL reads %+v, %v, %v", got, rowErrs, err)
	}

	in := filepath.Join(root, "depuis_entrepot")
	shp := "Commande;Exp\xe9dition;Date d'exp\xe9dition;Ligne;Article;Quantit\xe9;Colis;Transporteur;Suivi\r\n" +
		"FR-1001;EXP-1;27/11/2026 10:15;1;00123;2;C1;Colissimo;6A123\r\n" +
		"FR-1001;EXP-1;27/11/2026 10:15;2;ABC-9;1;C1;Colissimo;6A123\r\n" +
		"FR-1001;EXP-1;27/11/2026 10:15;2;ABC-9;1;C2;Colissimo;6A124\r\n"
	if err := os.WriteFile(filepath.Join(in, "shp_20261127.csv"), []byte(shp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "inv_20261127.csv"), []byte("Article;Quantit\xe9\r\n00123;7\r\nABC-9;0\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, cur, err := w.Events(t.Context(), "", 50)
	if err != nil || len(evs) != 1 || cur != "shp_20261127.csv" {
		t.Fatalf("Events = %+v, %q, %v", evs, cur, err)
	}
	s := evs[0].Shipment
	if evs[0].ID != "shp_20261127.csv#EXP-1" || s.ExternalRef != "FR-1001" || len(s.Packages) != 2 ||
		s.Packages[1].TrackingNumber != "6A124" || s.Lines[0].SKU != "00123" ||
		!s.ShippedAt.Equal(time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("shipment = %+v", s)
	}
	snap, err := w.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []connector.StockItem{{SKU: "00123", OnHand: 7, Available: 7}, {SKU: "ABC-9", OnHand: 0, Available: 0}}
	if d := cmp.Diff(want, snap.Items); d != "" || !snap.Full || snap.AsOf.IsZero() {
		t.Errorf("stock (-want +got):\n%s full=%v as_of=%v", d, snap.Full, snap.AsOf)
	}
}

// TestConfigErrors: strict decoding; every configuration error is
// permanent.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, cfg := range map[string]map[string]any{
		"no transport":       {"dir": dir},
		"bad transport":      {"transport": "ftp", "dir": dir},
		"unknown key":        {"transport": "local", "dir": dir, "folder": "x"},
		"sftp key on local":  {"transport": "local", "dir": dir, "user": "x"},
		"missing dir":        {"transport": "local"},
		"dir does not exist": {"transport": "local", "dir": filepath.Join(dir, "nope")},
		"same folders":       {"transport": "local", "dir": dir, "in": "x", "out": "x"},
		"escaping folder":    {"transport": "local", "dir": dir, "archive": "../x"},
		"bad stable_after":   {"transport": "local", "dir": dir, "stable_after": "soon"},
		"unknown profile key": {"transport": "local", "dir": dir,
			"profile": map[string]any{"header": true, "delimitr": ";"}},
		"unmapped required": {"transport": "local", "dir": dir,
			"profile": map[string]any{"header": true, "stock": map[string]any{"sku": "A"}}},
		"sftp without auth":     {"transport": "sftp", "address": "127.0.0.1:22", "user": "u", "insecure_ignore_host_key": true},
		"sftp without host key": {"transport": "sftp", "address": "127.0.0.1:22", "user": "u", "password": "p"},
		"sftp bad host key":     {"transport": "sftp", "address": "127.0.0.1:22", "user": "u", "password": "p", "host_key": "nope"},
		"sftp dir":              {"transport": "sftp", "address": "127.0.0.1:22", "user": "u", "password": "p", "insecure_ignore_host_key": true, "dir": dir},
	} {
		_, err := csvwms.NewFromMap(cfg)
		if err == nil || !connector.IsPermanent(err) {
			t.Errorf("%s: NewFromMap = %v, want a permanent error", name, err)
		}
	}
	c, err := csvwms.NewFromMap(map[string]any{"transport": "sftp", "address": "127.0.0.1:1", "user": "u", "password": "p", "insecure_ignore_host_key": true})
	if err != nil {
		t.Fatalf("valid sftp config: %v", err)
	}
	// Nothing listens on port 1: a transport error, retryable, not permanent.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, _, err = c.Events(ctx, "", 10)
	if err == nil || connector.IsPermanent(err) || !filedrop.IsRetryable(err) {
		t.Errorf("Events with the SFTP server down: %v, want a retryable error", err)
	}
	_ = c.Close()
}

// TestCancelAnsweredByShipmentFile: CancelOrder waits (retry-after,
// ErrCancelPending) until the partner answers in a shipment file: a
// shipment shipping 0 of every line is a cancellation (a "cancelled"
// event, Cancelled true), one shipping units a refusal ("already
// shipped"); a line shipping 0 beside shipped ones is left out; with no
// answer in time the error is permanent.
func TestCancelAnsweredByShipmentFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	conn, err := csvwms.New(csvwms.Config{Drop: e.flaky, NoStableWait: true, CancelRecheck: 3 * time.Second,
		CancelAnswerWithin: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"CD-1", "CD-2", "CD-3"} {
		for i := range 2 { // the second call finds the request already sent
			_, err := conn.CancelOrder(ctx, ref)
			if d, ok := connector.RetryDelay(err); !errors.Is(err, csvwms.ErrCancelPending) || !ok || d != 3*time.Second {
				t.Fatalf("CancelOrder(%s) #%d = %v, want retry-after 3s with ErrCancelPending", ref, i+1, err)
			}
		}
		if !exists(t, e.root, csvwms.DefaultOut+"/cancel_"+ref+".csv") {
			t.Fatalf("no cancel file for %s", ref)
		}
	}
	// CD-1 closed unshipped; CD-2 shipped one line of two, the other 0.
	body := shpHeader +
		"CD-1,S1,,1,A,0,,,,,\n" + "CD-1,S1,,2,B,0,,,,,\n" +
		"CD-2,S2,,1,A,1,P2,UPS,,1Z2,\n" + "CD-2,S2,,2,B,0,P2,UPS,,1Z2,\n"
	if err := e.wh.drop.WriteAtomic(ctx, csvwms.DefaultIn, "shp_1.csv", []byte(body)); err != nil {
		t.Fatal(err)
	}
	evs, _, err := conn.Events(ctx, "", 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	if evs[0].Type != connector.EventCancelled || evs[0].ExternalRef != "CD-1" || evs[0].Shipment != nil {
		t.Errorf("event 0 = %+v, want CD-1 cancelled", evs[0])
	}
	if sh := evs[1].Shipment; evs[1].Type != connector.EventShipped || sh == nil || len(sh.Lines) != 1 || sh.Lines[0].SKU != "A" ||
		len(sh.Packages) != 1 || len(sh.Packages[0].Lines) != 1 {
		t.Errorf("event 1 = %+v, want CD-2 shipped with line A only", evs[1])
	}
	if res, err := conn.CancelOrder(ctx, "CD-1"); err != nil || !res.Cancelled {
		t.Errorf("CancelOrder(CD-1) after the 0 shipment = %+v, %v; want cancelled", res, err)
	}
	if res, err := conn.CancelOrder(ctx, "CD-2"); err != nil || res.Cancelled || res.Reason != "already shipped" {
		t.Errorf("CancelOrder(CD-2) after the shipment = %+v, %v; want refused, already shipped", res, err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := conn.CancelOrder(ctx, "CD-3"); !connector.IsPermanent(err) {
		t.Errorf("CancelOrder(CD-3) unanswered for 2h = %v, want permanent", err)
	}
}
