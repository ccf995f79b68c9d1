// Package reconcile detects what went wrong between Shopify, the hub and
// the warehouses, explains it and, where that is safe, repairs it.
//
// A reconciliation run per shop (the periodic River job "reconcile.run")
// runs checks; each check returns findings, each finding is a stored
// discrepancy (store.Discrepancy) with a kind, a severity, the entities
// involved, a message that explains it and a suggested fix. A finding seen
// again is touched (last_seen, count); a discrepancy of a kind the run
// checked that it no longer sees is closed with the run's time. Kinds:
//
//   - order.missing: an order in Shopify (updated within orders_lookback)
//     the hub does not know after order_grace. Auto-heal: the order is
//     recorded and order.route enqueued, as backfill does.
//   - order.not_dispatched: an order the hub knows but never routed.
//     Auto-heal: order.route enqueued.
//   - order.cancelled_in_shopify: an order cancelled in Shopify that a
//     warehouse still holds (transmitted, not shipped, not cancelled).
//   - shipment.unfulfilled: a shipment stored from the warehouse without
//     its Shopify fulfillment after shipment_grace. Auto-heal:
//     shipment.fulfil enqueued again.
//   - shipment.no_tracking: a shipment fulfilled in Shopify without any
//     tracking number.
//   - stock.mismatch: Shopify's available at a location differs from the
//     hub's target for longer than stock_grace; the message explains the
//     figure (warehouse snapshot, units in flight, last push) and the
//     unexplained rest. Auto-heal: a full stock.sync is enqueued (re-read
//     Shopify, re-push), except for levels flagged by the
//     manual_stock_edit policy.
//
// SLA timers (the shop's sla block; a timer not declared is not checked)
// are checks of the same run, so a breach has the same lifecycle:
//
//   - sla.ack: transmitted to the WMS, not acknowledged within ack_within;
//   - sla.fulfillment_request: fulfillment request not accepted within
//     fulfillment_request_answer_within;
//   - sla.tracking: shipped without tracking in Shopify after
//     tracking_within;
//   - sla.stock_refresh: a warehouse's stock not refreshed within
//     stock_refresh_within (stock_level snapshot times and the stock
//     engine's progress cursor). Auto-heal: stock.sync enqueued;
//   - sla.webhook_subscription: a webhook subscription of the hub missing
//     in Shopify (Shopify deletes subscriptions whose deliveries keep
//     failing), checked every webhook_check_interval (default 10m).
//     Auto-heal: the subscription is created again.
//
// The SLA timers live here rather than in a package of their own because
// they need exactly the run's machinery: the lease, the clock, the
// open/touch/close lifecycle scoped to the kinds a run checked.
//
// One run per shop at a time across instances: River inserts periodic jobs
// from the leader only, but a leader change or a slow run can still make
// two instances work the same shop, so a run first takes the lease
// "reconcile" of its shop (store.TryLease: a row updated by a conditional
// upsert, which behaves the same on SQLite and PostgreSQL). A run that
// finds the lease held by someone else does nothing; a crashed holder
// blocks the others only until its lease expires (LeaseTTL). A River
// unique job was not used: it would keep a job killed with its process
// "running" until River's rescuer frees it, and it does not stop a
// second leader's insert after a leader change.
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// Discrepancy kinds.
const (
	KindOrderMissing        = "order.missing"
	KindOrderNotDispatched  = "order.not_dispatched"
	KindOrderCancelled      = "order.cancelled_in_shopify"
	KindShipmentUnfulfilled = "shipment.unfulfilled"
	KindShipmentNoTracking  = "shipment.no_tracking"
	KindStockMismatch       = "stock.mismatch"
	KindSLAAck              = "sla.ack"
	KindSLARequest          = "sla.fulfillment_request"
	KindSLATracking         = "sla.tracking"
	KindSLAStockRefresh     = "sla.stock_refresh"
	KindSLAWebhook          = "sla.webhook_subscription"
)

// Kinds lists every discrepancy kind reconciliation records.
func Kinds() []string {
	return []string{KindOrderMissing, KindOrderNotDispatched, KindOrderCancelled, KindShipmentUnfulfilled, KindShipmentNoTracking,
		KindStockMismatch, KindSLAAck, KindSLARequest, KindSLATracking, KindSLAStockRefresh, KindSLAWebhook}
}

// Defaults of config.Reconcile.
const (
	// DefaultInterval and DefaultOrdersLookback keep the order listing
	// cheap in Shopify's cost points: a shop of 10,000 orders a day reads
	// ~25 pages of 100 orders every 5 minutes.
	DefaultInterval             = 5 * time.Minute
	DefaultOrdersLookback       = 6 * time.Hour
	DefaultGrace                = 2 * time.Minute
	DefaultWebhookCheckInterval = 10 * time.Minute
	// LeaseTTL bounds how long a crashed run keeps others from running.
	LeaseTTL = 5 * time.Minute
)

// LeaseName is the lease a run holds for its shop.
const LeaseName = "reconcile"

// Args is the periodic reconciliation job of a shop.
type Args struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "reconcile.run" }

// Worker works Args. Set its fields before the job client starts.
type Worker struct {
	river.WorkerDefaults[Args]
	Store   *store.Store
	Jobs    queue.InsertTx
	Tenants *tenant.Registry
	Logger  *slog.Logger
	// Config tunes the checks (zero fields take the defaults).
	Config config.Reconcile
	// WebhookURI is where the hub's webhook subscriptions point (public
	// URL + webhook path); "" skips the subscription check.
	WebhookURI string
	// Now is the clock (default time.Now); tests control time with it.
	Now func() time.Time
	// Holder names this instance in leases (default: random).
	Holder string
	// AfterRun, when set, is called after each run that took the lease
	// (the hub evaluates alerts there).
	AfterRun func(ctx context.Context, shop string, r Report)

	running queue.Exclusive
	once    sync.Once
	mu      sync.Mutex
	// webhooksChecked is when each shop's subscriptions were last listed.
	webhooksChecked map[string]time.Time
	// stockSince is when each stock mismatch (by key and figures) was
	// first noticed: it becomes a discrepancy after the stock grace.
	stockSince map[string]stockSuspect
}

// Report is what one run did.
type Report struct {
	Shop string `json:"shop"`
	At   time.Time
	// Skipped is true when another run held the lease.
	Skipped bool `json:"skipped,omitempty"`
	// Checked are the kinds the run checked (discrepancies of other kinds
	// were neither touched nor closed).
	Checked []string `json:"checked"`
	// Seen counts the findings, Opened those that were new, Closed the
	// discrepancies no longer seen, Healed the auto-heals performed.
	Seen   int   `json:"seen"`
	Opened int   `json:"opened"`
	Closed int64 `json:"closed"`
	Healed int   `json:"healed"`
	// Errors are the checks that failed (their kinds stay as they were).
	Errors []string `json:"errors,omitempty"`
}

// finding is one discrepancy seen by a check, with its auto-heal: heal
// runs in the transaction that records the finding and returns what it
// did ("" = nothing).
type finding struct {
	d    store.Discrepancy
	heal func(ctx context.Context, tx *store.Tx) (string, error)
}

// check is one family of checks: the kinds it covers and the findings.
// A check whose due returns false is not run (its kinds stay as they
// are).
type check struct {
	name  string
	kinds []string
	due   func(shop string, now time.Time) bool
	run   func(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error)
	done  func(shop string, now time.Time)
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Holder == "" {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			w.Holder = hex.EncodeToString(b)
		}
		w.webhooksChecked = map[string]time.Time{}
		w.stockSince = map[string]stockSuspect{}
	})
}

// Work runs one reconciliation of the shop.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	release, ok := w.running.TryAcquire(job.Args.Shop)
	if !ok {
		return nil // a run for this shop is already going on here
	}
	defer release()
	if _, ok := w.Tenants.Shop(job.Args.Shop); !ok {
		return connector.Permanent(fmt.Errorf("reconcile: unknown shop %s", job.Args.Shop))
	}
	// A failed check is not retried by River: the next periodic run is
	// the retry, and retries in between would only pile up.
	if _, err := w.Run(ctx, job.Args.Shop); err != nil {
		w.Logger.Warn("reconcile: run incomplete", "shop", job.Args.Shop, "err", err)
	}
	return nil
}

func dur(d config.Duration, def time.Duration) time.Duration { return d.Std(def) }

// Run reconciles one shop now: it takes the shop's lease, runs every check
// that is due, records what it found and closes what it no longer finds.
func (w *Worker) Run(ctx context.Context, shop string) (Report, error) {
	w.init()
	now := w.Now().UTC()
	rep := Report{Shop: shop, At: now}
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return rep, fmt.Errorf("reconcile: unknown shop %s", shop)
	}
	got, err := store.TryLease(ctx, w.Store.Write, shop, LeaseName, w.Holder, now, LeaseTTL)
	if err != nil {
		return rep, err
	}
	if !got {
		rep.Skipped = true
		return rep, nil
	}
	defer func() {
		if err := store.ReleaseLease(context.WithoutCancel(ctx), w.Store.Write, shop, LeaseName, w.Holder); err != nil {
			w.Logger.Warn("reconcile: release lease", "shop", shop, "err", err)
		}
	}()
	var errs []error
	for i, c := range w.checks(t) {
		if c.due != nil && !c.due(shop, now) {
			continue
		}
		if i > 0 { // a long run keeps its lease
			ok, err := store.TryLease(ctx, w.Store.Write, shop, LeaseName, w.Holder, w.Now(), LeaseTTL)
			if err == nil && !ok {
				err = errors.New("another instance holds it")
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("reconcile %s: lease lost before the %s check: %w", shop, c.name, err))
				break
			}
		}
		fs, err := c.run(ctx, t, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		if err := w.record(ctx, shop, c.kinds, fs, now, &rep); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		if c.done != nil {
			c.done(shop, now)
		}
		rep.Checked = append(rep.Checked, c.kinds...)
	}
	if rep.Opened > 0 || rep.Closed > 0 {
		w.Logger.Info("reconciled", "shop", shop, "seen", rep.Seen, "opened", rep.Opened, "closed", rep.Closed, "healed", rep.Healed)
	}
	if w.AfterRun != nil {
		w.AfterRun(ctx, shop, rep)
	}
	return rep, errors.Join(errs...)
}

// recordBatch is how many findings one transaction records.
const recordBatch = 200

// record stores a check's findings (running their auto-heals) and closes
// the discrepancies of its kinds that it did not see.
func (w *Worker) record(ctx context.Context, shop string, kinds []string, fs []finding, now time.Time, rep *Report) error {
	for start := 0; start < len(fs); start += recordBatch {
		batch := fs[start:min(start+recordBatch, len(fs))]
		var opened, healed int
		err := w.Store.InTx(ctx, func(tx *store.Tx) error {
			opened, healed = 0, 0
			for _, f := range batch {
				d := f.d
				d.Shop = shop
				if f.heal != nil {
					did, err := f.heal(ctx, tx)
					if err != nil {
						return fmt.Errorf("auto-heal %s: %w", d.Key, err)
					}
					if did != "" {
						d.AutoHeal = did
						healed++
					}
				}
				_, isNew, err := store.OpenOrTouchDiscrepancy(ctx, tx, d, now)
				if err != nil {
					return err
				}
				if isNew {
					opened++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Seen += len(batch)
		rep.Opened += opened
		rep.Healed += healed
	}
	n, err := store.CloseUnseenDiscrepancies(ctx, w.Store.Write, shop, kinds, now, now)
	if err != nil {
		return err
	}
	rep.Closed += n
	return nil
}
