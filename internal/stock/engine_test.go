package stock_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
)

// editByHand changes Shopify's available behind the hub's back and lets
// the read interval pass, so the next sync reads it.
func (b *bundle) editByHand(t *testing.T, sku string, v int) {
	t.Helper()
	if err := b.sim.SetInventory(sku, b.loc, shopifysim.InventoryQuantities{Available: v}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(stock.DefaultReadInterval)
}

func (b *bundle) ledger(t *testing.T, sku, kind string) []store.LedgerEntry {
	t.Helper()
	es, err := store.Ledger(context.Background(), b.st.Read, shop, b.loc, sku, kind, 10)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A manual edit at a WMS-owned location is found, left to settle, recorded
// in the ledger and corrected (the default policy).
func TestManualEditCorrected(t *testing.T) {
	t.Parallel()
	b := setup(t, 4)
	b.sync(t)
	sku := b.skus[1]
	want := b.shopify(t, sku)
	b.editByHand(t, sku, want+30)
	if res := b.sync(t); res.Deferred != 1 || res.ManualEdits != 0 || res.Changed != 0 {
		t.Fatalf("first sync after the edit %+v, want it deferred while it settles", res)
	}
	b.clock.Advance(stock.DefaultSettle)
	res := b.sync(t)
	if res.ManualEdits != 1 || res.Changed != 1 {
		t.Fatalf("sync after settling %+v, want 1 manual edit corrected", res)
	}
	if got := b.shopify(t, sku); got != want {
		t.Errorf("Shopify %d after the correction, want the warehouse's %d", got, want)
	}
	es := b.ledger(t, sku, "manual_edit")
	if len(es) != 1 || !strings.Contains(es[0].Message, "Shopify showed") {
		t.Errorf("manual_edit ledger %+v, want one entry saying what Shopify showed", es)
	}
	if ps := b.ledger(t, sku, "push"); len(ps) == 0 || !strings.Contains(ps[0].Message, "correcting a manual edit") {
		t.Errorf("push ledger %+v, want the correction with its reason", ps)
	}
}

// With the flag policy, a manual edit is recorded and left in place until
// the warehouse's figure for the SKU moves.
func TestManualEditFlagged(t *testing.T) {
	t.Parallel()
	b := setup(t, 4)
	b.w.ManualEdit = func(string, string) string { return "flag" }
	b.sync(t)
	sku := b.skus[2]
	edited := b.shopify(t, sku) + 7
	b.editByHand(t, sku, edited)
	b.sync(t)
	b.clock.Advance(stock.DefaultSettle)
	if res := b.sync(t); res.ManualEdits != 1 || res.Flagged != 1 || res.Mutations != 0 {
		t.Fatalf("sync %+v, want the manual edit flagged and nothing written", res)
	}
	if got := b.shopify(t, sku); got != edited {
		t.Errorf("Shopify %d, want the edit %d left in place", got, edited)
	}
	if res := b.sync(t); res.Flagged != 1 || res.Mutations != 0 || res.ManualEdits != 0 {
		t.Errorf("next sync %+v, want the flag kept, no new manual edit", res)
	}
	if len(b.ledger(t, sku, "flagged")) != 1 {
		t.Errorf("want one flagged ledger entry")
	}
	// The warehouse's figure moves: the hub's figure wins again.
	moved := b.wms.Stock()[sku].Available + 6
	b.wms.SetStock(map[string]int{sku: moved})
	if res := b.sync(t); res.Changed != 1 {
		t.Errorf("sync after the warehouse moved %+v, want the new figure written", res)
	}
	if got := b.shopify(t, sku); got != moved {
		t.Errorf("Shopify %d, want %d", got, moved)
	}
}

// The hub's own writes come back as inventory_levels/update webhooks: they
// are not manual edits, and nothing is written again (no echo loop). A
// Shopify change explained by an order the hub knows is not one either.
func TestOwnEchoAndOrdersAreNotManualEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, 3)
	b.sync(t)
	sku := b.skus[0]
	b.wms.SetStock(map[string]int{sku: 40})
	b.sync(t)
	b.rec.take()
	// The echo of the push, as the drain records it.
	if _, err := store.ObserveShopifyLevel(ctx, b.st.Write, shop, b.loc, sku, b.items[sku], 40, b.clock.Now().Add(time.Second), store.SourceWebhook); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(stock.DefaultSettle * 2)
	if res := b.sync(t); res.ManualEdits != 0 || res.Mutations != 0 || res.Deferred != 0 {
		t.Errorf("sync after the echo %+v, want nothing", res)
	}
	if calls := b.rec.take(); len(calls) != 0 {
		t.Errorf("writes after the echo: %+v", calls)
	}
}

// A partial snapshot updates the SKUs it lists; a SKU missing from it
// keeps its figure (it is not zero).
func TestPartialSnapshotKeepsMissingSKU(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	b.sync(t)
	kept, moved := b.skus[0], b.skus[1]
	keptWas := b.shopify(t, kept)
	b.filter.partial = true
	b.filter.hide(kept)
	b.wms.SetStock(map[string]int{kept: 0, moved: 11})
	b.sync(t)
	if got := b.shopify(t, kept); got != keptWas {
		t.Errorf("%s missing from a partial snapshot: Shopify %d, want %d kept", kept, got, keptWas)
	}
	if got := b.shopify(t, moved); got != 11 {
		t.Errorf("%s in the partial snapshot: Shopify %d, want 11", moved, got)
	}
}

// A push whose answer never reached the hub (a crash between Shopify's
// answer and the hub's commit) is computed again with the same content and
// the same @idempotent key: Shopify replays its first answer instead of
// applying again or answering CHANGE_FROM_QUANTITY_STALE.
func TestPushReplayAfterLostAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	b.sync(t)
	b.rec.take()
	b.rec.mu.Lock()
	b.rec.keys = nil
	b.rec.loseAnswers = 1 + shopify.DefaultMaxRetries
	b.rec.mu.Unlock()
	sku := b.skus[2]
	b.wms.SetStock(map[string]int{sku: 55})
	b.clock.Advance(time.Minute)
	if _, err := b.w.Sync(context.Background(), shop); err == nil {
		t.Fatal("sync succeeded although every answer was lost")
	}
	if got := b.shopify(t, sku); got != 55 {
		t.Fatalf("Shopify %d: the lost call was not applied", got)
	}
	res := b.sync(t)
	if res.Stale != 0 || res.Mutations != 1 {
		t.Errorf("sync after the lost answer %+v, want one replayed mutation, no stale", res)
	}
	b.rec.mu.Lock()
	keys := b.rec.keys
	b.rec.mu.Unlock()
	if len(keys) < 2 || keys[0] != keys[len(keys)-1] {
		t.Errorf("keys %v: the replay must use the lost call's key", keys)
	}
	if got := b.shopify(t, sku); got != 55 {
		t.Errorf("Shopify %d, want 55", got)
	}
	if res := b.sync(t); res.Mutations != 0 {
		t.Errorf("sync after the replay %+v, want nothing left to write", res)
	}
}

// Explain says why the figure is what it is: snapshot, in-flight orders,
// buffer, the last push.
func TestExplain(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	b.sync(t)
	sku := b.skus[1]
	ex, err := b.w.Explain(context.Background(), shop, b.loc, sku)
	if err != nil {
		t.Fatal(err)
	}
	snap := b.wms.Stock()[sku].Available
	if len(ex.Figure.Contributions) != 1 || ex.Figure.Contributions[0].Snapshot != snap || ex.Figure.Target != snap || !ex.InSync {
		t.Errorf("explanation %+v, want one contribution of %d in sync", ex, snap)
	}
	if len(ex.Ledger) == 0 || ex.Ledger[0].Kind != "push" {
		t.Errorf("ledger %+v, want the initial push", ex.Ledger)
	}
	if _, err := b.w.Explain(context.Background(), shop, "gid://shopify/Location/0", sku); err == nil {
		t.Error("explain of an unknown location succeeded")
	}
}

var _ connector.StockMovements = (*fakeWMS)(nil)

// Where the warehouse does not own the stock (sources_of_truth), the hub
// writes nothing and says why in the ledger.
func TestNotOwnedLocationIsNotWritten(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	b.w.StockOwnedByWMS = func(string, string) bool { return false }
	b.rec.take()
	res := b.sync(t)
	if res.Mutations != 0 || res.NotOwned != 3 {
		t.Errorf("sync %+v, want nothing written and 3 levels not owned", res)
	}
	if calls := b.rec.take(); len(calls) != 0 {
		t.Errorf("writes %+v at a location whose stock the warehouse does not own", calls)
	}
	if es := b.ledger(t, b.skus[0], "not_owned"); len(es) != 1 {
		t.Errorf("not_owned ledger %+v, want one entry", es)
	}
}

// Above BulkThreshold, full reads of Shopify (levels and variants) go
// through bulk operations; the result is the same.
func TestSyncWithBulkReads(t *testing.T) {
	t.Parallel()
	b := setup(t, 12)
	b.w.BulkThreshold = 5
	res := b.sync(t)
	if res.Changed != 12 || res.Reads != 1 {
		t.Fatalf("first sync %+v, want 12 levels written after one read", res)
	}
	for _, sku := range b.skus {
		if got, want := b.shopify(t, sku), b.wms.Stock()[sku].Available; got != want {
			t.Errorf("%s: Shopify %d, warehouse %d", sku, got, want)
		}
	}
	sku := b.skus[4]
	b.editByHand(t, sku, 99)
	b.sync(t)
	b.clock.Advance(stock.DefaultSettle)
	if res := b.sync(t); res.ManualEdits != 1 || res.Changed != 1 {
		t.Errorf("sync %+v, want the edit found by a bulk read and corrected", res)
	}
}

// A sync interrupted mid-push (a crash, Ctrl-C) is resumed by running it
// again: levels already written are in step and skipped, the rest are
// written, and the progress kept for the dashboard says where it stood.
func TestSyncResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	b := setup(t, 600)
	ctx, cancel := context.WithCancel(context.Background())
	var seen []stock.Progress
	_, err := b.w.SyncWith(ctx, shop, stock.Options{Progress: func(p stock.Progress) {
		seen = append(seen, p)
		if p.Phase == "pushing" && p.Done >= stock.MaxBatch {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("the interrupted sync reported success")
	}
	cur, err := store.Cursor(context.Background(), b.st.Read, shop, stock.ProgressCursor)
	if err != nil || cur == "" || strings.Contains(cur, `"finished":true`) {
		t.Errorf("progress kept after the interruption %q %v, want an unfinished sync", cur, err)
	}
	res, err := b.w.SyncWith(context.Background(), shop, stock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 600-stock.MaxBatch {
		t.Errorf("resumed sync %+v, want the %d levels not yet written", res, 600-stock.MaxBatch)
	}
	for _, sku := range b.skus {
		if got, want := b.shopify(t, sku), b.wms.Stock()[sku].Available; got != want {
			t.Fatalf("%s: Shopify %d, warehouse %d", sku, got, want)
		}
	}
	if cur, _ := store.Cursor(context.Background(), b.st.Read, shop, stock.ProgressCursor); !strings.Contains(cur, `"finished":true`) {
		t.Errorf("progress after the resumed sync %q, want finished", cur)
	}
	if len(seen) == 0 || seen[0].Phase != "reading warehouses" {
		t.Errorf("progress reports %+v", seen)
	}
}
