// Package hub wires crossdock together: the store, the tenants and their
// connectors, the job queue with every worker, the webhook endpoint, the
// warehouse feed pollers and the HTTP server. It owns the start and stop
// lifecycle; cmd/crossdock only parses flags and calls it.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/alert"
	"github.com/crossdock/crossdock/internal/amend"
	"github.com/crossdock/crossdock/internal/backfill"
	"github.com/crossdock/crossdock/internal/cancel"
	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/fulfil"
	"github.com/crossdock/crossdock/internal/ingest"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/reconcile"
	"github.com/crossdock/crossdock/internal/retention"
	"github.com/crossdock/crossdock/internal/returns"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/telemetry"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/web"
	"github.com/crossdock/crossdock/internal/wmsfeed"

	_ "github.com/crossdock/crossdock/internal/connector/all" // built-in connectors
)

// WebhookPath is where Shopify delivers webhooks.
const WebhookPath = "/webhooks/shopify"

// Options tune a hub beyond its configuration (tests and the demo).
type Options struct {
	Logger *slog.Logger
	// HTTPClient is used for Shopify and WMS calls.
	HTTPClient *http.Client
	// JobTimeout bounds one job attempt; a job left running by a killed
	// process is retried after twice this. Default 1m.
	JobTimeout time.Duration
}

// Hub is a running crossdock.
type Hub struct {
	Config  *config.Config
	Store   *store.Store
	Tenants *tenant.Registry
	Jobs    *queue.Client
	// JobLatency holds the jobs' queue wait and run time histograms.
	JobLatency *telemetry.JobLatency
	Ingest     *ingest.Handler
	Pollers    []*wmsfeed.Poller
	Stock      *stock.Worker
	// Reconcile and Alerts detect discrepancies and announce them
	// (detect.go); Alerts is nil without alert channels.
	Reconcile *reconcile.Worker
	Alerts    *alert.Notifier

	logger *slog.Logger
	server *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open opens the store, applies migrations, builds the tenants and the job
// client. It does not contact Shopify or the warehouses; Start does.
func Open(ctx context.Context, cfg *config.Config, opt Options) (*Hub, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	st, err := store.Open(ctx, store.Dialect(cfg.Database.Driver), cfg.Database.DSN)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	reg, err := tenant.New(cfg, tenant.Options{HTTPClient: opt.HTTPClient, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	h := &Hub{Config: cfg, Store: st, Tenants: reg, logger: log}

	workers := river.NewWorkers()
	var periodic []*river.PeriodicJob
	h.Stock = StockWorker(st, reg, log)
	river.AddWorker(workers, h.Stock)
	river.AddWorker(workers, &dispatch.Worker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &fulfil.Worker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &fulfil.ProgressWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &fulfil.CarrierWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &fulfil.TrackingWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &cancel.Worker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &cancel.OrderCancelledWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &returns.NotifyWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &returns.DisposeWorker{Store: st, Tenants: reg, Logger: log})
	river.AddWorker(workers, &retention.Worker{Store: st, Logger: log})
	periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return retention.Args{}, nil }, nil))
	for _, s := range reg.Shops() {
		shop := s.Domain
		// Periodic work is not unique: a job left running by a crashed
		// process must not block the next run. The workers skip a run while
		// another one for the shop is in progress in this process, and what
		// they write is guarded by compare-and-set in Shopify and
		// idempotent inserts in the store.
		periodic = append(periodic,
			river.NewPeriodicJob(river.PeriodicInterval(ingest.DrainPeriod),
				func() (river.JobArgs, *river.InsertOpts) { return ingest.DrainArgs{Shop: shop}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(s.Config.StockInterval.Std(30*time.Second)),
				func() (river.JobArgs, *river.InsertOpts) { return stock.SyncArgs{Shop: shop}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(s.Config.HeldRetryInterval.Std(dispatch.DefaultHeldRetryInterval)),
				func() (river.JobArgs, *river.InsertOpts) { return dispatch.RetryHeldArgs{Shop: shop}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(s.Config.BackfillInterval.Std(time.Minute)),
				func() (river.JobArgs, *river.InsertOpts) { return backfill.Args{Shop: shop}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		)
	}
	jobs, err := queue.NewClient(queue.Config{Store: st, Workers: workers, MaxWorkers: cfg.Workers, Periodic: periodic, Logger: log, JobTimeout: opt.JobTimeout})
	if err != nil {
		st.Close()
		return nil, err
	}
	h.Jobs = jobs
	h.JobLatency = telemetry.NewJobLatency()
	drain := &ingest.DrainWorker{Store: st, Jobs: jobs, Tenants: reg, Logger: log}
	river.AddWorker(workers, drain)
	river.AddWorker(workers, &amend.Worker{Store: st, Tenants: reg, Jobs: jobs, Logger: log})
	river.AddWorker(workers, &backfill.Worker{Store: st, Jobs: jobs, Tenants: reg, Logger: log})
	river.AddWorker(workers, &dispatch.RetryHeldWorker{Store: st, Jobs: jobs, Logger: log})
	if err := h.wireDetect(workers); err != nil {
		st.Close()
		return nil, err
	}

	h.Ingest = ingest.New(ingest.Config{
		Store: st, Inserter: jobs, MaxBody: cfg.WebhookMaxBody, Logger: log,
		Shops: func(domain string) (ingest.Shop, bool) {
			s, ok := reg.Shop(strings.ToLower(domain))
			if !ok {
				return ingest.Shop{}, false
			}
			return ingest.Shop{Domain: s.Domain, Secrets: s.Secrets}, true
		},
	})
	drain.Started = h.Ingest.DrainStarted
	for _, s := range reg.Shops() {
		for _, wh := range s.Warehouses {
			h.Pollers = append(h.Pollers, &wmsfeed.Poller{Store: st, Jobs: jobs, Shop: s.Domain, Warehouse: wh.ID, WMS: wh.WMS,
				Interval: wh.PollInterval, Logger: log.With("warehouse", wh.ID)})
		}
	}
	return h, nil
}

// Handler returns the hub's HTTP routes.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+WebhookPath, h.Ingest)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := h.Store.Read.PingContext(r.Context()); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", telemetry.Handler(telemetry.Sources{Store: h.Store, Ingest: h.Ingest, Tenants: h.Tenants, Pollers: h.Pollers, Logger: h.logger, Jobs: h.JobLatency}))
	web.Mount(mux, web.Deps{Store: h.Store, Config: h.Config, Jobs: h.Jobs, Tenants: h.Tenants, Connectors: web.Pollers(h.Store, h.Pollers, h.Tenants),
		Discrepancies: web.StoreDiscrepancies{Store: h.Store}})
	return mux
}

// Start prepares each shop in Shopify (fulfillment-service locations,
// webhook subscriptions), then starts the jobs, the pollers and the HTTP
// server on ln (or on Config.Listen when ln is nil).
func (h *Hub) Start(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", h.Config.Listen); err != nil {
			return fmt.Errorf("hub: listen: %w", err)
		}
	}
	h.ln = ln
	if _, err := AuditConfig(ctx, h.Store, h.Config); err != nil {
		ln.Close()
		return err
	}
	if err := h.prepareShops(ctx); err != nil {
		ln.Close()
		return err
	}
	if n, err := h.Store.RecoverOrphans(ctx); err != nil {
		ln.Close()
		return err
	} else if n > 0 {
		h.logger.Warn("resumed jobs left running by a previous process", "jobs", n)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	h.JobLatency.Observe(rctx, h.Jobs)
	if err := h.Jobs.Start(rctx); err != nil {
		cancel()
		ln.Close()
		return fmt.Errorf("hub: start jobs: %w", err)
	}
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.Ingest.Run(rctx) }()
	for _, p := range h.Pollers {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); p.Run(rctx) }()
	}
	h.server = &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := h.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.logger.Error("http server", "err", err)
		}
	}()
	h.logger.Info("crossdock started", "listen", ln.Addr().String(), "shops", len(h.Tenants.Shops()), "store", h.Store.Dialect)
	return nil
}

// Addr is the address the HTTP server listens on.
func (h *Hub) Addr() string { return h.ln.Addr().String() }

// prepareShops makes sure every warehouse has its Shopify location and the
// webhook subscriptions exist, retrying while Shopify is unreachable.
func (h *Hub) prepareShops(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := h.prepareOnce(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("hub: prepare shops: %w", err)
		}
		h.logger.Warn("preparing shops failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func (h *Hub) prepareOnce(ctx context.Context) error {
	return PrepareShops(ctx, h.Store, h.Tenants, h.Config.PublicURL, h.logger)
}

// PrepareShops does, once, what the hub does at start in Shopify: it
// registers a fulfillment service (and so a location) for every warehouse
// without a location, recording it in st so that it is registered only
// once, and creates the missing webhook subscriptions to publicURL +
// WebhookPath for shops that register their own. `crossdock readiness
// --fix` calls it too.
func PrepareShops(ctx context.Context, st *store.Store, tenants *tenant.Registry, publicURL string, log *slog.Logger) error {
	for _, s := range tenants.Shops() {
		for _, wh := range s.Warehouses {
			if wh.LocationID != "" {
				continue
			}
			loc, err := store.WarehouseLocation(ctx, st.Read, s.Domain, wh.ID)
			if err != nil {
				return err
			}
			if loc == "" {
				svc, l, err := s.Shopify.CreateFulfillmentService(ctx, wh.Name, "")
				if err != nil {
					return fmt.Errorf("shop %s: register fulfillment service for %s: %w", s.Domain, wh.ID, err)
				}
				if err := store.SetWarehouseLocation(ctx, st.Write, s.Domain, wh.ID, l, svc); err != nil {
					return err
				}
				log.Info("registered fulfillment service", "shop", s.Domain, "warehouse", wh.ID, "location", l)
				loc = l
			}
			wh.LocationID = loc
		}
		if s.Config.RegisterWebhooksEnabled() {
			uri := strings.TrimRight(publicURL, "/") + WebhookPath
			created, err := s.Shopify.EnsureWebhooks(ctx, uri, shopify.HubTopics())
			if err != nil {
				return fmt.Errorf("shop %s: webhook subscriptions: %w", s.Domain, err)
			}
			if len(created) > 0 {
				log.Info("created webhook subscriptions", "shop", s.Domain, "topics", created)
			}
		}
	}
	return nil
}

// Kill stops the hub abruptly, as a crash would: the HTTP server and its
// connections are closed, every job, poller and the inbox lose their
// context, and the store is closed under them without waiting for anything
// to finish or be recorded. Jobs left running are resumed by the next
// Start (store.RecoverOrphans). Scenario rehearsals use it; a process uses
// Stop.
func (h *Hub) Kill() {
	if h.server != nil {
		h.server.Close()
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.Store.Close()
}

// Stop stops the server, the pollers and the jobs, then closes the store.
func (h *Hub) Stop(ctx context.Context) error {
	var errs []error
	if h.server != nil {
		errs = append(errs, h.server.Shutdown(ctx))
	}
	if h.Jobs != nil && h.cancel != nil {
		errs = append(errs, h.Jobs.Stop(ctx))
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	errs = append(errs, h.Store.Close())
	return errors.Join(errs...)
}
