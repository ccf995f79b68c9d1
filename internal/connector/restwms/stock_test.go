package restwms_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/restwms"
)

// stockClient is a client whose warehouse answers GET /v1/stock with body.
func stockClient(t *testing.T, body string) *restwms.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c, err := restwms.New(restwms.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStockRejectsBadLinesOneByOne: a line without sku, with a negative
// quantity or repeating a sku is rejected with its index and reason (every
// line of a repeated sku), and the good lines still make the snapshot.
func TestStockRejectsBadLinesOneByOne(t *testing.T) {
	t.Parallel()
	c := stockClient(t, `{"as_of":"2026-03-02T09:00:00Z","full":true,"items":[
		{"sku":"GOOD-1","on_hand":5,"available":4},
		{"sku":"","on_hand":1,"available":1},
		{"sku":"NEG","on_hand":-1,"available":0},
		{"sku":"TWICE","on_hand":3,"available":3},
		{"sku":"GOOD-2","on_hand":0,"available":0},
		{"sku":"TWICE","on_hand":7,"available":7}],
		"rejected":[{"index":0,"sku":"GOOD-1","reason":"sent by the warehouse"}]}`)
	snap, err := c.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := connector.StockSnapshot{
		AsOf: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Full: true,
		Items: []connector.StockItem{{SKU: "GOOD-1", OnHand: 5, Available: 4}, {SKU: "GOOD-2"}},
	}
	reasons := map[int]string{}
	for _, r := range snap.Rejected {
		reasons[r.Index] = r.Reason
	}
	got := snap
	got.Rejected = nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}
	wantRejected := []connector.RejectedStockLine{{Index: 1}, {Index: 2, SKU: "NEG"}, {Index: 3, SKU: "TWICE"}, {Index: 5, SKU: "TWICE"}}
	if d := cmp.Diff(wantRejected, snap.Rejected, cmpIgnoreReason); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	for idx, words := range map[int]string{1: "no sku", 2: "negative", 3: "2 lines", 5: "2 lines"} {
		if !strings.Contains(reasons[idx], words) {
			t.Errorf("line %d: reason %q does not say %q", idx, reasons[idx], words)
		}
	}
}

// cmpIgnoreReason compares rejected lines by index and SKU.
var cmpIgnoreReason = cmp.Comparer(func(a, b connector.RejectedStockLine) bool { return a.Index == b.Index && a.SKU == b.SKU })

// TestStockWithoutAsOfIsPermanent: a snapshot that cannot be dated is still
// refused as a whole, and a snapshot without bad lines has no Rejected.
func TestStockWithoutAsOfIsPermanent(t *testing.T) {
	t.Parallel()
	_, err := stockClient(t, `{"full":true,"items":[{"sku":"A","on_hand":1,"available":1}]}`).Stock(t.Context())
	if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), "as_of") {
		t.Errorf("no as_of: err = %v, want a permanent error naming as_of", err)
	}
	snap, err := stockClient(t, `{"as_of":"2026-03-02T09:00:00Z","items":[{"sku":"A","on_hand":1,"available":1}]}`).Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]connector.StockItem{{SKU: "A", OnHand: 1, Available: 1}}, snap.Items); d != "" || snap.Rejected != nil || snap.Full {
		t.Errorf("good snapshot: rejected %+v, full %v, items (-want +got):\n%s", snap.Rejected, snap.Full, d)
	}
}
