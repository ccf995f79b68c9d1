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
	"math/rand/v2"
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
		RetryPolicy:          RetryPolicy{Cap: MaxRetryDelay},
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

// MaxRetryDelay caps the backoff between two attempts of a failing job.
// River's own schedule (errors⁴ seconds: 1 s, 16 s, 81 s, 4 min, 10 min,
// 22 min…) left orders waiting a quarter of an hour after a warehouse came
// back (found by the chaos soak); with the cap a job is retried at least
// every 5 minutes, and the 25 attempts before a dead letter span about two
// hours of continuous failure.
const MaxRetryDelay = 5 * time.Minute

// RetryPolicy is River's errors⁴-seconds backoff capped at Cap, with ±10 %
// jitter so that jobs failed by one outage do not all retry at once.
type RetryPolicy struct {
	Cap time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (p RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1)
	d := p.Cap
	if n < 40 { // n⁴ seconds stays far below the cap's overflow
		if e := time.Duration(n*n*n*n) * time.Second; e < d {
			d = e
		}
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return time.Now().UTC().Add(d + jitter)
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
