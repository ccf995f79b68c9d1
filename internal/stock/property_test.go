package stock_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// fakeWMS is an in-memory warehouse whose snapshots the test chooses: the
// engine reads whatever snapshot is "served" (the latest, an older one, a
// partial one), and movements after a cursor.
type fakeWMS struct {
	mu        sync.Mutex
	served    connector.StockSnapshot
	movements []connector.StockMovement
}

func (f *fakeWMS) SubmitOrder(context.Context, *order.WarehouseOrder) (connector.SubmitResult, error) {
	return connector.SubmitResult{}, nil
}
func (f *fakeWMS) CancelOrder(context.Context, string) (connector.CancelResult, error) {
	return connector.CancelResult{}, nil
}
func (f *fakeWMS) Events(_ context.Context, cursor string, _ int) ([]connector.Event, string, error) {
	return nil, cursor, nil
}
func (f *fakeWMS) Stock(context.Context) (connector.StockSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.served
	s.Items = append([]connector.StockItem(nil), s.Items...)
	return s, nil
}
func (f *fakeWMS) Movements(_ context.Context, cursor string, limit int) ([]connector.StockMovement, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var from int
	fmt.Sscan(cursor, &from)
	to := min(len(f.movements), from+limit)
	return append([]connector.StockMovement(nil), f.movements[from:to]...), fmt.Sprint(to), nil
}

// modelOrder is an order in the test's model of the world.
type modelOrder struct {
	ref       string
	wh        string
	sku       string
	qty       int
	acked     bool
	shipped   bool
	cancelled bool
}

// world is the property test's harness: the real engine and store, the
// Shopify simulator, three fake warehouses (paris and lyon share Shopify
// location A; newark has location B), and the test's own model of the
// truth from which it computes the expected figures independently.
type world struct {
	t        *rapid.T
	ctx      context.Context
	clock    *wmssim.ManualClock
	sim      *shopifysim.Server
	st       *store.Store
	w        *stock.Worker
	shopCfg  config.Shop
	whs      map[string]*fakeWMS
	locOf    map[string]string // warehouse → location GID
	skus     []string
	sellable map[string]map[string]int // warehouse → SKU → physical sellable now
	history  map[string][]connector.StockSnapshot
	orders   []*modelOrder
	nextID   int
}

var (
	propWarehouses = []string{"paris", "lyon", "newark"}
	propSKUs       = []string{"S1", "S2", "S3"}
)

func newWorld(t *testing.T) (*world, func(rt *rapid.T)) {
	ctx := context.Background()
	w := &world{ctx: ctx}
	w.clock = wmssim.NewManualClock(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC))
	w.sim = shopifysim.New(shopifysim.Config{ShopDomain: shop, AccessToken: token, Now: w.clock.Now})
	t.Cleanup(w.sim.Close)
	ss := httptest.NewServer(w.sim)
	t.Cleanup(ss.Close)
	client := shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: token, Now: w.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { w.clock.Advance(d); return ctx.Err() }})
	products := make([]shopifysim.ProductInput, len(propSKUs))
	for i, sku := range propSKUs {
		products[i] = shopifysim.ProductInput{Title: sku, Variants: []shopifysim.VariantInput{{SKU: sku, Price: "1.00"}}}
	}
	if _, err := w.sim.AddProducts(products); err != nil {
		t.Fatal(err)
	}
	_, locA, err := client.CreateFulfillmentService(ctx, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	_, locB, err := client.CreateFulfillmentService(ctx, "B", "")
	if err != nil {
		t.Fatal(err)
	}
	w.locOf = map[string]string{"paris": locA, "lyon": locA, "newark": locB}
	w.shopCfg = config.Shop{Domain: shop, APIURL: ss.URL, AccessToken: token,
		Stock: config.ShopStock{
			Buffer: &config.Buffer{Units: 1},
			SKUs:   []config.SKUStock{{SKU: "S2", Buffer: &config.Buffer{Percent: 20}}, {SKU: "S3", Cap: 9}},
		}}
	for i, id := range propWarehouses {
		wc := config.Warehouse{ID: id, Name: id, Rank: i + 1, LocationID: w.locOf[id], Connector: config.Connector{Kind: "rest", Settings: map[string]any{"base_url": "http://127.0.0.1:1", "token": "x"}}}
		if id == "lyon" {
			wc.Stock.Buffer = &config.Buffer{Units: 0}
		}
		w.shopCfg.Warehouses = append(w.shopCfg.Warehouses, wc)
	}
	reg, err := tenant.New(&config.Config{Shops: []config.Shop{w.shopCfg}}, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ten, _ := reg.Shop(shop)
	ten.Shopify = client
	w.whs = map[string]*fakeWMS{}
	for _, wh := range ten.Warehouses {
		f := &fakeWMS{}
		w.whs[wh.ID] = f
		wh.WMS = f
	}
	w.skus = propSKUs
	// Each example starts from an empty database and fresh Shopify levels.
	reset := func(rt *rapid.T) {
		w.t = rt
		w.st = storetest.Open(t, store.SQLite)
		w.w = &stock.Worker{Store: w.st, Tenants: reg, Logger: slog.New(slog.DiscardHandler), Now: w.clock.Now}
		w.clock.Advance(24 * time.Hour) // past any read interval of the previous example
		w.sellable = map[string]map[string]int{}
		w.history = map[string][]connector.StockSnapshot{}
		w.orders = nil
		for _, id := range propWarehouses {
			f := w.whs[id]
			f.mu.Lock()
			f.served, f.movements = connector.StockSnapshot{}, nil
			f.mu.Unlock()
			w.sellable[id] = map[string]int{}
			for _, sku := range propSKUs {
				w.sellable[id][sku] = rapid.IntRange(0, 12).Draw(rt, "initial "+id+" "+sku)
			}
			for _, loc := range []string{locA, locB} {
				for _, sku := range propSKUs {
					if err := w.sim.SetInventory(sku, loc, shopifysim.InventoryQuantities{Available: rapid.IntRange(0, 5).Draw(rt, "shopify "+sku)}); err != nil {
						rt.Fatal(err)
					}
				}
			}
			w.capture(id, true)
			w.deliver(id, -1)
		}
	}
	return w, reset
}

func (w *world) tick() { w.clock.Advance(time.Second) }

// capture records the warehouse's snapshot of now: full (every SKU it
// holds; a SKU with none is left out, as real full snapshots do) or partial
// (some SKUs).
func (w *world) capture(wh string, full bool) {
	snap := connector.StockSnapshot{AsOf: w.clock.Now(), Full: full}
	for _, sku := range w.skus {
		n := w.sellable[wh][sku]
		if full && n == 0 {
			continue
		}
		if !full && !rapid.Bool().Draw(w.t, "in partial "+sku) {
			continue
		}
		snap.Items = append(snap.Items, connector.StockItem{SKU: sku, OnHand: n, Available: n})
	}
	w.history[wh] = append(w.history[wh], snap)
}

// deliver makes the warehouse serve its i-th captured snapshot (-1: the
// latest); an older one is a stale snapshot arriving late.
func (w *world) deliver(wh string, i int) {
	h := w.history[wh]
	if i < 0 || i >= len(h) {
		i = len(h) - 1
	}
	f := w.whs[wh]
	f.mu.Lock()
	f.served = h[i]
	f.mu.Unlock()
}

func (w *world) shopifyAvailable(sku, loc string) int {
	q, ok := w.sim.InventoryLevel(sku, loc)
	if !ok {
		return 0
	}
	return q.Available
}

func (w *world) sync() {
	if res, err := w.w.Sync(w.ctx, shop); err != nil {
		w.t.Fatalf("sync: %v", err)
	} else {
		w.t.Logf("sync at %s: %+v", w.clock.Now().Format(time.TimeOnly), res)
	}
}

func (w *world) inFlight(wh, sku string) int {
	n := 0
	for _, o := range w.orders {
		if o.wh == wh && o.sku == sku && !o.acked && !o.cancelled {
			n += o.qty
		}
	}
	return n
}

// expected is the formula computed from the model alone, once every
// warehouse's latest full snapshot has been delivered.
func (w *world) expected(loc, sku string) (target, promisable int) {
	sum := 0
	for _, wh := range propWarehouses {
		if w.locOf[wh] != loc {
			continue
		}
		s := w.sellable[wh][sku]
		buf := w.shopCfg.BufferFor(wh, sku).Of(s)
		sum += max(0, s-w.inFlight(wh, sku)-buf)
		promisable += max(0, s-w.inFlight(wh, sku))
	}
	if c := w.shopCfg.CapFor(sku); c > 0 {
		sum = min(sum, c)
	}
	return sum, promisable
}

// TestPropertyShopifyEqualsFormula: for random interleavings of full,
// partial and stale snapshots, movements, orders, acknowledgements,
// shipments, cancellations, manual Shopify edits and syncs, once things
// settle Shopify's available equals the formula for every SKU × location,
// is never negative, and never promises more than the warehouses can sell.
func TestPropertyShopifyEqualsFormula(t *testing.T) {
	w, reset := newWorld(t)
	rapid.Check(t, func(rt *rapid.T) {
		reset(rt)
		w.sync()
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range steps {
			w.tick()
			wh := rapid.SampledFrom(propWarehouses).Draw(rt, "warehouse")
			sku := rapid.SampledFrom(w.skus).Draw(rt, "sku")
			loc := w.locOf[wh]
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0: // a full snapshot
				w.capture(wh, true)
				w.deliver(wh, -1)
			case 1: // a partial snapshot
				w.capture(wh, false)
				w.deliver(wh, -1)
			case 2: // a stale snapshot arrives after newer ones
				w.deliver(wh, rapid.IntRange(0, len(w.history[wh])-1).Draw(rt, "stale"))
			case 3: // an order placed in Shopify, routed to the warehouse
				qty := rapid.IntRange(1, 3).Draw(rt, "qty")
				if w.shopifyAvailable(sku, loc) < qty {
					continue // Shopify would not sell it
				}
				if err := w.sim.SetInventory(sku, loc, shopifysim.InventoryQuantities{Available: w.shopifyAvailable(sku, loc) - qty}); err != nil {
					rt.Fatal(err)
				}
				w.nextID++
				o := &modelOrder{ref: fmt.Sprintf("CD-%d", w.nextID), wh: wh, sku: sku, qty: qty}
				wo := &order.WarehouseOrder{ExternalRef: o.ref, Shop: shop, Warehouse: wh, OrderID: "gid://shopify/Order/" + o.ref,
					FulfillmentOrderID: "gid://shopify/FulfillmentOrder/" + o.ref, Lines: []order.Line{{LineNo: 1, SKU: sku, Quantity: qty}}}
				if _, err := store.InsertWarehouseOrder(w.ctx, w.st.Write, wo, order.ProgressSent); err != nil {
					rt.Fatal(err)
				}
				w.orders = append(w.orders, o)
			case 4, 5: // the warehouse acknowledges (allocates) or ships an order
				open := w.open()
				if len(open) == 0 {
					continue
				}
				o := rapid.SampledFrom(open).Draw(rt, "order")
				p := order.ProgressAcknowledged
				if o.acked || rapid.Bool().Draw(rt, "ship") {
					p = order.ProgressShipped
				}
				if !o.acked {
					w.sellable[o.wh][o.sku] = max(0, w.sellable[o.wh][o.sku]-o.qty)
					o.acked = true
				}
				o.shipped = p == order.ProgressShipped
				if _, err := store.AdvanceWarehouseOrder(w.ctx, w.st.Write, shop, o.ref, p, w.clock.Now()); err != nil {
					rt.Fatal(err)
				}
			case 6: // an order cancelled before it ships; Shopify restocks
				open := w.open()
				if len(open) == 0 {
					continue
				}
				o := rapid.SampledFrom(open).Draw(rt, "cancel")
				if o.shipped {
					continue
				}
				if o.acked {
					w.sellable[o.wh][o.sku] += o.qty
				}
				o.cancelled = true
				l := w.locOf[o.wh]
				if err := w.sim.SetInventory(o.sku, l, shopifysim.InventoryQuantities{Available: w.shopifyAvailable(o.sku, l) + o.qty}); err != nil {
					rt.Fatal(err)
				}
				if err := store.SetWarehouseOrderCancelled(w.ctx, w.st.Write, shop, o.ref, w.clock.Now()); err != nil {
					rt.Fatal(err)
				}
			case 7: // a receipt or an adjustment between snapshots
				d := rapid.IntRange(-3, 6).Draw(rt, "delta")
				d = max(d, -w.sellable[wh][sku])
				w.sellable[wh][sku] += d
				f := w.whs[wh]
				f.mu.Lock()
				f.movements = append(f.movements, connector.StockMovement{ID: fmt.Sprintf("%s-m%d", wh, len(f.movements)), SKU: sku, Delta: d, Reason: "receipt", At: w.clock.Now()})
				f.mu.Unlock()
			case 8: // someone edits Shopify by hand
				if err := w.sim.SetInventory(sku, loc, shopifysim.InventoryQuantities{Available: rapid.IntRange(0, 20).Draw(rt, "manual")}); err != nil {
					rt.Fatal(err)
				}
			case 9:
				w.sync()
			}
		}
		// Quiescence: every warehouse sends a fresh full snapshot, the
		// read interval and the settling time pass, the engine runs.
		w.tick()
		for _, wh := range propWarehouses {
			w.capture(wh, true)
			w.deliver(wh, -1)
		}
		w.clock.Advance(stock.DefaultReadInterval + stock.DefaultSettle)
		w.sync()
		w.clock.Advance(stock.DefaultSettle + time.Second)
		w.sync()
		for _, loc := range []string{w.locOf["paris"], w.locOf["newark"]} {
			for _, sku := range w.skus {
				got := w.shopifyAvailable(sku, loc)
				want, promisable := w.expected(loc, sku)
				if got != want {
					rt.Fatalf("%s at %s: Shopify %d, formula %d", sku, loc, got, want)
				}
				if got < 0 || got > promisable {
					rt.Fatalf("%s at %s: Shopify %d promises more than the %d sellable units not in flight", sku, loc, got, promisable)
				}
			}
		}
	})
}

func (w *world) open() []*modelOrder {
	var out []*modelOrder
	for _, o := range w.orders {
		if !o.cancelled && !o.shipped {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref < out[j].ref })
	return out
}
