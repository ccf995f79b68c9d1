// Package queue builds the River client crossdock's jobs run on, and maps
// connector error classes to River's retry control: a permanent error stops
// retrying (the job is discarded and listed as a dead letter with its
// reason), a retry-after error snoozes the job for the requested delay, and
// anything else is retried with River's exponential backoff.
package queue

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/store"
)

// Client is the job client used throughout crossdock.
type Client = river.Client[*sql.Tx]

// Classify turns an error from a connector call into what River should do.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if connector.IsPermanent(err) {
		return river.JobCancel(err)
	}
	if d, ok := connector.RetryDelay(err); ok {
		if d < time.Second {
			d = time.Second
		}
		return river.JobSnooze(d)
	}
	return err
}

// Config configures the client.
type Config struct {
	Store      *store.Store
	Workers    *river.Workers
	MaxWorkers int
	Periodic   []*river.PeriodicJob
	Logger     *slog.Logger
	// MaxAttempts before a job is discarded (dead letter). Default 25.
	MaxAttempts int
	// JobTimeout bounds one attempt. Default 1m. A job left running by a
	// crashed process is rescued and retried after twice this long.
	JobTimeout time.Duration
}

// NewClient returns a River client on the store's database.
func NewClient(cfg Config) (*Client, error) {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 50
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 25
	}
	rc := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		Workers:              cfg.Workers,
		PeriodicJobs:         cfg.Periodic,
		Logger:               cfg.Logger,
		MaxAttempts:          cfg.MaxAttempts,
		FetchPollInterval:    100 * time.Millisecond,
		FetchCooldown:        20 * time.Millisecond,
		RescueStuckJobsAfter: 2 * time.Minute,
		JobTimeout:           2 * time.Minute,
	}
	if cfg.Workers == nil {
		rc.Queues = nil
	}
	c, err := river.NewClient(cfg.Store.RiverDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return c, nil
}

// InsertTx is the part of the client that inserts jobs in a transaction.
type InsertTx interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Exclusive lets one run per key proceed at a time in this process; a run
// that finds its key busy is skipped, not queued. Periodic jobs use it so
// that a slow run and the next tick do not overlap.
type Exclusive struct {
	mu   sync.Mutex
	busy map[string]bool
}

// TryAcquire takes key if it is free and returns the function that frees it.
func (e *Exclusive) TryAcquire(key string) (release func(), ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy == nil {
		e.busy = map[string]bool{}
	}
	if e.busy[key] {
		return nil, false
	}
	e.busy[key] = true
	return func() {
		e.mu.Lock()
		delete(e.busy, key)
		e.mu.Unlock()
	}, true
}
