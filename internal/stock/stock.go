// Package stock is stock v1: it reads each warehouse's stock snapshot and
// sets Shopify's "available" quantity at the warehouse's location to what
// the warehouse can sell, minus units of orders sent after the snapshot was
// taken, never below zero.
//
// Shopify's levels at the location are read first, and only levels whose
// target differs from what Shopify holds are written, in batches of at most 250, each quantity with
// changeFromQuantity (the value just read) and
// each batch with an @idempotent key. A stale changeFromQuantity makes the
// sync re-read the location's levels and try once more with a new key.
// (The full stock engine — buffers, movements, echo detection, pacing — is a
// later piece of work.)
package stock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// MaxBatch is Shopify's limit on input arrays.
const MaxBatch = 250

// SyncArgs is the periodic job that syncs a shop's stock.
type SyncArgs struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "stock.sync" }

// Worker works SyncArgs.
type Worker struct {
	river.WorkerDefaults[SyncArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger

	mu          sync.Mutex
	lastMapping map[string]time.Time
	lastRead    map[string]time.Time // shop/warehouse → last full read of Shopify's levels
	running     queue.Exclusive
	// Now is the clock of the read interval; default time.Now.
	Now func() time.Time
}

// DefaultReadInterval is how often a location's levels are read in full
// from Shopify when the shop sets no stock_read_interval. Between reads the
// hub knows Shopify's figures from its own pushes and from
// inventory_levels/update webhooks; a stale figure is caught by
// changeFromQuantity on the next push.
const DefaultReadInterval = 10 * time.Minute

// readDue reports whether the location's levels must be read in full now,
// and marks them read.
func (w *Worker) readDue(t *tenant.Shop, wh *tenant.Warehouse) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastRead == nil {
		w.lastRead = map[string]time.Time{}
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	key := t.Domain + "/" + wh.ID
	if last, ok := w.lastRead[key]; ok && now.Sub(last) < t.Config.StockReadInterval.Std(DefaultReadInterval) {
		return false
	}
	w.lastRead[key] = now
	return true
}

// Timeout lets a large first sync run.
func (w *Worker) Timeout(*river.Job[SyncArgs]) time.Duration { return 10 * time.Minute }

// Work syncs one shop, unless a sync of the shop is already running here.
func (w *Worker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	release, ok := w.running.TryAcquire(job.Args.Shop)
	if !ok {
		return nil
	}
	defer release()
	_, err := w.Sync(ctx, job.Args.Shop)
	return queue.Classify(err)
}

// NextRetry retries a failed sync soon: the next periodic run would anyway.
func (w *Worker) NextRetry(*river.Job[SyncArgs]) time.Time { return time.Now().Add(5 * time.Second) }

// Result says what a sync did.
type Result struct {
	Levels    int // levels considered
	Changed   int // levels whose target differed from Shopify
	Mutations int // inventorySetQuantities calls
	Stale     int // batches retried after CHANGE_FROM_QUANTITY_STALE
	Reads     int // full reads of a location's levels in Shopify
}

// Sync reads every warehouse of the shop and pushes the changes.
func (w *Worker) Sync(ctx context.Context, shop string) (Result, error) {
	var res Result
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return res, fmt.Errorf("stock: unknown shop %s", shop)
	}
	var errs []error
	// fullAsOf holds, per warehouse whose snapshot just read was full, its
	// time: a SKU Shopify holds there that the snapshot lacks has none.
	fullAsOf := map[string]time.Time{}
	for _, wh := range t.Warehouses {
		full, asOf, err := w.readSnapshot(ctx, t, wh)
		if err != nil {
			errs = append(errs, err)
		} else if full {
			fullAsOf[wh.ID] = asOf
		}
	}
	mappings, err := w.mappings(ctx, t)
	if err != nil {
		return res, err
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	for _, wh := range t.Warehouses {
		if wh.LocationID == "" {
			continue
		}
		var full *time.Time
		if at, ok := fullAsOf[wh.ID]; ok {
			full = &at
		}
		r, err := w.push(ctx, t, wh, mappings, run, full)
		res.Levels += r.Levels
		res.Changed += r.Changed
		res.Mutations += r.Mutations
		res.Stale += r.Stale
		res.Reads += r.Reads
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// readSnapshot stores a warehouse's snapshot and says whether it was full,
// and its time.
func (w *Worker) readSnapshot(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse) (full bool, asOf time.Time, err error) {
	snap, err := wh.WMS.Stock(ctx)
	if err != nil {
		return false, asOf, fmt.Errorf("stock: %s snapshot: %w", wh.ID, err)
	}
	asOf = snap.AsOf
	if asOf.IsZero() {
		asOf = time.Now()
	}
	return snap.Full, asOf, w.Store.InTx(ctx, func(tx *store.Tx) error {
		seen := map[string]bool{}
		for _, it := range snap.Items {
			seen[it.SKU] = true
			if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: t.Domain, Warehouse: wh.ID, SKU: it.SKU, OnHand: it.OnHand, Available: it.Available, AsOf: asOf}); err != nil {
				return err
			}
		}
		if !snap.Full {
			return nil
		}
		// A SKU missing from a full snapshot has none left.
		cur, err := store.StockLevels(ctx, tx, t.Domain, wh.ID)
		if err != nil {
			return err
		}
		for _, l := range cur {
			if !seen[l.SKU] {
				if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: t.Domain, Warehouse: wh.ID, SKU: l.SKU, AsOf: asOf}); err != nil {
					return err
				}
			}
		}
		return nil
	})
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
	vs, err := t.Shopify.AllVariants(ctx)
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

type change struct {
	sku    string
	item   string
	target int
	from   *int
}

func (w *Worker) push(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse, mappings map[string]store.SKUMapping, run string, fullAsOf *time.Time) (Result, error) {
	var res Result
	levels, err := store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID)
	if err != nil {
		return res, err
	}
	var oldest time.Time
	for _, l := range levels {
		if oldest.IsZero() || l.AsOf.Before(oldest) {
			oldest = l.AsOf
		}
	}
	reserved := map[string]int{}
	if !oldest.IsZero() {
		if reserved, err = store.ReservedSince(ctx, w.Store.Read, t.Domain, wh.ID, oldest); err != nil {
			return res, err
		}
	}
	// What Shopify holds is known from pushes and webhooks; it is read in
	// full when a level has never been seen and every read interval (orders,
	// edits and other apps move it, and webhooks can be lost).
	read := w.readDue(t, wh)
	for _, l := range levels {
		if _, ok := mappings[l.SKU]; ok && l.ShopifyAvailable == nil {
			read = true
		}
	}
	if read {
		if err := w.readShopify(ctx, t, wh, mappings, fullAsOf); err != nil {
			return res, err
		}
		if levels, err = store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID); err != nil {
			return res, err
		}
		res.Reads++
	}
	var changes []change
	for _, l := range levels {
		mp, ok := mappings[l.SKU]
		if !ok {
			continue
		}
		res.Levels++
		target := max(l.Available-reserved[l.SKU], 0)
		if l.ShopifyAvailable != nil && *l.ShopifyAvailable == target {
			continue
		}
		changes = append(changes, change{sku: l.SKU, item: mp.InventoryItemID, target: target, from: l.ShopifyAvailable})
	}
	res.Changed = len(changes)
	sort.Slice(changes, func(i, j int) bool { return changes[i].sku < changes[j].sku })
	for start := 0; start < len(changes); start += MaxBatch {
		batch := changes[start:min(start+MaxBatch, len(changes))]
		for attempt := 0; ; attempt++ {
			res.Mutations++
			err := w.setBatch(ctx, t, wh, batch, fmt.Sprintf("%s/%d/%d", run, start, attempt))
			var stale *shopify.StaleQuantityError
			if errors.As(err, &stale) && attempt == 0 {
				res.Stale++
				res.Reads++
				if err := w.readShopify(ctx, t, wh, mappings, fullAsOf); err != nil {
					return res, err
				}
				fresh, err := store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID)
				if err != nil {
					return res, err
				}
				byS := map[string]store.StockLevel{}
				for _, l := range fresh {
					byS[l.SKU] = l
				}
				var again []change
				for _, c := range batch {
					c.from = byS[c.sku].ShopifyAvailable
					if c.from == nil || *c.from != c.target {
						again = append(again, c)
					}
				}
				if batch = again; len(batch) == 0 {
					break
				}
				continue
			}
			if err != nil {
				return res, fmt.Errorf("stock: push %s: %w", wh.ID, err)
			}
			break
		}
	}
	return res, nil
}

func (w *Worker) setBatch(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse, batch []change, attemptID string) error {
	qs := make([]shopify.InventoryQuantity, len(batch))
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s", t.Domain, wh.LocationID, attemptID)
	for i, c := range batch {
		qs[i] = shopify.InventoryQuantity{InventoryItemID: c.item, LocationID: wh.LocationID, Quantity: c.target, ChangeFromQuantity: c.from}
		fmt.Fprintf(h, "|%s=%d", c.item, c.target)
	}
	key := "crossdock-stock-" + hex.EncodeToString(h.Sum(nil))[:32]
	ref := "gid://crossdock/StockSync/" + wh.ID
	if _, err := t.Shopify.SetInventory(ctx, key, "correction", ref, qs); err != nil {
		return err
	}
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range batch {
			if _, err := store.SetShopifyAvailable(ctx, tx, t.Domain, wh.ID, c.sku, c.target, time.Now(), true); err != nil {
				return err
			}
		}
		return nil
	})
}

// readShopify records what Shopify holds at the warehouse's location. When
// the warehouse's last snapshot was full (fullAsOf set), a mapped SKU that
// Shopify holds there but the warehouse never reported gets a zero level, so
// the push takes Shopify down to what the warehouse really has.
func (w *Worker) readShopify(ctx context.Context, t *tenant.Shop, wh *tenant.Warehouse, mappings map[string]store.SKUMapping, fullAsOf *time.Time) error {
	readAt := time.Now()
	levels, err := t.Shopify.AllInventoryLevels(ctx, wh.LocationID)
	if err != nil {
		return fmt.Errorf("stock: read Shopify levels at %s: %w", wh.ID, err)
	}
	byItem := map[string]string{}
	for sku, m := range mappings {
		byItem[m.InventoryItemID] = sku
	}
	known := map[string]bool{}
	if fullAsOf != nil {
		cur, err := store.StockLevels(ctx, w.Store.Read, t.Domain, wh.ID)
		if err != nil {
			return err
		}
		for _, l := range cur {
			known[l.SKU] = true
		}
	}
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, l := range levels {
			sku, ok := byItem[l.InventoryItemID]
			if !ok {
				continue
			}
			if fullAsOf != nil && !known[sku] && l.Available != 0 {
				if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: t.Domain, Warehouse: wh.ID, SKU: sku, AsOf: *fullAsOf}); err != nil {
					return err
				}
			}
			if _, err := store.SetShopifyAvailable(ctx, tx, t.Domain, wh.ID, sku, l.Available, readAt, false); err != nil {
				return err
			}
		}
		return nil
	})
}
