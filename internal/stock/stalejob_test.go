package stock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
)

// A quantity that changes in Shopify again between the re-read and the
// retry (orders arriving during a chaos soak) fails the stock.sync job with
// a transient error, retried, never cancelled into a dead letter; the next
// attempt writes the figure.
func TestSyncJobStaleTwiceIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, 5)
	b.sync(t)
	b.rec.take()

	sku := b.skus[1]
	b.wms.SetStock(map[string]int{sku: 77})
	b.clock.Advance(time.Minute) // a newer snapshot
	setShopify := func(v int) {
		if err := b.sim.SetInventory(sku, b.loc, shopifysim.InventoryQuantities{Available: v}); err != nil {
			t.Error(err)
		}
	}
	b.rec.beforeNext(func() {
		setShopify(50)
		b.rec.beforeNext(func() { setShopify(49) }) // again before the retry
	})
	job := &river.Job[stock.SyncArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: stock.SyncArgs{Shop: shop}}
	err := b.w.Work(context.Background(), job)
	if err == nil {
		t.Fatal("Work: nil error, want a transient error after two stale answers")
	}
	var cancel *rivertype.JobCancelError
	if errors.As(err, &cancel) || strings.Contains(err.Error(), "permanent") {
		t.Fatalf("Work: %v cancels the job (a dead letter) or says permanent, want a retry", err)
	}
	if n := len(b.rec.take()); n != 2 {
		t.Errorf("%d inventorySetQuantities calls, want 2 (the push and its retry)", n)
	}

	// The retry comes after the settling delay: the hub takes the
	// unexplained 49 as an edit by hand and corrects it (the default
	// policy where the warehouse owns stock).
	b.clock.Advance(time.Minute)
	if err := b.w.Work(context.Background(), job); err != nil {
		t.Fatalf("retried Work: %v", err)
	}
	if got := b.shopify(t, sku); got != 77 {
		t.Errorf("Shopify %d after the retry, want 77", got)
	}
}
