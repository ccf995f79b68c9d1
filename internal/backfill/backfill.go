// Package backfill recovers orders whose webhook never came: periodically
// it lists the shop's orders updated since a stored cursor and dispatches
// the ones the hub does not know yet (or that still wait), recording on
// their timeline that polling, not a webhook, found them.
package backfill

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// Args is the periodic backfill job of a shop.
type Args struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "orders.backfill" }

// CursorName is the name of the stored cursor (an RFC 3339 time).
const CursorName = "backfill:orders_updated_at"

// Overlap is re-read before the cursor to absorb clock skew and orders
// updated while the previous page was read.
const Overlap = 2 * time.Minute

// Worker works Args.
type Worker struct {
	river.WorkerDefaults[Args]
	Store   *store.Store
	Jobs    queue.InsertTx
	Tenants *tenant.Registry
	Logger  *slog.Logger
	// FirstLookback is how far back the first run looks. Default 24h.
	FirstLookback time.Duration

	running queue.Exclusive
}

// Work runs one backfill pass.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	release, ok := w.running.TryAcquire(job.Args.Shop)
	if !ok {
		return nil // a pass for this shop is already running here
	}
	defer release()
	_, err := w.Run(ctx, job.Args.Shop)
	return queue.Classify(err)
}

// Run lists orders updated since the cursor and dispatches the missing
// ones. It returns how many orders it recovered.
func (w *Worker) Run(ctx context.Context, shop string) (recovered int, err error) {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return 0, fmt.Errorf("backfill: unknown shop %s", shop)
	}
	cur, err := store.Cursor(ctx, w.Store.Read, shop, CursorName)
	if err != nil {
		return 0, err
	}
	lookback := w.FirstLookback
	if lookback <= 0 {
		lookback = 24 * time.Hour
	}
	since := time.Now().Add(-lookback)
	if cur != "" {
		if since, err = time.Parse(time.RFC3339Nano, cur); err != nil {
			return 0, fmt.Errorf("backfill: stored cursor %q: %w", cur, err)
		}
	}
	from := since.Add(-Overlap)
	after := ""
	newest := since
	for {
		page, err := t.Shopify.OrdersUpdatedSince(ctx, from, after)
		if err != nil {
			return recovered, fmt.Errorf("backfill %s: %w", shop, err)
		}
		err = w.Store.InTx(ctx, func(tx *store.Tx) error {
			for _, o := range page.Orders {
				if o.UpdatedAt.After(newest) {
					newest = o.UpdatedAt
				}
				known, err := store.GetOrder(ctx, tx, shop, o.ID)
				if err != nil && err != store.ErrNotFound {
					return err
				}
				if known != nil && known.State != store.OrderReceived && known.State != store.OrderHeld {
					continue
				}
				if known == nil && o.CancelledAt != nil {
					continue
				}
				if known == nil {
					upd := o.UpdatedAt
					if _, err := store.UpsertOrder(ctx, tx, &store.Order{Shop: shop, OrderID: o.ID, Name: o.Name, ShopifyUpdatedAt: &upd}); err != nil {
						return err
					}
					if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: o.ID, Source: store.SourceHub, Kind: "recovered",
						Message: fmt.Sprintf("%s found by polling (orders updated since %s): no webhook had arrived", o.Name, from.Format(time.RFC3339))}); err != nil {
						return err
					}
					recovered++
				}
				if _, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: shop, OrderID: o.ID}, dispatch.InsertOpts()); err != nil {
					return err
				}
			}
			if page.EndCursor == "" {
				return store.SetCursor(ctx, tx, shop, CursorName, newest.UTC().Format(time.RFC3339Nano))
			}
			return nil
		})
		if err != nil {
			return recovered, err
		}
		if page.EndCursor == "" {
			return recovered, nil
		}
		after = page.EndCursor
	}
}
