package ediwms_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/x12"
)

// parse846 parses bare ST..SE text ('*' and '~') into sets.
func parse846(t *testing.T, text string) []*x12.TransactionSet {
	t.Helper()
	sets, _, err := x12.ParseSets(strings.NewReader(text), x12.DefaultDelimiters)
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// posOf is the position of the n-th segment (from 0) with id in sets.
func posOf(t *testing.T, sets []*x12.TransactionSet, id string, n int) string {
	t.Helper()
	for _, set := range sets {
		for _, s := range set.Segments {
			if s.ID == id {
				if n == 0 {
					return s.Pos.String()
				}
				n--
			}
		}
	}
	t.Fatalf("no %s number %d", id, n)
	return ""
}

// set846 wraps segments ("LIN*1*SK*A", …) in an 846 set.
func set846(segs ...string) string {
	body := append([]string{"BIA*00*SI*R1*20260303"}, segs...)
	return "ST*846*0001~" + strings.Join(body, "~") + fmt.Sprintf("~SE*%d*0001~", len(body)+2)
}

// TestRead846RejectsBadLines: of a good LIN, a LIN whose QTY is not a
// number, a LIN without item id and a negative QTY, only the good one is an
// item; the three others are rejected lines with their LIN ordinal, SKU
// and a reason naming the segment and the problem.
func TestRead846RejectsBadLines(t *testing.T) {
	t.Parallel()
	sets := parse846(t, set846(
		"LIN*1*SK*GOOD", "QTY*17*10*EA", "QTY*33*8*EA",
		"LIN*2*SK*NAN", "QTY*33*ten*EA",
		"LIN*3*SK*", "QTY*33*4*EA",
		"LIN*4*SK*NEG", "QTY*17*-2*EA", "QTY*33*0*EA",
	))
	items, rejected, warns := ediwms.Read846(sets, testProfile)
	if d := cmp.Diff([]connector.StockItem{{SKU: "GOOD", OnHand: 10, Available: 8}}, items); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	want := []connector.RejectedStockLine{
		{Index: 1, SKU: "NAN", Reason: fmt.Sprintf(`QTY 33 at %s: quantity "ten" is not a whole number`, posOf(t, sets, "QTY", 2))},
		{Index: 2, Reason: fmt.Sprintf("LIN at %s has no item id", posOf(t, sets, "LIN", 2))},
		{Index: 3, SKU: "NEG", Reason: fmt.Sprintf("QTY 17 at %s: negative quantity -2", posOf(t, sets, "QTY", 4))},
	}
	if d := cmp.Diff(want, rejected); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
}

// TestRead846Rules: the other reasons to reject a LIN, and the repeats of
// a SKU that are still one item (same figures, or one lot per LIN).
func TestRead846Rules(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.UOMFactors = map[string]int{"CS": 6}
	type rej struct {
		index int
		sku   string
		has   string // in the reason
	}
	for _, tc := range []struct {
		name     string
		segs     []string
		items    []connector.StockItem
		rejected []rej
		warns    int
	}{
		{name: "no QTY 17 or 33", segs: []string{"LIN**SK*A", "QTY*02*5*EA", "LIN**SK*B", "QTY*33*1*CS"},
			items: []connector.StockItem{{SKU: "B", OnHand: 6, Available: 6}}, rejected: []rej{{0, "A", "has no QTY 17 (on hand) or 33 (available)"}}},
		{name: "unit without factor", segs: []string{"LIN**SK*A", "QTY*33*2*PL"},
			rejected: []rej{{0, "A", `unit of measure "PL" has no factor`}}},
		{name: "same SKU, different figures", segs: []string{"LIN**SK*A", "QTY*33*2", "LIN**SK*B", "QTY*33*1", "LIN**VN*A", "QTY*33*3"},
			items:    []connector.StockItem{{SKU: "B", OnHand: 1, Available: 1}},
			rejected: []rej{{0, "A", "item A is on 2 LIN"}, {2, "A", "item A is on 2 LIN"}}},
		{name: "same SKU, one line bad", segs: []string{"LIN**SK*A", "QTY*33*2", "LIN**SK*A", "QTY*33*x"},
			rejected: []rej{{0, "A", "cannot be combined"}, {1, "A", "is not a whole number"}}},
		{name: "same SKU, same figures", segs: []string{"LIN**SK*A", "QTY*17*4", "QTY*33*2", "LIN**SK*A", "QTY*33*2", "QTY*17*4"},
			items: []connector.StockItem{{SKU: "A", OnHand: 4, Available: 2}}},
		{name: "one lot per LIN adds up", segs: []string{"LIN**SK*A*LT*L1", "QTY*17*4", "QTY*33*2", "LIN**SK*A*LT*L2", "QTY*33*1*CS"},
			items: []connector.StockItem{{SKU: "A", OnHand: 10, Available: 8}}},
		{name: "the same lot twice", segs: []string{"LIN**SK*A*LT*L1", "QTY*33*2", "LIN**SK*A*LT*L1", "QTY*33*3"},
			rejected: []rej{{0, "A", "cannot be combined"}, {1, "A", "cannot be combined"}}},
		{name: "a lot is no item id", segs: []string{"LIN**LT*L1", "QTY*33*2"},
			rejected: []rej{{0, "", "has no item id"}}},
		{name: "QTY 17 twice, different", segs: []string{"LIN**SK*A", "QTY*17*2", "QTY*17*3"},
			rejected: []rej{{0, "A", "gives 3 units, QTY 17 at"}}},
		{name: "QTY outside a LIN", segs: []string{"QTY*33*2", "LIN**SK*A", "QTY*33*1"},
			items: []connector.StockItem{{SKU: "A", OnHand: 1, Available: 1}}, warns: 1},
		{name: "available capped at on hand", segs: []string{"LIN**SK*A", "QTY*17*1", "QTY*33*5"},
			items: []connector.StockItem{{SKU: "A", OnHand: 1, Available: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			items, rejected, warns := ediwms.Read846(parse846(t, set846(tc.segs...)), p)
			if d := cmp.Diff(tc.items, items, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("items (-want +got):\n%s", d)
			}
			if len(rejected) != len(tc.rejected) {
				t.Fatalf("rejected %+v, want %+v", rejected, tc.rejected)
			}
			for i, r := range tc.rejected {
				if g := rejected[i]; g.Index != r.index || g.SKU != r.sku || !strings.Contains(g.Reason, r.has) || !strings.Contains(g.Reason, "segment ") {
					t.Errorf("rejected[%d] = %+v, want %+v", i, g, r)
				}
			}
			if len(warns) != tc.warns {
				t.Errorf("warnings %q, want %d", warns, tc.warns)
			}
		})
	}
}

// TestRead846RealSamples: the real 846 samples of the x12 package read as
// before: one item per LIN, nothing rejected.
func TestRead846RealSamples(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "x12", "testdata", "*", "846*"))
	if len(files) == 0 {
		t.Fatal("no 846 sample")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var sets []*x12.TransactionSet
		if bytes.HasPrefix(b, []byte("ISA")) {
			ics, _, err := x12.Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			for _, ic := range ics {
				for _, g := range ic.Groups {
					sets = append(sets, g.Sets...)
				}
			}
		} else {
			sets = parse846(t, string(b))
		}
		items, rejected, warns := ediwms.Read846(sets, testProfile)
		lins := bytes.Count(b, []byte("LIN*"))
		if len(items) != lins || len(rejected) != 0 || len(warns) != 0 {
			t.Errorf("%s: %d LIN gave items %+v, rejected %+v, warnings %q", file, lins, items, rejected, warns)
		}
	}
}

// stockSet is an 846 set of the given segments, for a partner file.
func stockSet(segs ...[]string) *x12.TransactionSet {
	set := &x12.TransactionSet{ST: x12.NewSegment("ST", "846", ""), Segments: []x12.Segment{x12.NewSegment("BIA", "00", "DD", "X", "20260303")}}
	for _, s := range segs {
		set.Segments = append(set.Segments, x12.NewSegment(s[0], s[1:]...))
	}
	return set
}

// TestStockRejectedLines: Stock (full) returns the good LIN as items and
// the bad ones as the snapshot's rejected lines, reasons prefixed with the
// file name; the file is not quarantined.
func TestStockRejectedLines(t *testing.T) {
	t.Parallel()
	e := setup(t)
	name := e.wh.put("846", partnerFile(t, e.wh, "IB", stockSet(
		[]string{"LIN", "", "SK", "GOOD"}, []string{"QTY", "33", "5", "EA"},
		[]string{"LIN", "", "SK", "NAN"}, []string{"QTY", "33", "five", "EA"},
		[]string{"LIN", "", "SK", ""}, []string{"QTY", "33", "1", "EA"},
		[]string{"LIN", "", "SK", "NEG"}, []string{"QTY", "17", "-1", "EA"},
	)))
	snap, err := e.conn.Stock(t.Context())
	if err != nil || !snap.Full {
		t.Fatalf("Stock = %+v, %v", snap, err)
	}
	if d := cmp.Diff([]connector.StockItem{{SKU: "GOOD", OnHand: 5, Available: 5}}, snap.Items); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	got := map[int]connector.RejectedStockLine{}
	for _, r := range snap.Rejected {
		got[r.Index] = r
	}
	for i, w := range map[int]struct{ sku, has string }{1: {"NAN", "is not a whole number"}, 2: {"", "has no item id"}, 3: {"NEG", "negative quantity -1"}} {
		if r := got[i]; r.SKU != w.sku || !strings.HasPrefix(r.Reason, name+": ") || !strings.Contains(r.Reason, w.has) {
			t.Errorf("rejected line %d = %+v, want sku %q and %q", i, r, w.sku, w.has)
		}
	}
	if len(snap.Rejected) != 3 || exists(e.root, ediwms.DefaultError+"/"+name) {
		t.Errorf("rejected %+v; file in error/: %v", snap.Rejected, exists(e.root, ediwms.DefaultError+"/"+name))
	}
}

// TestPartialStockRejectedLines: in a partial merge the newest file that
// lists a SKU decides: a newer rejected line drops an older figure (the SKU
// stays rejected), a newer valid line supersedes an older rejected one, and
// a line without item id is always kept.
func TestPartialStockRejectedLines(t *testing.T) {
	t.Parallel()
	p := testProfile
	p.StockScope = ediwms.StockPartial
	e := setupWith(t, p, "")
	old := e.wh.put("846", partnerFile(t, e.wh, "IB", stockSet(
		[]string{"LIN", "", "SK", "A"}, []string{"QTY", "33", "5"},
		[]string{"LIN", "", "SK", "B"}, []string{"QTY", "33", "7"},
		[]string{"LIN", "", "SK", "C"}, []string{"QTY", "33", "x"},
	)))
	past := time.Now().Add(-time.Hour)
	_ = os.Chtimes(filepath.Join(e.root, ediwms.DefaultIn, old), past, past)
	newer := e.wh.put("846", partnerFile(t, e.wh, "IB", stockSet(
		[]string{"LIN", "", "SK", "A"}, []string{"QTY", "33", "-3"},
		[]string{"LIN", "", "SK", "C"}, []string{"QTY", "33", "3"},
		[]string{"LIN", "", "BP", ""}, []string{"QTY", "33", "1"},
	)))
	snap, err := e.conn.Stock(t.Context())
	if err != nil || snap.Full {
		t.Fatalf("Stock = %+v, %v", snap, err)
	}
	if d := cmp.Diff([]connector.StockItem{{SKU: "B", OnHand: 7, Available: 7}, {SKU: "C", OnHand: 3, Available: 3}}, snap.Items); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	if len(snap.Rejected) != 2 {
		t.Fatalf("rejected %+v, want A's newer line and the line without id", snap.Rejected)
	}
	if r := snap.Rejected[0]; r.SKU != "A" || r.Index != 0 || !strings.HasPrefix(r.Reason, newer+": ") || !strings.Contains(r.Reason, "negative") {
		t.Errorf("rejected[0] = %+v", r)
	}
	if r := snap.Rejected[1]; r.SKU != "" || r.Index != 2 || !strings.HasPrefix(r.Reason, newer+": ") {
		t.Errorf("rejected[1] = %+v", r)
	}
}
