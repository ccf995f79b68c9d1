// Package stock is the stock engine: it makes what Shopify shows at each
// warehouse location the warehouses' truth minus what is in flight, pushed
// with compare-and-swap, never oversold, never echoed.
//
// # The figure
//
// For each SKU × Shopify location (several warehouses may share one
// location; their contributions add up):
//
//	units(w) = max(0, snapshot(w) + movements after it − in flight(w) − buffer(w))
//	target   = min(cap, Σ units(w)), never below zero
//
// snapshot(w) is the sellable quantity of the warehouse's latest snapshot of
// the SKU (an older snapshot never overwrites a newer one; a SKU missing
// from a partial snapshot keeps its figure; missing from a full snapshot it
// is zero unless the warehouse says missing_from_full: keep, or its line
// was rejected). A line the connector rejected, an item no SKU maps to and
// a movement of such an item are quarantined one by one as
// KindLineRejected discrepancies, in the transaction that stores the
// figures: the SKU keeps its last figure and its time, the rest of the
// report applies, and a later valid line closes the discrepancy. Movements
// (receipts, adjustments) recorded after the snapshot's time are added. In
// flight are units of orders routed to the warehouse that it had not
// counted at the snapshot's time: orders not cancelled whose
// acknowledgement (or any later step) came after the snapshot, or not yet.
// Buffers (units and/or percent) come from the SKU, the warehouse or the
// shop, most specific first; a cap may limit what one location shows.
//
// # Pushing
//
// Only levels whose target differs from what Shopify holds are written, in
// batches of at most 250, sorted by SKU, each entry with changeFromQuantity
// (the last value known from Shopify). Each batch attempt has an @idempotent
// key derived from its content and from when each from-value was learned:
// after a crash between Shopify's answer and the hub's commit, the same
// batch is computed again, the key is the same, and Shopify replays its
// first answer instead of applying twice. CHANGE_FROM_QUANTITY_STALE makes
// the engine re-read the location and retry the entries that still differ
// under a new key. Pacing is the Shopify client's: it reserves each call's
// cost in its model of the leaky bucket, so batches go out as fast as the
// bucket refills and are not throttled. A SKU changing many times between
// two syncs is one write: targets are computed when the sync runs.
//
// # Changes the hub did not make
//
// The hub remembers, per level, the last value it wrote or saw Shopify
// agree with, and the units ordered at the location then. Shopify lowers
// "available" itself when an order is placed and raises it on a restocking
// cancellation, so the value Shopify should hold now is that agreed value
// minus the units ordered since. A value from a read or an
// inventory_levels/update webhook that is neither that nor the target is a
// change nobody explained: once it has settled (stock.settle, default 30s —
// an order's webhook can trail its stock change), it is recorded in the
// ledger as a manual edit and, at a WMS-owned location, corrected or
// flagged as the shop's policy says. The hub's own writes come back as
// webhooks carrying the value it wrote: they match the agreed value and are
// not mistaken for edits, so there is no echo loop.
//
// Every decision (a push and its reason, a manual edit, a flag, a stale
// retry) is a line of the level's ledger; Explain recomputes the figure
// with its parts.
package stock

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// MaxBatch is Shopify's limit on input arrays.
const MaxBatch = 250

// DefaultSettle is how long an unexplained change of a Shopify level is
// left alone before it is judged a manual edit.
const DefaultSettle = 30 * time.Second

// SyncArgs is the periodic job that syncs a shop's stock.
type SyncArgs struct {
	Shop string `json:"shop"`
	// Full re-reads every level from Shopify before computing.
	Full bool `json:"full,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "stock.sync" }

// Worker works SyncArgs; it is the stock engine.
type Worker struct {
	river.WorkerDefaults[SyncArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
	// Now is the engine's clock (read interval, settling); default time.Now.
	Now func() time.Time
	// ManualEdit says what to do with a manual edit found at a WMS-owned
	// warehouse's location: "correct" (default) or "flag". Nil: correct.
	ManualEdit func(shop, warehouse string) string
	// StockOwnedByWMS says whether the hub writes stock at a warehouse's
	// location (the source of truth for stock is the warehouse). Nil: yes.
	StockOwnedByWMS func(shop, warehouse string) bool

	// BulkThreshold is the number of levels (or variants) above which full
	// reads of Shopify use a bulk operation instead of pages (a paged read
	// costs about 3 points per level; a bulk read the price of one
	// mutation and a few polls). Default 250 (more than one page);
	// negative: never.
	BulkThreshold int

	mu          sync.Mutex
	lastMapping map[string]time.Time
	lastRead    map[string]time.Time // shop/location → last full read of Shopify's levels
	running     queue.Exclusive
}

// useBulk reports whether a read of about n levels or variants should be a
// bulk operation.
func (w *Worker) useBulk(n int) bool {
	th := w.BulkThreshold
	if th == 0 {
		th = 250
	}
	return th > 0 && n > th
}

func (w *Worker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// DefaultReadInterval is how often a location's levels are read in full
// from Shopify when the shop sets no stock_read_interval. Between reads the
// hub knows Shopify's figures from its own pushes and from
// inventory_levels/update webhooks; a stale figure is caught by
// changeFromQuantity on the next push.
const DefaultReadInterval = 10 * time.Minute

// readDue reports whether the location's levels must be read in full now,
// and marks them read.
func (w *Worker) readDue(t *tenant.Shop, location string, force bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastRead == nil {
		w.lastRead = map[string]time.Time{}
	}
	now := w.now()
	key := t.Domain + "/" + location
	if last, ok := w.lastRead[key]; !force && ok && now.Sub(last) < t.Config.StockReadInterval.Std(DefaultReadInterval) {
		return false
	}
	w.lastRead[key] = now
	return true
}

// Timeout lets a large first sync run.
func (w *Worker) Timeout(*river.Job[SyncArgs]) time.Duration { return 30 * time.Minute }

// Work syncs one shop, unless a sync of the shop is already running here.
func (w *Worker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	release, ok := w.running.TryAcquire(job.Args.Shop)
	if !ok {
		return nil
	}
	defer release()
	_, err := w.SyncWith(ctx, job.Args.Shop, Options{Full: job.Args.Full})
	var stale *shopify.StaleQuantityError
	if errors.As(err, &stale) {
		// Shopify's quantity moved again between the re-read and the
		// retry (orders keep arriving; found by the chaos soak, where a
		// 429 between the two makes it likely): nothing is wrong, the
		// next attempt reads afresh. A transient error, not a dead letter.
		return fmt.Errorf("stock: changed again in Shopify after the re-read, retrying: %s", stale.Error())
	}
	return queue.Classify(err)
}

// NextRetry retries a failed sync soon: the next periodic run would anyway.
func (w *Worker) NextRetry(*river.Job[SyncArgs]) time.Time { return time.Now().Add(5 * time.Second) }

// Result says what a sync did.
type Result struct {
	Levels      int `json:"levels"`       // levels considered
	Changed     int `json:"changed"`      // levels whose target differed from Shopify and were written
	Mutations   int `json:"mutations"`    // inventorySetQuantities calls
	Stale       int `json:"stale"`        // batches retried after CHANGE_FROM_QUANTITY_STALE
	Reads       int `json:"reads"`        // full reads of a location's levels in Shopify
	ManualEdits int `json:"manual_edits"` // changes nobody explained, found this sync
	Flagged     int `json:"flagged"`      // levels left as edited by hand (policy flag)
	Deferred    int `json:"deferred"`     // unexplained changes still settling
	NotOwned    int `json:"not_owned"`    // levels not written: stock is not WMS-owned there
}

func (r *Result) add(o Result) {
	r.Levels += o.Levels
	r.Changed += o.Changed
	r.Mutations += o.Mutations
	r.Stale += o.Stale
	r.Reads += o.Reads
	r.ManualEdits += o.ManualEdits
	r.Flagged += o.Flagged
	r.Deferred += o.Deferred
	r.NotOwned += o.NotOwned
}

// Progress is how far a sync has gone.
type Progress struct {
	Shop     string    `json:"shop"`
	Phase    string    `json:"phase"` // reading warehouses, reading Shopify, pushing, done
	Location string    `json:"location,omitempty"`
	Done     int       `json:"done"`
	Total    int       `json:"total"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	Finished bool      `json:"finished"`
}

// ProgressCursor is the cursor-table name under which a running sync's
// Progress is kept (JSON), for the dashboard and `crossdock stock sync`.
const ProgressCursor = "stock:sync:progress"

// FinishedCursor is the cursor-table name under which the time the shop's
// last sync finished without error is kept (RFC 3339): the stock sync lag.
const FinishedCursor = "stock:sync:finished"

// Options tune one sync.
type Options struct {
	// Full re-reads every location's levels from Shopify first.
	Full bool
	// Progress, when set, is told of the sync's progress.
	Progress func(Progress)
}

// Sync reads every warehouse of the shop and pushes the changes.
func (w *Worker) Sync(ctx context.Context, shop string) (Result, error) {
	return w.SyncWith(ctx, shop, Options{})
}

// SyncWith reads every warehouse of the shop and pushes the changes.
func (w *Worker) SyncWith(ctx context.Context, shop string, opts Options) (Result, error) {
	var res Result
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return res, connector.Permanent(fmt.Errorf("stock: unknown shop %s", shop))
	}
	pr := &progress{w: w, p: Progress{Shop: shop, Phase: "reading warehouses", Started: w.now(), Total: len(t.Warehouses)}, cb: opts.Progress}
	pr.report(ctx, nil)
	var (
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	read := func(wh *tenant.Warehouse) {
		if err := w.readSnapshot(ctx, t, wh); err != nil {
			fail(err)
		}
		if err := w.readMovements(ctx, t, wh); err != nil {
			fail(err)
		}
		pr.report(ctx, func(p *Progress) { p.Done++ })
	}
	// Warehouses without a Shopify location still feed routing.
	for _, wh := range t.Warehouses {
		if wh.LocationID == "" {
			read(wh)
		}
	}
	// Each location runs on its own: while one location's batches wait for
	// the Shopify bucket to refill, the next one reads and computes (the
	// client shares one model of the bucket between them).
	var once sync.Once
	var mappings map[string]store.SKUMapping
	var mapErr error
	var wg sync.WaitGroup
	for _, loc := range locations(t) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, wh := range loc.warehouses {
				read(wh)
			}
			once.Do(func() { mappings, mapErr = w.mappings(ctx, t) })
			if mapErr != nil {
				fail(mapErr)
				return
			}
			mu.Lock()
			mine := maps.Clone(mappings)
			mu.Unlock()
			r, err := w.syncLocation(ctx, t, loc, mine, opts.Full, pr)
			mu.Lock()
			res.add(r)
			mu.Unlock()
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	pr.report(ctx, func(p *Progress) { p.Phase, p.Finished, p.Location = "done", true, "" })
	if len(errs) == 0 {
		err := w.Store.InTx(ctx, func(tx *store.Tx) error {
			return store.SetCursor(ctx, tx, shop, FinishedCursor, w.now().UTC().Format(time.RFC3339Nano))
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// location is one Shopify location and the warehouses that stock it.
type location struct {
	id         string
	warehouses []*tenant.Warehouse
}

// locations groups the shop's warehouses by Shopify location, in rank
// order of each location's first warehouse.
func locations(t *tenant.Shop) []location {
	var out []location
	idx := map[string]int{}
	for _, wh := range t.Warehouses {
		if wh.LocationID == "" {
			continue
		}
		i, ok := idx[wh.LocationID]
		if !ok {
			i = len(out)
			idx[wh.LocationID] = i
			out = append(out, location{id: wh.LocationID})
		}
		out[i].warehouses = append(out[i].warehouses, wh)
	}
	return out
}

// readSnapshot stores a warehouse's snapshot. Lines the connector rejected
// and items no SKU maps to are quarantined (KindLineRejected discrepancies,
// in the same transaction as the figures): the SKUs of a rejected line keep
// their last figure and its time, even in a full snapshot.
func (w *Worker) readSnapshot(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse) error {
	raw, err := wh.WMS.Stock(ctx)
	if err != nil {
		return fmt.Errorf("stock: %s snapshot: %w", wh.ID, err)
	}
	// Item codes and pack sizes back to the hub's SKUs, by the mapping in
	// force at the snapshot's time.
	snap, problems, err := mapping.StockToSKUs(ctx, w.Store.Read, t.Domain, wh.ID, raw)
	if err != nil {
		return fmt.Errorf("stock: %s snapshot: %w", wh.ID, err)
	}
	asOf := snap.AsOf
	if asOf.IsZero() {
		asOf = w.now()
	}
	bad, keep, err := w.rejectedLines(ctx, t.Domain, wh.ID, asOf, raw)
	if err != nil {
		return fmt.Errorf("stock: %s snapshot: %w", wh.ID, err)
	}
	valid := make(map[string]bool, len(raw.Items))
	for _, it := range raw.Items {
		valid[it.SKU] = true
	}
	for _, r := range raw.Rejected {
		valid[r.SKU] = false
	}
	for _, p := range problems {
		valid[p.ItemCode] = false
		bad = append(bad, quarantined{item: p.ItemCode, line: -1, reason: p.Reason})
	}
	zeroMissing := true
	for _, c := range t.Config.Warehouses {
		if c.ID == wh.ID && c.Stock.MissingFromFull == "keep" {
			zeroMissing = false
		}
	}
	cur, err := store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID)
	if err != nil {
		return err
	}
	byS := make(map[string]store.StockLevel, len(cur))
	for _, l := range cur {
		byS[l.SKU] = l
	}
	bulk := snap.Full && zeroMissing
	// With every line accepted, one statement moves the time of the
	// figures a full snapshot confirms; a kept figure must keep its own
	// time (movements and orders since then still count), so then each
	// figure is written on its own.
	touchAll := len(keep) == 0
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := w.quarantine(ctx, tx, t.Domain, wh, asOf, bad, valid, bulk); err != nil {
			return err
		}
		seen := make(map[string]bool, len(snap.Items))
		for _, it := range snap.Items {
			seen[it.SKU] = true
			if old, ok := byS[it.SKU]; bulk && touchAll && ok && old.OnHand == it.OnHand && old.Available == it.Available && !old.AsOf.After(asOf) {
				continue // unchanged: its time moves with TouchStockAsOf below
			}
			if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: t.Domain, Warehouse: wh.ID, SKU: it.SKU, OnHand: it.OnHand, Available: it.Available, AsOf: asOf}); err != nil {
				return err
			}
		}
		if !bulk {
			return nil
		}
		// A full snapshot confirms the figures it did not change, and a SKU
		// missing from it has none left (an older snapshot still never
		// overwrites a newer figure), unless its line was rejected.
		if touchAll {
			if err := store.TouchStockAsOf(ctx, tx, t.Domain, wh.ID, asOf); err != nil {
				return err
			}
		}
		for _, l := range cur {
			if seen[l.SKU] || keep[l.SKU] || (touchAll && l.OnHand == 0 && l.Available == 0) {
				continue
			}
			if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: t.Domain, Warehouse: wh.ID, SKU: l.SKU, AsOf: asOf}); err != nil {
				return err
			}
		}
		return nil
	})
}

// rejectedLines lists the lines the connector rejected in raw and the
// hub's SKUs whose figure they keep: the SKUs their item code maps to at
// asOf, else the code itself.
func (w *Worker) rejectedLines(ctx context.Context, shop, warehouse string, asOf time.Time, raw connector.StockSnapshot) ([]quarantined, map[string]bool, error) {
	if len(raw.Rejected) == 0 {
		return nil, nil, nil
	}
	var codes []string
	for _, r := range raw.Rejected {
		if r.SKU != "" {
			codes = append(codes, r.SKU)
		}
	}
	back, err := mapping.ItemSKUs(ctx, w.Store.Read, shop, warehouse, asOf, codes)
	if err != nil {
		return nil, nil, err
	}
	bad := make([]quarantined, 0, len(raw.Rejected))
	keep := map[string]bool{}
	for _, r := range raw.Rejected {
		q := quarantined{item: r.SKU, line: r.Index, reason: cmp.Or(r.Reason, "rejected by the connector")}
		if r.SKU != "" {
			for _, x := range back[r.SKU] {
				q.skus = append(q.skus, x.SKU)
			}
			if len(q.skus) == 0 {
				q.skus = []string{r.SKU}
			}
		}
		for _, s := range q.skus {
			keep[s] = true
		}
		bad = append(bad, q)
	}
	return bad, keep, nil
}

// readMovements stores the movements a warehouse reported since the stored
// cursor, when its connector reports movements.
func (w *Worker) readMovements(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse) error {
	mv, ok := wh.WMS.(connector.StockMovements)
	if !ok {
		return nil
	}
	name := "wms:" + wh.ID + ":movements"
	for {
		cur, err := store.Cursor(ctx, w.Store.Read, t.Domain, name)
		if err != nil {
			return err
		}
		ms, next, err := mv.Movements(ctx, cur, 500)
		if err != nil {
			return fmt.Errorf("stock: %s movements: %w", wh.ID, err)
		}
		codes := make([]string, len(ms))
		for i, m := range ms {
			codes[i] = m.SKU
		}
		back, err := mapping.ItemSKUs(ctx, w.Store.Read, t.Domain, wh.ID, w.now(), codes)
		if err != nil {
			return fmt.Errorf("stock: %s movements: %w", wh.ID, err)
		}
		err = w.Store.InTx(ctx, func(tx *store.Tx) error {
			for _, m := range ms {
				skus := back[m.SKU]
				if len(skus) == 0 {
					q := quarantined{item: m.SKU, line: -1, movement: m.ID, delta: m.Delta, at: m.At,
						reason: fmt.Sprintf("no SKU maps to item %s in warehouse %s at %s", m.SKU, wh.ID, m.At.UTC().Format(time.RFC3339))}
					if err := w.quarantine(ctx, tx, t.Domain, wh, m.At, []quarantined{q}, nil, false); err != nil {
						return err
					}
				}
				for _, x := range skus {
					if _, err := store.InsertStockMovement(ctx, tx, store.StockMovement{Shop: t.Domain, Warehouse: wh.ID, MovementID: m.ID + "/" + x.SKU,
						SKU: x.SKU, Delta: x.ShopifyUnits(m.Delta), Reason: m.Reason, At: m.At}); err != nil {
						return err
					}
				}
			}
			return store.SetCursor(ctx, tx, t.Domain, name, next)
		})
		if err != nil || len(ms) == 0 || next == cur {
			return err
		}
	}
}

// mappings returns SKU → inventory item, refreshing from Shopify's variants
// when a stocked SKU has none (at most once a minute per shop).
func (w *Worker) mappings(ctx context.Context, t *tenant.Shop) (map[string]store.SKUMapping, error) {
	m, err := store.SKUMappings(ctx, w.Store.Read, t.Domain)
	if err != nil {
		return nil, err
	}
	levels, err := store.StockLevels(ctx, w.Store.Read, t.Domain, "")
	if err != nil {
		return nil, err
	}
	missing := false
	for _, l := range levels {
		if _, ok := m[l.SKU]; !ok {
			missing = true
			break
		}
	}
	w.mu.Lock()
	if w.lastMapping == nil {
		w.lastMapping = map[string]time.Time{}
	}
	recent := time.Since(w.lastMapping[t.Domain]) < time.Minute
	if missing && !recent {
		w.lastMapping[t.Domain] = time.Now()
	}
	w.mu.Unlock()
	if !missing || recent {
		return m, nil
	}
	var vs []shopify.Variant
	if w.useBulk(len(levels)) {
		vs, err = t.Shopify.BulkVariants(ctx)
	} else {
		vs, err = t.Shopify.AllVariants(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("stock: read variants: %w", err)
	}
	err = w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, v := range vs {
			sku := strings.TrimSpace(v.SKU)
			if sku == "" || v.InventoryItemID == "" {
				continue
			}
			mp := store.SKUMapping{Shop: t.Domain, SKU: sku, VariantID: v.ID, InventoryItemID: v.InventoryItemID}
			if err := store.UpsertSKUMapping(ctx, tx, mp); err != nil {
				return err
			}
			m[sku] = mp
		}
		return nil
	})
	return m, err
}

// figures computes the figure of every SKU the location's warehouses
// report, and the units ordered at the location per SKU.
func (w *Worker) figures(ctx context.Context, t *tenant.Shop, loc location) (map[string]*Figure, map[string]int, error) {
	figs := map[string]*Figure{}
	ordered := map[string]int{}
	for _, wh := range loc.warehouses {
		levels, err := store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID)
		if err != nil {
			return nil, nil, err
		}
		inflight, err := store.InFlightUnits(ctx, w.Store.Read, t.Domain, wh.ID)
		if err != nil {
			return nil, nil, err
		}
		moves, err := store.MovementsAfterSnapshot(ctx, w.Store.Read, t.Domain, wh.ID)
		if err != nil {
			return nil, nil, err
		}
		ord, err := store.OrderedUnits(ctx, w.Store.Read, t.Domain, wh.ID)
		if err != nil {
			return nil, nil, err
		}
		for sku, n := range ord {
			ordered[sku] += n
		}
		contrib := map[string]*Contribution{}
		get := func(sku string) *Contribution {
			c, ok := contrib[sku]
			if !ok {
				c = &Contribution{Warehouse: wh.ID}
				contrib[sku] = c
			}
			return c
		}
		for _, l := range levels {
			c := get(l.SKU)
			c.Snapshot, c.AsOf = l.Available, l.AsOf
		}
		for sku, n := range moves {
			get(sku).Movements = n
		}
		for sku, n := range inflight {
			get(sku).InFlight = n
		}
		for sku, c := range contrib {
			c.Buffer = t.Config.BufferFor(wh.ID, sku).Of(c.Sellable())
			f, ok := figs[sku]
			if !ok {
				f = &Figure{Cap: t.Config.CapFor(sku)}
				figs[sku] = f
			}
			f.Contributions = append(f.Contributions, *c)
		}
	}
	for _, f := range figs {
		Compute(f)
	}
	return figs, ordered, nil
}

type change struct {
	sku    string
	item   string
	target int
	from   *int
	seen   string // when from was learned: part of the idempotency key
	why    string
}

func (w *Worker) settle(t *tenant.Shop) time.Duration {
	return t.Config.Stock.Settle.Std(DefaultSettle)
}

func (w *Worker) syncLocation(ctx context.Context, t *tenant.Shop, loc location, mappings map[string]store.SKUMapping, full bool, pr *progress) (Result, error) {
	var res Result
	owned := true
	for _, wh := range loc.warehouses {
		if w.StockOwnedByWMS != nil && !w.StockOwnedByWMS(t.Domain, wh.ID) {
			owned = false
		}
	}
	figs, ordered, err := w.figures(ctx, t, loc)
	if err != nil {
		return res, err
	}
	known, err := store.LocationLevels(ctx, w.Store.Read, t.Domain, loc.id)
	if err != nil {
		return res, err
	}
	levels := known[loc.id]
	unknown := false
	for sku := range figs {
		if _, ok := mappings[sku]; !ok {
			continue
		}
		if l, ok := levels[sku]; !ok || l.ShopifyAvailable == nil {
			unknown = true
			break
		}
	}
	if w.readDue(t, loc.id, full || unknown) {
		pr.report(ctx, func(p *Progress) { p.Phase, p.Location = "reading Shopify", loc.id })
		if err := w.readShopify(ctx, t, loc, mappings, figs, levels); err != nil {
			return res, err
		}
		res.Reads++
		if known, err = store.LocationLevels(ctx, w.Store.Read, t.Domain, loc.id); err != nil {
			return res, err
		}
		levels = known[loc.id]
	}
	// A SKU Shopify holds here that no warehouse of the location reports
	// (never, or missing from full snapshots) has a figure of zero.
	for sku := range levels {
		if _, ok := figs[sku]; !ok {
			figs[sku] = zeroFigure(loc)
		}
	}
	now := w.now()
	policy := "correct"
	if w.ManualEdit != nil && w.ManualEdit(t.Domain, loc.warehouses[0].ID) == "flag" {
		policy = "flag"
	}
	var changes []change
	var notes []store.LedgerEntry
	note := func(sku, kind, msg string) {
		notes = append(notes, store.LedgerEntry{Shop: t.Domain, LocationID: loc.id, SKU: sku, At: now, Kind: kind, Message: msg})
	}
	type targetUpdate struct {
		sku, item string
		target    int
		flagged   *int
		agreed    bool
	}
	var updates []targetUpdate
	skus := make([]string, 0, len(figs))
	for sku := range figs {
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	for _, sku := range skus {
		mp, ok := mappings[sku]
		if !ok {
			continue
		}
		f := figs[sku]
		res.Levels++
		l := levels[sku]
		T := f.Target
		V := l.ShopifyAvailable
		if V != nil && *V == T {
			if l.Target == nil || *l.Target != T || l.PushedValue == nil || *l.PushedValue != T || l.FlaggedTarget != nil {
				updates = append(updates, targetUpdate{sku, mp.InventoryItemID, T, nil, true})
			}
			continue
		}
		if !owned {
			res.NotOwned++
			if l.Target == nil || *l.Target != T {
				note(sku, "not_owned", fmt.Sprintf("target %d not written: stock at this location is not owned by the warehouse (sources_of_truth)", T))
				updates = append(updates, targetUpdate{sku, mp.InventoryItemID, T, nil, false})
			}
			continue
		}
		if l.FlaggedTarget != nil && *l.FlaggedTarget == T {
			res.Flagged++
			continue // a flagged manual edit stays until the warehouse's figure moves
		}
		why := explainShort(f)
		if l.FlaggedTarget != nil {
			// The warehouse's figure moved since a manual edit was flagged:
			// the warehouse is the source of truth again.
			why = fmt.Sprintf("the warehouse's figure moved from %d since the flagged manual edit: %s", *l.FlaggedTarget, why)
		} else if V != nil && l.PushedValue != nil && l.ShopifySource != store.SourcePush {
			expected := *l.PushedValue
			if l.AgreedOrders != nil {
				expected -= ordered[sku] - *l.AgreedOrders
			}
			if *V != expected {
				// Shopify moved without the hub and no order explains it.
				if l.ShopifySeenAt != nil && now.Sub(*l.ShopifySeenAt) < w.settle(t) {
					res.Deferred++
					continue
				}
				res.ManualEdits++
				src := l.ShopifySource
				note(sku, "manual_edit", fmt.Sprintf("Shopify showed %d (%s at %s) where %d was expected (agreed %d, orders since explain %d); the warehouse's figure is %d",
					*V, src, l.ShopifySeenAt.Format(time.RFC3339), expected, *l.PushedValue, *l.PushedValue-expected, T))
				if policy == "flag" {
					res.Flagged++
					fl := T
					note(sku, "flagged", fmt.Sprintf("manual edit left in place (policy flag) until the warehouse's figure moves from %d", T))
					updates = append(updates, targetUpdate{sku, mp.InventoryItemID, T, &fl, false})
					continue
				}
				why = "correcting a manual edit: " + why
			}
		}
		seen := ""
		if l.ShopifySeenAt != nil {
			seen = l.ShopifySeenAt.UTC().Format(time.RFC3339Nano)
		}
		changes = append(changes, change{sku: sku, item: mp.InventoryItemID, target: T, from: V, seen: seen, why: why})
	}
	if len(updates) > 0 || len(notes) > 0 {
		err := w.Store.InTx(ctx, func(tx *store.Tx) error {
			for _, u := range updates {
				if err := store.SetLevelTarget(ctx, tx, t.Domain, loc.id, u.sku, u.item, u.target, u.flagged, u.agreed, ordered[u.sku]); err != nil {
					return err
				}
			}
			for _, e := range notes {
				if err := store.AddLedger(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.Changed += len(changes)
	pr.report(ctx, func(p *Progress) {
		if p.Phase != "pushing" {
			p.Phase, p.Done, p.Total = "pushing", 0, 0
		}
		p.Location = loc.id
		p.Total += len(changes)
	})
	for start := 0; start < len(changes); start += MaxBatch {
		batch := changes[start:min(start+MaxBatch, len(changes))]
		if err := w.pushBatch(ctx, t, loc, batch, ordered, mappings, figs, &res); err != nil {
			return res, fmt.Errorf("stock: push at %s: %w", loc.id, err)
		}
		pr.report(ctx, func(p *Progress) { p.Done += len(batch) })
	}
	return res, nil
}

// pushBatch writes one batch, re-reading and retrying once on a stale
// changeFromQuantity.
func (w *Worker) pushBatch(ctx context.Context, t *tenant.Shop, loc location, batch []change, ordered map[string]int, mappings map[string]store.SKUMapping, figs map[string]*Figure, res *Result) error {
	for attempt := 0; ; attempt++ {
		res.Mutations++
		err := w.setBatch(ctx, t, loc, batch, ordered, attempt)
		var stale *shopify.StaleQuantityError
		if !errors.As(err, &stale) || attempt > 0 {
			return err
		}
		// Someone changed Shopify since the hub last knew: read again and
		// write what still differs, from the fresh values.
		res.Stale++
		res.Reads++
		if err := w.readShopify(ctx, t, loc, mappings, figs, nil); err != nil {
			return err
		}
		fresh, err := store.LocationLevels(ctx, w.Store.Read, t.Domain, loc.id)
		if err != nil {
			return err
		}
		var again []change
		for _, c := range batch {
			l := fresh[loc.id][c.sku]
			c.from = l.ShopifyAvailable
			if l.ShopifySeenAt != nil {
				c.seen = l.ShopifySeenAt.UTC().Format(time.RFC3339Nano)
			}
			c.why = "after a stale changeFromQuantity: " + c.why
			if c.from == nil || *c.from != c.target {
				again = append(again, c)
			}
		}
		err = w.Store.InTx(ctx, func(tx *store.Tx) error {
			return store.AddLedger(ctx, tx, store.LedgerEntry{Shop: t.Domain, LocationID: loc.id, SKU: batch[0].sku, At: w.now(), Kind: "stale",
				Message: fmt.Sprintf("CHANGE_FROM_QUANTITY_STALE on a batch of %d from %s: re-read the location, %d still to write", len(batch), batch[0].sku, len(again))})
		})
		if err != nil {
			return err
		}
		if batch = again; len(batch) == 0 {
			return nil
		}
	}
}

// batchKey is the @idempotent key of one batch attempt: the same batch,
// computed again from the same state after a crash, has the same key.
func batchKey(shop, location string, batch []change, attempt int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d", shop, location, attempt)
	for _, c := range batch {
		from := "nil"
		if c.from != nil {
			from = fmt.Sprint(*c.from)
		}
		fmt.Fprintf(h, "|%s=%d<%s@%s", c.item, c.target, from, c.seen)
	}
	return "crossdock-stock-" + hex.EncodeToString(h.Sum(nil))[:32]
}

func (w *Worker) setBatch(ctx context.Context, t *tenant.Shop, loc location, batch []change, ordered map[string]int, attempt int) error {
	qs := make([]shopify.InventoryQuantity, len(batch))
	for i, c := range batch {
		qs[i] = shopify.InventoryQuantity{InventoryItemID: c.item, LocationID: loc.id, Quantity: c.target, ChangeFromQuantity: c.from}
	}
	key := batchKey(t.Domain, loc.id, batch, attempt)
	ref := "gid://crossdock/StockSync/" + loc.warehouses[0].ID
	if _, err := t.Shopify.SetInventory(ctx, key, "correction", ref, qs); err != nil {
		return err
	}
	now := w.now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range batch {
			if err := store.RecordPush(ctx, tx, t.Domain, loc.id, c.sku, c.item, c.target, ordered[c.sku], key, now); err != nil {
				return err
			}
			from := "unknown"
			if c.from != nil {
				from = fmt.Sprint(*c.from)
			}
			if err := store.AddLedger(ctx, tx, store.LedgerEntry{Shop: t.Domain, LocationID: loc.id, SKU: c.sku, At: now, Kind: "push",
				Message: fmt.Sprintf("set available %s → %d (%s); key %s", from, c.target, c.why, key)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// readShopify records what Shopify holds at the location. A mapped SKU
// that Shopify holds there but no warehouse of the location ever reported
// gets a figure of zero, so the push takes Shopify down to what the
// warehouses really have.
//
// known, when given, are the levels the hub already knows: a value equal
// to the known one is not written again (a full read of 100,000 levels
// where little moved writes little).
func (w *Worker) readShopify(ctx context.Context, t *tenant.Shop, loc location, mappings map[string]store.SKUMapping, figs map[string]*Figure, known map[string]store.LocationLevel) error {
	readAt := w.now()
	var levels []shopify.InventoryLevel
	var err error
	if w.useBulk(max(len(figs), len(known))) {
		levels, err = t.Shopify.BulkInventoryLevels(ctx, loc.id)
	} else {
		levels, err = t.Shopify.AllInventoryLevels(ctx, loc.id)
	}
	if err != nil {
		return fmt.Errorf("stock: read Shopify levels at %s: %w", loc.id, err)
	}
	byItem := make(map[string]string, len(mappings))
	for sku, m := range mappings {
		byItem[m.InventoryItemID] = sku
	}
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, l := range levels {
			sku, ok := byItem[l.InventoryItemID]
			if !ok {
				// An item Shopify stocks here that no warehouse reports
				// yet: map it by its SKU so its figure (zero) is pushed.
				sku = strings.TrimSpace(l.SKU)
				if sku == "" {
					continue
				}
				if m, taken := mappings[sku]; taken && m.InventoryItemID != l.InventoryItemID {
					continue // the SKU belongs to another item (the catalogue audit reports it)
				}
				mp := store.SKUMapping{Shop: t.Domain, SKU: sku, InventoryItemID: l.InventoryItemID}
				if err := store.UpsertSKUMapping(ctx, tx, mp); err != nil {
					return err
				}
				mappings[sku] = mp
				byItem[l.InventoryItemID] = sku
			}
			if _, ok := figs[sku]; !ok {
				figs[sku] = zeroFigure(loc)
			}
			if k, ok := known[sku]; ok && k.ShopifyAvailable != nil && *k.ShopifyAvailable == l.Available {
				continue
			}
			if _, err := store.ObserveShopifyLevel(ctx, tx, t.Domain, loc.id, sku, l.InventoryItemID, l.Available, readAt, store.SourceRead); err != nil {
				return err
			}
		}
		return nil
	})
}

// zeroFigure is the figure of a SKU no warehouse of the location reports.
func zeroFigure(loc location) *Figure {
	f := &Figure{}
	for _, wh := range loc.warehouses {
		f.Contributions = append(f.Contributions, Contribution{Warehouse: wh.ID})
	}
	Compute(f)
	return f
}

// explainShort is the one-line reason of a target.
func explainShort(f *Figure) string {
	var parts []string
	for _, c := range f.Contributions {
		s := fmt.Sprintf("%s: snapshot %d", c.Warehouse, c.Snapshot)
		if c.Movements != 0 {
			s += fmt.Sprintf(" %+d moved", c.Movements)
		}
		if c.InFlight != 0 {
			s += fmt.Sprintf(" −%d in flight", c.InFlight)
		}
		if c.Buffer != 0 {
			s += fmt.Sprintf(" −%d buffer", c.Buffer)
		}
		parts = append(parts, s)
	}
	out := strings.Join(parts, "; ")
	if f.Cap > 0 {
		out += fmt.Sprintf("; cap %d", f.Cap)
	}
	return out
}

// progress reports a sync's progress to a callback and, at most every
// second, to the cursor table for the dashboard. Locations sync
// concurrently: Done and Total add up over them.
type progress struct {
	w    *Worker
	mu   sync.Mutex
	p    Progress
	cb   func(Progress)
	last time.Time
}

func (p *progress) report(ctx context.Context, change func(*Progress)) {
	p.mu.Lock()
	if change != nil {
		change(&p.p)
	}
	p.p.Updated = p.w.now()
	snap := p.p
	write := snap.Finished || snap.Updated.Sub(p.last) >= time.Second || snap.Done == snap.Total
	if write {
		p.last = snap.Updated
	}
	p.mu.Unlock()
	if p.cb != nil {
		p.cb(snap)
	}
	if !write {
		return
	}
	b, _ := jsonMarshal(snap)
	_ = p.w.Store.InTx(ctx, func(tx *store.Tx) error {
		return store.SetCursor(ctx, tx, snap.Shop, ProgressCursor, string(b))
	})
}
