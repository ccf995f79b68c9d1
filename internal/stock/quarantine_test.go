package stock_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
)

// lineRejecter makes the warehouse's connector reject the lines of some
// SKUs (as restwms does with a bad line) and add lines without item code.
type lineRejecter struct {
	connector.WMS
	mu       sync.Mutex
	reasons  map[string]string // SKU → reason
	codeless []int             // indexes of rejected lines without code
}

func (r *lineRejecter) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	snap, err := r.WMS.Stock(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	var kept []connector.StockItem
	for i, it := range snap.Items {
		if why, ok := r.reasons[it.SKU]; ok {
			snap.Rejected = append(snap.Rejected, connector.RejectedStockLine{Index: i, SKU: it.SKU, Reason: why})
			continue
		}
		kept = append(kept, it)
	}
	snap.Items = kept
	for _, i := range r.codeless {
		snap.Rejected = append(snap.Rejected, connector.RejectedStockLine{Index: i, Reason: "the line has no sku"})
	}
	return snap, err
}

func (r *lineRejecter) set(reasons map[string]string, codeless ...int) {
	r.mu.Lock()
	r.reasons, r.codeless = reasons, codeless
	r.mu.Unlock()
}

// rejecter puts a lineRejecter in front of b's warehouse.
func (b *bundle) rejecter(t *testing.T) *lineRejecter {
	t.Helper()
	ten, ok := b.w.Tenants.Shop(shop)
	if !ok {
		t.Fatalf("no shop %s", shop)
	}
	r := &lineRejecter{WMS: ten.Warehouses[0].WMS}
	ten.Warehouses[0].WMS = r
	return r
}

// lineRejected returns the shop's stock.line_rejected discrepancies in state
// ("open", "closed" or "") by key.
func (b *bundle) lineRejected(t *testing.T, state string) map[string]store.Discrepancy {
	t.Helper()
	ds, err := store.ListDiscrepancies(context.Background(), b.st.Read, store.DiscrepancyFilter{Shop: shop, Kind: stock.KindLineRejected, State: state})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Discrepancy{}
	for _, d := range ds {
		out[d.Key] = d
	}
	return out
}

// level returns the stored stock level of sku at paris.
func (b *bundle) level(t *testing.T, sku string) store.StockLevel {
	t.Helper()
	ls, err := store.StockLevels(context.Background(), b.st.Read, shop, "paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.SKU == sku {
			return l
		}
	}
	t.Fatalf("no stock level of %s at paris", sku)
	return store.StockLevel{}
}

// A full snapshot with one rejected line: the good lines are applied, the
// rejected SKU keeps its last figure and its time (it is not zeroed as
// missing), and the line is quarantined as an open stock.line_rejected
// discrepancy naming the item and the reason, touched while the line stays
// bad. A later valid line updates the figure and closes it; a line without
// item code is quarantined by its index and closed once no longer sent.
func TestFullSnapshotQuarantinesRejectedLine(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	r := b.rejecter(t)
	b.sync(t)
	good, bad := b.skus[0], b.skus[1]
	badWas, badLevel := b.shopify(t, bad), b.level(t, bad)

	const reason = "negative quantity (on_hand -4, available -4)"
	r.set(map[string]string{bad: reason}, 7)
	b.wms.SetStock(map[string]int{good: 50, bad: 0})
	b.sync(t)
	if got := b.shopify(t, good); got != 50 {
		t.Errorf("%s (good line): Shopify %d, want 50", good, got)
	}
	if got := b.shopify(t, bad); got != badWas {
		t.Errorf("%s (rejected line): Shopify %d, want its last figure %d kept", bad, got, badWas)
	}
	if l := b.level(t, bad); l.Available != badLevel.Available || !l.AsOf.Equal(badLevel.AsOf) {
		t.Errorf("%s (rejected line): stored %d as of %s, want %d as of %s kept", bad, l.Available, l.AsOf, badLevel.Available, badLevel.AsOf)
	}
	key, codeless := stock.KindLineRejected+":paris:"+bad, stock.KindLineRejected+":paris:#7"
	open := b.lineRejected(t, "open")
	if len(open) != 2 {
		t.Fatalf("open stock.line_rejected discrepancies %+v, want %s and %s", open, key, codeless)
	}
	d, ok := open[key]
	if !ok {
		t.Fatalf("no open discrepancy %s among %+v", key, open)
	}
	for _, words := range []string{"Paris", "item " + bad, reason, "last figure kept"} {
		if !strings.Contains(d.Message, words) {
			t.Errorf("message %q does not say %q", d.Message, words)
		}
	}
	if d.Severity != store.SeverityWarning || d.Entities["warehouse"] != "paris" || d.Entities["item"] != bad || d.Entities["sku"] != bad {
		t.Errorf("discrepancy %+v: want severity warning, warehouse paris, item and sku %s", d, bad)
	}
	if _, ok := open[codeless]; !ok {
		t.Errorf("no open discrepancy %s for the line without code among %+v", codeless, open)
	}

	// Still bad: the same discrepancy, touched; the figure still kept.
	b.sync(t)
	if d := b.lineRejected(t, "open")[key]; d.Count != 2 {
		t.Errorf("discrepancy after a second bad snapshot: %+v, want the same one seen twice", d)
	}
	if got := b.shopify(t, bad); got != badWas {
		t.Errorf("%s after a second bad snapshot: Shopify %d, want %d kept", bad, got, badWas)
	}

	// The warehouse sends the line right again.
	r.set(nil)
	b.wms.SetStock(map[string]int{bad: 9})
	b.sync(t)
	if got := b.shopify(t, bad); got != 9 {
		t.Errorf("%s with a valid line again: Shopify %d, want 9", bad, got)
	}
	if open := b.lineRejected(t, "open"); len(open) != 0 {
		t.Errorf("open after valid lines: %+v, want none", open)
	}
	closed := b.lineRejected(t, "closed")
	for _, k := range []string{key, codeless} {
		if d, ok := closed[k]; !ok || d.Open() {
			t.Errorf("%s not closed: %+v", k, closed)
		}
	}
}

// A snapshot item no SKU maps to (its code is mapped to nothing while the
// SKU of that name is mapped to another item) is quarantined; once the
// mapping is fixed, the next snapshot closes it.
func TestUnmappedItemQuarantined(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, 2)
	sku := b.skus[1]
	table := mapping.New(b.st)
	who := mapping.Author{Actor: "test", Reason: "the warehouse renamed the item"}
	from := b.clock.Now().Add(-time.Hour)
	if _, err := table.Set(ctx, shop, mapping.Mapping{Warehouse: "paris", SKU: sku, ItemCode: "RENAMED-1", PackSize: 1, EffectiveFrom: from}, who); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	key := stock.KindLineRejected + ":paris:" + sku
	d, ok := b.lineRejected(t, "open")[key]
	if !ok {
		t.Fatalf("no open discrepancy %s: %+v", key, b.lineRejected(t, ""))
	}
	if !strings.Contains(d.Message, "item "+sku) || !strings.Contains(d.Message, "no SKU maps to item "+sku) {
		t.Errorf("message %q does not name the item and the reason", d.Message)
	}

	if _, err := table.Delete(ctx, shop, "paris", sku, b.clock.Now(), who); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	if open := b.lineRejected(t, "open"); len(open) != 0 {
		t.Errorf("open after the mapping was fixed: %+v", open)
	}
	if got, want := b.shopify(t, sku), b.wms.Stock()[sku].Available; got != want {
		t.Errorf("%s after the mapping was fixed: Shopify %d, warehouse %d", sku, got, want)
	}
}

// movementsWMS adds movements (connector.StockMovements) to a warehouse.
type movementsWMS struct {
	connector.WMS
	mu sync.Mutex
	ms []connector.StockMovement
}

func (m *movementsWMS) Movements(_ context.Context, cursor string, limit int) ([]connector.StockMovement, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := 0
	if cursor != "" {
		var err error
		if from, err = strconv.Atoi(cursor); err != nil {
			return nil, cursor, err
		}
	}
	to := min(len(m.ms), from+limit)
	return slices.Clone(m.ms[from:to]), strconv.Itoa(to), nil
}

// A movement of an item no SKU maps to is not counted and is quarantined
// by its id; a snapshot as of its time or later that carries the item
// mapped again closes it.
func TestUnmappedMovementQuarantined(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, 2)
	ten, _ := b.w.Tenants.Shop(shop)
	mv := &movementsWMS{WMS: ten.Warehouses[0].WMS}
	ten.Warehouses[0].WMS = mv
	b.sync(t)
	sku := b.skus[1]
	was := b.shopify(t, sku)
	table := mapping.New(b.st)
	who := mapping.Author{Actor: "test", Reason: "the warehouse renamed the item"}
	if _, err := table.Set(ctx, shop, mapping.Mapping{Warehouse: "paris", SKU: sku, ItemCode: "RENAMED-1", PackSize: 1, EffectiveFrom: b.clock.Now()}, who); err != nil {
		t.Fatal(err)
	}
	b.wms.SetStock(map[string]int{"RENAMED-1": was})
	mv.mu.Lock()
	mv.ms = append(mv.ms, connector.StockMovement{ID: "rcpt-1", SKU: sku, Delta: 30, Reason: "receipt", At: b.clock.Now().Add(time.Minute)})
	mv.mu.Unlock()
	b.sync(t)
	if got := b.shopify(t, sku); got != was {
		t.Errorf("%s after a movement of an unmapped item: Shopify %d, want %d (the movement not counted)", sku, got, was)
	}
	key := stock.KindLineRejected + ":paris:movement:rcpt-1"
	d, ok := b.lineRejected(t, "open")[key]
	if !ok {
		t.Fatalf("no open discrepancy %s: %+v", key, b.lineRejected(t, ""))
	}
	for _, words := range []string{"movement rcpt-1", "item " + sku, "+30", "no SKU maps to item " + sku} {
		if !strings.Contains(d.Message, words) {
			t.Errorf("message %q does not say %q", d.Message, words)
		}
	}

	// The mapping is fixed (the warehouse's code is the SKU again) and the
	// next snapshot carries the item.
	if _, err := table.Delete(ctx, shop, "paris", sku, b.clock.Now(), who); err != nil {
		t.Fatal(err)
	}
	b.wms.SetStock(map[string]int{sku: was + 30})
	b.sync(t)
	if _, ok := b.lineRejected(t, "closed")[key]; !ok {
		t.Errorf("%s not closed after a valid snapshot line: %+v", key, b.lineRejected(t, ""))
	}
	if got := b.shopify(t, sku); got != was+30 {
		t.Errorf("%s after the fix: Shopify %d, want %d", sku, got, was+30)
	}
}

// A rejected line's discrepancy also closes when a later full snapshot no
// longer lists the item at all: the warehouse holds none, the figure is 0.
func TestRejectedLineClosedWhenItemLeavesFullSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	r := b.rejecter(t)
	b.sync(t)
	bad := b.skus[1]
	r.set(map[string]string{bad: "negative quantity (on_hand -1, available -1)"})
	b.sync(t)
	key := stock.KindLineRejected + ":paris:" + bad
	if _, ok := b.lineRejected(t, "open")[key]; !ok {
		t.Fatalf("no open discrepancy %s: %+v", key, b.lineRejected(t, ""))
	}
	r.set(nil)
	b.filter.hide(bad)
	b.sync(t)
	if _, ok := b.lineRejected(t, "closed")[key]; !ok {
		t.Errorf("%s not closed once the full snapshot no longer lists %s: %+v", key, bad, b.lineRejected(t, ""))
	}
	if got := b.shopify(t, bad); got != 0 {
		t.Errorf("%s no longer in the full snapshot: Shopify %d, want 0", bad, got)
	}
}
