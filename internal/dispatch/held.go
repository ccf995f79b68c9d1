package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
)

// RetryHeldArgs is the periodic job that routes held orders again: the
// cause of a hold (no stock anywhere, a SKU no warehouse knew) is often
// fixed somewhere the hub does not hear of directly — stock arrives, an
// operator adds a mapping — so held orders are retried until they can go.
// (An address corrected in Shopify comes as orders/updated and is
// dispatched at once.) When routing succeeds, the dispatch job releases the
// hold and records it on the timeline.
type RetryHeldArgs struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (RetryHeldArgs) Kind() string { return "order.retry_held" }

// DefaultHeldRetryInterval is how often held orders are retried when the
// shop sets no held_retry_interval.
const DefaultHeldRetryInterval = time.Minute

// maxHeldPerRun bounds one run; the next run takes the rest.
const maxHeldPerRun = 1000

// RetryHeldWorker works RetryHeldArgs.
type RetryHeldWorker struct {
	river.WorkerDefaults[RetryHeldArgs]
	Store  *store.Store
	Jobs   queue.InsertTx
	Logger *slog.Logger
}

// Work enqueues a route job for every held order of the shop (unique per
// order while one waits, so a slow run does not pile them up).
func (w *RetryHeldWorker) Work(ctx context.Context, job *river.Job[RetryHeldArgs]) error {
	held, err := store.ListOrders(ctx, w.Store.Read, job.Args.Shop, store.OrderHeld, maxHeldPerRun)
	if err != nil {
		return queue.Classify(err)
	}
	if len(held) == 0 {
		return nil
	}
	err = w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, o := range held {
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, RouteArgs{Shop: o.Shop, OrderID: o.OrderID}, InsertOpts()); err != nil {
				return fmt.Errorf("dispatch: retry held %s: %w", o.Name, err)
			}
		}
		return nil
	})
	return queue.Classify(err)
}
