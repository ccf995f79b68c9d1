// Package retention prunes what the hub no longer needs: processed webhook
// deliveries and warehouse events older than the retention period. Their
// effects (orders, timelines, shipments) are kept; quarantined deliveries
// stay until an operator deals with them. River prunes its own finished jobs.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/store"
)

// DefaultPeriod is how long processed events are kept.
const DefaultPeriod = 30 * 24 * time.Hour

// Args is the periodic pruning job.
type Args struct{}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "retention.prune" }

// Worker works Args.
type Worker struct {
	river.WorkerDefaults[Args]
	Store  *store.Store
	Period time.Duration
	Logger *slog.Logger
}

// Work deletes events older than the retention period.
func (w *Worker) Work(ctx context.Context, _ *river.Job[Args]) error {
	period := w.Period
	if period <= 0 {
		period = DefaultPeriod
	}
	n, err := store.PruneEvents(ctx, w.Store.Write, time.Now().Add(-period))
	if err == nil && n > 0 && w.Logger != nil {
		w.Logger.Info("pruned processed events", "rows", n, "older_than", period)
	}
	return err
}
