package stock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	_ "github.com/crossdock/crossdock/internal/connector/restwms" // kind "rest"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmssim"
)

const (
	shop     = "stock-test.myshopify.com"
	token    = "shpat_stock_test"
	wmsToken = "wms-stock-test"
)

// quantity is one InventoryQuantityInput as the simulator received it.
type quantity struct {
	Item     string `json:"inventoryItemId"`
	Location string `json:"locationId"`
	Quantity int    `json:"quantity"`
	From     *int   `json:"changeFromQuantity"`
}

// recorder sits in front of the Shopify simulator and records every
// inventorySetQuantities input; before, when set, runs once before the
// next such call reaches the simulator.
type recorder struct {
	mu     sync.Mutex
	calls  [][]quantity
	keys   []string // the @idempotent key of each call
	before func()
	// loseAnswers makes the next n such calls reach the simulator but their
	// answers never reach the hub (as if the hub crashed before its commit).
	loseAnswers int
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var g struct {
			OperationName string `json:"operationName"`
			Variables     struct {
				Input struct {
					Quantities []quantity `json:"quantities"`
				} `json:"input"`
				Key string `json:"idempotencyKey"`
			} `json:"variables"`
		}
		if json.Unmarshal(body, &g) == nil && g.OperationName == "InventorySetQuantities" {
			r.mu.Lock()
			r.calls = append(r.calls, g.Variables.Input.Quantities)
			r.keys = append(r.keys, g.Variables.Key)
			before, lose := r.before, r.loseAnswers > 0
			r.before = nil
			if lose {
				r.loseAnswers--
			}
			r.mu.Unlock()
			if before != nil {
				before()
			}
			if lose {
				h.ServeHTTP(httptest.NewRecorder(), req)
				http.Error(w, "connection lost", http.StatusBadGateway)
				return
			}
		}
		h.ServeHTTP(w, req)
	})
}

// take returns the calls recorded since the last take.
func (r *recorder) take() [][]quantity {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) beforeNext(f func()) {
	r.mu.Lock()
	r.before = f
	r.mu.Unlock()
}

// snapshotFilter hides SKUs from the warehouse's snapshots.
type snapshotFilter struct {
	connector.WMS
	mu     sync.Mutex
	hidden map[string]bool
	// partial marks the snapshots partial (a missing SKU keeps its figure).
	partial bool
}

func (f *snapshotFilter) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	snap, err := f.WMS.Stock(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	snap.Items = slices.DeleteFunc(snap.Items, func(it connector.StockItem) bool { return f.hidden[it.SKU] })
	if f.partial {
		snap.Full = false
	}
	return snap, err
}

func (f *snapshotFilter) hide(sku string) {
	f.mu.Lock()
	f.hidden[sku] = true
	f.mu.Unlock()
}

type bundle struct {
	st    *store.Store
	sim   *shopifysim.Server
	rec   *recorder
	wms   *wmssim.Server
	clock *wmssim.ManualClock // the warehouse's
	// shopifyClock is the Shopify simulator's and the hub client's.
	shopifyClock *wmssim.ManualClock
	filter       *snapshotFilter
	w            *stock.Worker
	loc          string
	skus         []string
	items        map[string]string // SKU → inventory item GID
}

// setup creates n products in the Shopify simulator, a fulfillment service
// location "Paris" for warehouse paris, and the paris warehouse holding
// 1 + i%97 units of the i-th SKU (never zero, so every level differs from
// Shopify's initial 0).
func setup(t *testing.T, n int) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{rec: &recorder{}, items: map[string]string{}}
	// Shopify's cost bucket (Standard plan: 2,000 points, 100/s) runs on
	// virtual time shared by the simulator and the hub's client: the
	// client's waits for points advance it instead of sleeping.
	b.shopifyClock = wmssim.NewManualClock(time.Now().UTC().Truncate(time.Second))
	b.sim = shopifysim.New(shopifysim.Config{ShopDomain: shop, AccessToken: token, Now: b.shopifyClock.Now})
	t.Cleanup(b.sim.Close)
	ss := httptest.NewServer(b.rec.wrap(b.sim))
	t.Cleanup(ss.Close)

	products := make([]shopifysim.ProductInput, n)
	onHand := map[string]int{}
	for i := range n {
		sku := fmt.Sprintf("SKU-%04d", i)
		b.skus = append(b.skus, sku)
		products[i] = shopifysim.ProductInput{Title: "Product " + sku, Variants: []shopifysim.VariantInput{{SKU: sku, Price: "9.90"}}}
		onHand[sku] = 1 + i%97
	}
	ps, err := b.sim.AddProducts(products)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		b.items[p.Variants[0].SKU] = p.Variants[0].InventoryItemID
	}
	_, b.loc, err = shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: token}).CreateFulfillmentService(ctx, "Paris", "")
	if err != nil || b.loc == "" {
		t.Fatalf("create fulfillment service: %q %v", b.loc, err)
	}

	b.clock = wmssim.NewManualClock(time.Now().UTC().Truncate(time.Second))
	b.wms = wmssim.New(wmssim.Config{Name: "paris", Token: wmsToken, Now: b.clock.Now, Stock: onHand})
	t.Cleanup(b.wms.Close)
	ws := httptest.NewServer(b.wms)
	t.Cleanup(ws.Close)

	cfg := &config.Config{Shops: []config.Shop{{
		Domain: shop, APIURL: ss.URL, AccessToken: token,
		Warehouses: []config.Warehouse{{ID: "paris", Name: "Paris", Rank: 1, LocationID: b.loc,
			Connector: config.Connector{Kind: "rest", Settings: map[string]any{"base_url": ws.URL, "token": wmsToken}}}},
	}}}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ten, _ := reg.Shop(shop)
	ten.Shopify = shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: token, Now: b.shopifyClock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { b.shopifyClock.Advance(d); return ctx.Err() }})
	b.filter = &snapshotFilter{WMS: ten.Warehouses[0].WMS, hidden: map[string]bool{}}
	ten.Warehouses[0].WMS = b.filter

	b.st = storetest.Open(t, store.SQLite)
	b.w = &stock.Worker{Store: b.st, Tenants: reg, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now}
	return b
}

// sync advances the warehouse clock (a newer snapshot) and syncs.
func (b *bundle) sync(t *testing.T) stock.Result {
	t.Helper()
	b.clock.Advance(time.Minute)
	v0, r0 := b.shopifyClock.Now(), time.Now()
	res, err := b.w.Sync(context.Background(), shop)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	t.Logf("sync %+v: %s of Shopify bucket waits, %s real", res, b.shopifyClock.Now().Sub(v0), time.Since(r0).Round(time.Millisecond))
	return res
}

// shopify returns Shopify's available quantity of sku at the location.
func (b *bundle) shopify(t *testing.T, sku string) int {
	t.Helper()
	q, ok := b.sim.InventoryLevel(sku, b.loc)
	if !ok {
		t.Fatalf("no Shopify level for %s at %s", sku, b.loc)
	}
	return q.Available
}

// checkOneCall checks that exactly one inventorySetQuantities call was made
// since the last take, setting sku from `from` to `to`.
func (b *bundle) checkOneCall(t *testing.T, sku string, from, to int) {
	t.Helper()
	calls := b.rec.take()
	if len(calls) != 1 || len(calls[0]) != 1 {
		t.Fatalf("inventorySetQuantities calls %+v, want one of one quantity", calls)
	}
	q := calls[0][0]
	if q.Item != b.items[sku] || q.Location != b.loc || q.Quantity != to || q.From == nil || *q.From != from {
		t.Errorf("set %+v (from %v), want %s at %s from %d to %d", q, deref(q.From), b.items[sku], b.loc, from, to)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSync600SKUs(t *testing.T) {
	t.Parallel()
	b := setup(t, 600)

	// First sync: every level, in batches of at most 250.
	res := b.sync(t)
	if res.Levels != 600 || res.Changed != 600 || res.Mutations != 3 || res.Stale != 0 {
		t.Fatalf("first sync %+v, want 600 levels, 600 changed, 3 mutations, 0 stale", res)
	}
	var sizes []int
	seen := map[string]bool{}
	for _, call := range b.rec.take() {
		sizes = append(sizes, len(call))
		for _, q := range call {
			if seen[q.Item] {
				t.Errorf("item %s pushed twice", q.Item)
			}
			seen[q.Item] = true
			if q.From == nil || *q.From != 0 {
				t.Errorf("item %s pushed with changeFromQuantity %v, want 0 (the value read)", q.Item, deref(q.From))
			}
		}
	}
	if !slices.Equal(sizes, []int{250, 250, 100}) {
		t.Errorf("batch sizes %v, want [250 250 100]", sizes)
	}
	if st := b.sim.Stats(); st.Throttled != 0 || st.MaxCostExceeded != 0 || st.Injected429 != 0 || st.Injected5xx != 0 {
		t.Errorf("simulator refused calls: %+v", st)
	}
	for sku, it := range b.wms.Stock() {
		if got := b.shopify(t, sku); got != it.Available {
			t.Errorf("%s: Shopify %d, warehouse %d", sku, got, it.Available)
		}
	}

	// Nothing changed: nothing written.
	if res := b.sync(t); res.Changed != 0 || res.Mutations != 0 {
		t.Errorf("second sync %+v, want no change and no mutation", res)
	}
	if calls := b.rec.take(); len(calls) != 0 {
		t.Errorf("second sync wrote %d times", len(calls))
	}

	// One SKU changes in the warehouse: one mutation of one level.
	sku := b.skus[123]
	was := b.shopify(t, sku)
	b.wms.SetStock(map[string]int{sku: 500})
	if res := b.sync(t); res.Changed != 1 || res.Mutations != 1 {
		t.Errorf("sync after one change %+v, want 1 changed, 1 mutation", res)
	}
	b.checkOneCall(t, sku, was, 500)
	if got := b.shopify(t, sku); got != 500 {
		t.Errorf("%s: Shopify %d after the change, want 500", sku, got)
	}

	// Someone changes Shopify behind the hub's back, with no webhook: the
	// next full read (stock_read_interval) finds it and corrects it from
	// the value it read; syncs in between spend no points on reads.
	drifted := b.skus[7]
	want := b.wms.Stock()[drifted].Available
	if err := b.sim.SetInventory(drifted, b.loc, shopifysim.InventoryQuantities{Available: want + 41}); err != nil {
		t.Fatal(err)
	}
	if res := b.sync(t); res.Changed != 0 || res.Reads != 0 {
		t.Errorf("sync before the read interval %+v, want no read and no change", res)
	}
	b.clock.Advance(stock.DefaultReadInterval)
	// The read finds it; it is left to settle (an order's webhook may
	// explain it), then judged a manual edit and corrected.
	if res := b.sync(t); res.Changed != 0 || res.Deferred != 1 || res.Reads != 1 {
		t.Errorf("sync after drift %+v, want 1 read, 1 deferred, nothing written", res)
	}
	b.clock.Advance(stock.DefaultSettle)
	if res := b.sync(t); res.Changed != 1 || res.Mutations != 1 || res.Stale != 0 || res.ManualEdits != 1 {
		t.Errorf("sync after settling %+v, want 1 manual edit, 1 changed, 1 mutation, 0 stale", res)
	}
	b.checkOneCall(t, drifted, want+41, want)
	if got := b.shopify(t, drifted); got != want {
		t.Errorf("%s: Shopify %d after the correction, want %d", drifted, got, want)
	}

	// A SKU missing from the full snapshot has none left.
	gone := b.skus[599]
	was = b.shopify(t, gone)
	b.filter.hide(gone)
	if res := b.sync(t); res.Changed != 1 || res.Mutations != 1 {
		t.Errorf("sync after %s left the snapshot %+v, want 1 changed, 1 mutation", gone, res)
	}
	b.checkOneCall(t, gone, was, 0)
	if got := b.shopify(t, gone); got != 0 {
		t.Errorf("%s: Shopify %d, want 0 (missing from a full snapshot)", gone, got)
	}

	// And it all holds still.
	if res := b.sync(t); res.Changed != 0 || res.Mutations != 0 {
		t.Errorf("final sync %+v, want no change", res)
	}
	if st := b.sim.Stats(); st.Throttled != 0 || st.MaxCostExceeded != 0 {
		t.Errorf("simulator refused calls: %+v", st)
	}
}

// A level that changes in Shopify between the hub's read and its write
// makes the write stale; the hub re-reads and writes again from the new
// value, or not at all when Shopify already holds the target.
func TestSyncStaleRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		concurrent func(target int) int // what another app sets meanwhile
		mutations  int
	}{
		{"other value", func(target int) int { return target + 42 }, 2},
		{"already the target", func(target int) int { return target }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 5)
			b.sync(t)
			b.rec.take()

			sku := b.skus[2]
			was := b.shopify(t, sku)
			b.wms.SetStock(map[string]int{sku: 77})
			other := tc.concurrent(77)
			b.rec.beforeNext(func() {
				if err := b.sim.SetInventory(sku, b.loc, shopifysim.InventoryQuantities{Available: other}); err != nil {
					t.Error(err)
				}
			})
			res := b.sync(t)
			if res.Stale != 1 || res.Mutations != tc.mutations || res.Changed != 1 {
				t.Errorf("sync %+v, want 1 changed, 1 stale, %d mutations", res, tc.mutations)
			}
			calls := b.rec.take()
			if len(calls) != tc.mutations {
				t.Fatalf("%d inventorySetQuantities calls, want %d: %+v", len(calls), tc.mutations, calls)
			}
			if q := calls[0]; len(q) != 1 || q[0].From == nil || *q[0].From != was || q[0].Quantity != 77 {
				t.Errorf("first attempt %+v, want from %d to 77", q, was)
			}
			if tc.mutations == 2 {
				if q := calls[1]; len(q) != 1 || q[0].From == nil || *q[0].From != other || q[0].Quantity != 77 {
					t.Errorf("retry %+v, want from %d to 77", q, other)
				}
			}
			if got := b.shopify(t, sku); got != 77 {
				t.Errorf("Shopify %d, want 77", got)
			}
			if res := b.sync(t); res.Changed != 0 || res.Mutations != 0 {
				t.Errorf("next sync %+v, want no change", res)
			}
		})
	}
}

// An older snapshot never overwrites a newer one.
func TestUpsertStockKeepsNewest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st := storetest.Open(t, d)
			t1 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
			lvl := func(avail int, at time.Time) store.StockLevel {
				return store.StockLevel{Shop: shop, Warehouse: "paris", SKU: "SKU-1", OnHand: avail + 1, Available: avail, AsOf: at}
			}
			for _, step := range []struct {
				l       store.StockLevel
				changed bool
				want    int
			}{
				{lvl(10, t1), true, 10},
				{lvl(3, t1.Add(-time.Second)), false, 10},                        // older
				{lvl(4, t1.Add(-time.Millisecond)), false, 10},                   // older, sub-second
				{lvl(11, t1.Add(1500*time.Millisecond)), true, 11},               // newer
				{lvl(5, t1.Add(time.Second)), false, 11},                         // older than the last
				{lvl(11, t1.Add(1500*time.Millisecond)), false, 11},              // same
				{lvl(12, t1.Add(time.Hour)), true, 12},                           // newer
				{lvl(0, t1.Add(59*time.Minute+999*time.Millisecond)), false, 12}, // older
			} {
				changed, err := store.UpsertStock(ctx, st.Write, step.l)
				if err != nil {
					t.Fatal(err)
				}
				ls, err := store.StockLevels(ctx, st.Read, shop, "paris")
				if err != nil || len(ls) != 1 {
					t.Fatalf("levels %+v %v", ls, err)
				}
				if changed != step.changed || ls[0].Available != step.want {
					t.Errorf("upsert %d as of %s: changed %v, available %d; want %v, %d",
						step.l.Available, step.l.AsOf.Format(time.RFC3339Nano), changed, ls[0].Available, step.changed, step.want)
				}
			}
		})
	}
}

// A warehouse snapshot older than the one stored changes nothing in
// Shopify.
func TestSyncIgnoresOlderSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	b.sync(t)
	sku := b.skus[1]
	want := b.shopify(t, sku)
	b.clock.Advance(-time.Hour)
	b.wms.SetStock(map[string]int{sku: want + 5})
	res, err := b.w.Sync(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 0 || res.Mutations != 0 {
		t.Errorf("sync of an older snapshot %+v, want no change", res)
	}
	if got := b.shopify(t, sku); got != want {
		t.Errorf("Shopify %d, want %d (kept from the newer snapshot)", got, want)
	}
}

// A Shopify SKU the warehouse's full snapshot has never listed has no
// stock there either: units Shopify shows at the warehouse's location are
// set to 0.
func TestSyncZeroesSKUNeverInSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	if _, err := b.sim.AddProducts([]shopifysim.ProductInput{{Title: "Not stocked", Variants: []shopifysim.VariantInput{{SKU: "SKU-NEW", Price: "1"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.SetInventory("SKU-NEW", b.loc, shopifysim.InventoryQuantities{Available: 5}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.wms.Stock()["SKU-NEW"]; ok {
		t.Fatal("the warehouse knows SKU-NEW")
	}
	b.sync(t)
	if got := b.shopify(t, "SKU-NEW"); got != 0 {
		t.Errorf("Shopify shows %d of SKU-NEW at the warehouse's location, which the warehouse's full snapshot does not list; want 0", got)
	}
	for _, sku := range b.skus {
		if got, want := b.shopify(t, sku), b.wms.Stock()[sku].Available; got != want {
			t.Errorf("%s: Shopify %d, warehouse %d", sku, got, want)
		}
	}
}
