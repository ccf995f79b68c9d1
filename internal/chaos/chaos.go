// Package chaos runs the chaos soak behind "crossdock bench chaos": the hub
// as a separate process on an SQLite file, killed with SIGKILL at a fixed
// interval and restarted at once, against the demo's simulators with faults
// switched on (duplicate, reordered and dropped webhooks, Shopify GraphQL
// calls answered 429 or 5xx, warehouses down for seconds at random
// intervals). Once every order settled, or the chaos phase ran out of time,
// the faults and the kills stop and the run settles. The result is counted
// from the simulators' state, never from the hub's own word.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// Options configure a soak. Zero values take the defaults of
// DefaultOptions where noted.
type Options struct {
	// Orders is the number of orders created in Shopify.
	Orders int
	// Rate is orders created per second (0: as fast as Concurrency allows).
	Rate float64
	// Concurrency is the number of concurrent order creations.
	Concurrency int
	// DuplicateRate, ReorderRate and DropRate are the Shopify simulator's
	// webhook faults.
	DuplicateRate, ReorderRate, DropRate float64
	// ShopifyErrorRate is the share of GraphQL calls that fail: half with
	// HTTP 429 (throttled), half with 503.
	ShopifyErrorRate float64
	// KillEvery is the time between SIGKILLs of the hub (counted from
	// the moment the previous instance answered /healthz).
	KillEvery time.Duration
	// WMSOutageEvery is the mean time a warehouse stays up between two
	// outages (drawn uniformly in [2/3, 4/3] of it); 0 disables outages.
	WMSOutageEvery time.Duration
	// WMSOutage is the longest outage (drawn uniformly in [1/2, 1] of it):
	// every /v1 call of the warehouse answers 503 meanwhile.
	WMSOutage time.Duration
	// Seed seeds the simulators and the outages (0: from the clock).
	Seed uint64
	// Timeout bounds the whole run, creation included.
	Timeout time.Duration
	// HubBinary is the crossdock binary run as "serve" (default: the
	// running executable).
	HubBinary string
	// DBDir holds the configuration, the SQLite file and the hub's log
	// (default: a temporary directory, removed unless the run failed).
	DBDir string
	// Progress, when set, receives a status line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// DefaultOptions are the soak's defaults.
func DefaultOptions() Options {
	return Options{
		Orders: 10000, Rate: 20, Concurrency: 8,
		DuplicateRate: 0.30, ReorderRate: 0.10, DropRate: 0.05, ShopifyErrorRate: 0.05,
		KillEvery: 15 * time.Second, WMSOutageEvery: 30 * time.Second, WMSOutage: 6 * time.Second,
		Timeout: 40 * time.Minute, ProgressEvery: 10 * time.Second,
	}
}

// Faults are the faults a run injected: the rates asked for and what the
// simulators counted.
type Faults struct {
	DuplicateRate      float64 `json:"duplicate_rate"`
	ReorderRate        float64 `json:"reorder_rate"`
	DropRate           float64 `json:"drop_rate"`
	ShopifyErrorRate   float64 `json:"shopify_error_rate"`
	KillEveryS         float64 `json:"kill_every_s"`
	WebhooksDuplicated int64   `json:"webhooks_duplicated"`
	WebhooksReordered  int64   `json:"webhooks_reordered"`
	WebhooksDropped    int64   `json:"webhooks_dropped"`
	// WebhooksFailed are deliveries the simulator gave up after all
	// retries (the hub was down); SubscriptionsRemoved the subscriptions
	// it deleted for that.
	WebhooksFailed       int64 `json:"webhooks_failed"`
	SubscriptionsRemoved int64 `json:"subscriptions_removed"`
	// Shopify429 and Shopify5xx are injected HTTP failures of GraphQL
	// calls; ShopifyThrottled are THROTTLED answers of the cost limit.
	Shopify429       int64 `json:"shopify_429"`
	Shopify5xx       int64 `json:"shopify_5xx"`
	ShopifyRequests  int64 `json:"shopify_requests"`
	ShopifyThrottled int64 `json:"shopify_throttled"`
	// WMSOutages are warehouse outages; WMSDownS their total length.
	WMSOutages int     `json:"wms_outages"`
	WMSDownS   float64 `json:"wms_down_s"`
	// HubExits are hub processes that ended without being killed.
	HubExits int `json:"hub_exits"`
}

// Phases are the lengths of the run's phases, in seconds.
type Phases struct {
	// CreateS is order creation (faults and kills on).
	CreateS float64 `json:"create_s"`
	// ChaosSettleS is the wait for settling with faults and kills still on.
	ChaosSettleS float64 `json:"chaos_settle_s"`
	// FinalSettleS is the wait for settling with every fault off.
	FinalSettleS float64 `json:"final_settle_s"`
}

// Result is the outcome of a soak. orders, orders_created, orders_shipped,
// orders_fulfilled, lost, duplicated_at_wms, duplicated_fulfillments,
// stock_mismatches, restarts and elapsed_seconds are a contract.
type Result struct {
	Orders          int `json:"orders"`
	OrdersCreated   int `json:"orders_created"`
	OrdersShipped   int `json:"orders_shipped"`
	OrdersFulfilled int `json:"orders_fulfilled"`
	// Lost are orders created in Shopify that never reached a warehouse
	// or were never fulfilled.
	Lost                   int `json:"lost"`
	DuplicatedAtWMS        int `json:"duplicated_at_wms"`
	DuplicatedFulfillments int `json:"duplicated_fulfillments"`
	StockMismatches        int `json:"stock_mismatches"`
	// Restarts are SIGKILLs followed by a restart (and restarts after a
	// hub exit nobody asked for, also counted in Faults.HubExits).
	Restarts       int     `json:"restarts"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// Throughput is orders fulfilled per second over the whole run.
	Throughput float64 `json:"throughput"`
	// Settled: every order shipped and fulfilled once, with tracking, and
	// Shopify's stock equals the formula; SettledUnderChaos: this was
	// already true before the faults were switched off.
	Settled                     bool     `json:"settled"`
	SettledUnderChaos           bool     `json:"settled_under_chaos"`
	FulfillmentsMissingTracking int      `json:"fulfillments_missing_tracking"`
	Faults                      Faults   `json:"faults"`
	Phases                      Phases   `json:"phases"`
	Seed                        uint64   `json:"seed"`
	LostOrders                  []string `json:"lost_orders,omitempty"`
	StockMismatchDetails        []string `json:"stock_mismatch_details,omitempty"`
	Problems                    []string `json:"problems,omitempty"`
	// Dir is the directory with the configuration, the database and the
	// hub's log, when it was kept.
	Dir string `json:"dir,omitempty"`
}

// OK reports whether the run settled with nothing lost, duplicated or
// mismatched.
func (r *Result) OK() bool {
	return r.Settled && r.Lost == 0 && r.DuplicatedAtWMS == 0 && r.DuplicatedFulfillments == 0 &&
		r.StockMismatches == 0 && len(r.Problems) == 0
}

// Run runs a soak. It returns an error only when the soak could not run
// (simulators, hub binary, configuration); a soak that ran but found
// problems returns a Result whose OK is false.
func Run(ctx context.Context, opt Options) (*Result, error) {
	if opt.Orders <= 0 {
		return nil, errors.New("chaos: orders must be positive")
	}
	if opt.KillEvery <= 0 {
		return nil, errors.New("chaos: kill interval must be positive")
	}
	for name, v := range map[string]float64{"duplicate rate": opt.DuplicateRate, "reorder rate": opt.ReorderRate,
		"drop rate": opt.DropRate, "shopify error rate": opt.ShopifyErrorRate} {
		if v < 0 || v > 1 || v != v {
			return nil, fmt.Errorf("chaos: %s must be between 0 and 1, got %v", name, v)
		}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultOptions().Timeout
	}
	if opt.Seed == 0 {
		opt.Seed = uint64(time.Now().UnixNano())
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 10 * time.Second
	}
	if opt.HubBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("chaos: find the hub binary: %w", err)
		}
		opt.HubBinary = exe
	}
	start := time.Now()
	res := &Result{Orders: opt.Orders, Seed: opt.Seed}
	res.Faults = Faults{DuplicateRate: opt.DuplicateRate, ReorderRate: opt.ReorderRate, DropRate: opt.DropRate,
		ShopifyErrorRate: opt.ShopifyErrorRate, KillEveryS: opt.KillEvery.Seconds()}

	sims, err := demo.StartSims(demo.SimOptions{DuplicateRate: opt.DuplicateRate, ReorderRate: opt.ReorderRate,
		DropRate: opt.DropRate, RestoreRate: 20000, BucketSize: 40000, Seed: opt.Seed,
		WebhookRetryBase: 200 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("chaos: start the simulators: %w", err)
	}
	defer sims.Close()
	dir, keep := opt.DBDir, opt.DBDir != ""
	if dir == "" {
		d, err := os.MkdirTemp("", "crossdock-chaos-")
		if err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}

	faults := shopifysim.Faults{HTTP429Rate: opt.ShopifyErrorRate / 2, HTTP5xxRate: opt.ShopifyErrorRate / 2,
		WebhookDuplicateRate: opt.DuplicateRate, WebhookReorderRate: opt.ReorderRate, WebhookDropRate: opt.DropRate}

	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	cfg := sims.HubConfig(addr, filepath.Join(dir, "crossdock.db"))
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("chaos: hub configuration: %w", err)
	}
	cfgPath := filepath.Join(dir, "crossdock.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	logf, err := os.Create(filepath.Join(dir, "hub.log"))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer logf.Close()

	sup := &supervisor{bin: opt.HubBinary, cfgPath: cfgPath, addr: addr, log: logf}
	if err := sup.start(ctx); err != nil {
		return nil, fmt.Errorf("chaos: %w (log in %s)", err, dir)
	}
	defer sup.stop()

	tctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	// The first stock sync runs without faults, so that the first orders
	// are routed on real figures; then the chaos starts.
	if err := sims.WaitStockPublished(tctx); err != nil {
		return nil, fmt.Errorf("chaos: %w (log in %s)", err, dir)
	}
	if err := sims.Shopify.SetFaults(faults); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}

	chaosCtx, stopChaos := context.WithCancel(tctx)
	defer stopChaos()
	var wg sync.WaitGroup
	var killErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		killErr = sup.killLoop(chaosCtx, opt.KillEvery)
	}()
	out := &outages{}
	if opt.WMSOutageEvery > 0 && opt.WMSOutage > 0 {
		for i, w := range sims.Warehouses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out.run(chaosCtx, w.Sim, opt.WMSOutageEvery, opt.WMSOutage, rand.New(rand.NewPCG(opt.Seed, uint64(i)+100)))
			}()
		}
	}
	phase := "create"
	var phaseMu sync.Mutex
	progressDone, stopProgress := make(chan struct{}), make(chan struct{})
	if opt.Progress != nil {
		go func() {
			defer close(progressDone)
			t := time.NewTicker(opt.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-tctx.Done():
					return
				case <-stopProgress:
					return
				case <-t.C:
					phaseMu.Lock()
					p := phase
					phaseMu.Unlock()
					fmt.Fprintln(opt.Progress, progressLine(time.Since(start), p, sims, opt.Orders, sup.restartCount()))
				}
			}
		}()
	} else {
		close(progressDone)
	}
	setPhase := func(p string) {
		phaseMu.Lock()
		phase = p
		phaseMu.Unlock()
	}

	if _, err := sims.CreateOrders(tctx, opt.Orders, opt.Concurrency, opt.Rate); err != nil {
		res.Problems = append(res.Problems, "creating orders: "+err.Error())
	}
	created := time.Now()
	res.Phases.CreateS = created.Sub(start).Seconds()

	// Settle under chaos, for at most half the time left.
	setPhase("chaos-settle")
	if dl, ok := tctx.Deadline(); ok {
		half := time.Until(dl) / 2
		sctx, scancel := context.WithTimeout(tctx, half)
		sum := sims.WaitSettled(sctx, opt.Orders)
		scancel()
		res.SettledUnderChaos = sum.Settled
	}
	stopChaos()
	wg.Wait()
	calm := time.Now()
	res.Phases.ChaosSettleS = calm.Sub(created).Seconds()
	if killErr != nil {
		res.Problems = append(res.Problems, killErr.Error())
	}

	// Every fault off: the run must settle by itself.
	setPhase("final-settle")
	if err := sims.Shopify.SetFaults(shopifysim.Faults{}); err != nil {
		res.Problems = append(res.Problems, "switching faults off: "+err.Error())
	}
	for _, w := range sims.Warehouses {
		w.Sim.SetDown(false)
	}
	if err := sup.ensureUp(ctx); err != nil {
		res.Problems = append(res.Problems, err.Error())
	}
	sum := sims.WaitSettled(tctx, opt.Orders)
	res.Phases.FinalSettleS = time.Since(calm).Seconds()
	close(stopProgress)
	<-progressDone

	res.ElapsedSeconds = time.Since(start).Seconds()
	res.OrdersCreated, res.OrdersShipped, res.OrdersFulfilled = sum.OrdersCreated, sum.OrdersShipped, sum.OrdersFulfilled
	res.DuplicatedAtWMS, res.DuplicatedFulfillments = sum.DuplicateWMSOrders, sum.DuplicateFulfillments
	res.StockMismatches, res.StockMismatchDetails = sum.StockMismatches, sum.StockMismatchDetails
	res.FulfillmentsMissingTracking = sum.FulfillmentsMissingTracking
	res.Settled = sum.Settled
	lost := LostOrders(sims)
	res.Lost = len(lost)
	if len(lost) > 20 {
		lost = lost[:20]
	}
	res.LostOrders = lost
	if res.ElapsedSeconds > 0 {
		res.Throughput = float64(res.OrdersFulfilled) / res.ElapsedSeconds
	}
	res.Restarts = sup.restartCount()
	st := sims.Shopify.Stats()
	res.Faults.WebhooksDuplicated, res.Faults.WebhooksReordered, res.Faults.WebhooksDropped = st.WebhooksDuplicated, st.WebhooksDelayed, st.WebhooksDropped
	res.Faults.WebhooksFailed, res.Faults.SubscriptionsRemoved = st.WebhooksFailed, st.SubscriptionsRemoved
	res.Faults.Shopify429, res.Faults.Shopify5xx, res.Faults.ShopifyRequests, res.Faults.ShopifyThrottled = st.Injected429, st.Injected5xx, st.Requests, st.Throttled
	res.Faults.WMSOutages, res.Faults.WMSDownS = out.totals()
	res.Faults.HubExits = sup.exitCount()
	res.Problems = append(res.Problems, sum.Problems...)
	sup.stop()
	logf.Close()
	if keep || !res.OK() {
		res.Dir = dir
	} else {
		os.RemoveAll(dir)
	}
	return res, nil
}

// LostOrders lists the Shopify orders (not cancelled) that no warehouse
// holds, or that are not fulfilled, counted from the simulators.
func LostOrders(sims *demo.Sims) []string {
	atWMS := map[string]bool{}
	for _, w := range sims.Warehouses {
		for _, o := range w.Sim.Orders() {
			if o.State != wmssim.StateCancelled {
				atWMS[o.OrderID] = true
			}
		}
	}
	var lost []string
	for _, o := range sims.Shopify.Orders() {
		if o.CancelledAt != nil {
			continue
		}
		switch {
		case !atWMS[o.ID]:
			lost = append(lost, o.ID+" (never reached a warehouse)")
		case o.DisplayFulfillmentStatus != "FULFILLED":
			lost = append(lost, o.ID+" (not fulfilled: "+o.DisplayFulfillmentStatus+")")
		}
	}
	sort.Strings(lost)
	return lost
}

func progressLine(elapsed time.Duration, phase string, sims *demo.Sims, orders, restarts int) string {
	sum := sims.Summarize(orders)
	atWMS := 0
	for _, w := range sum.PerWarehouse {
		atWMS += w.Orders
	}
	st := sims.Shopify.Stats()
	var down []string
	for _, w := range sims.Warehouses {
		if w.Sim.Faults().Down {
			down = append(down, w.ID)
		}
	}
	line := fmt.Sprintf("chaos %5.0fs %-12s created %d, at warehouses %d, shipped %d, fulfilled %d; restarts %d; shopify 429/5xx %d/%d",
		elapsed.Seconds(), phase, sum.OrdersCreated, atWMS, sum.OrdersShipped, sum.OrdersFulfilled, restarts, st.Injected429, st.Injected5xx)
	if len(down) > 0 {
		line += "; down: " + strings.Join(down, ",")
	}
	return line
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// supervisor runs the hub process, kills and restarts it.
type supervisor struct {
	bin, cfgPath, addr string
	log                io.Writer

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd exited
	waitErr  error
	restarts int
	exits    int
}

// start starts a hub process and waits until it answers /healthz.
func (s *supervisor) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, "serve", "--config", s.cfgPath, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the hub (%s): %w", s.bin, err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("the hub exited while starting: %v", s.exitErr())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("the hub did not answer /healthz within 60 s")
}

func (s *supervisor) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waitErr
}

func (s *supervisor) restartCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

func (s *supervisor) exitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exits
}

// kill sends SIGKILL to the hub and waits for it to be gone.
func (s *supervisor) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// killLoop kills the hub every interval and restarts it at once, and
// restarts it when it exits by itself, until ctx ends.
func (s *supervisor) killLoop(ctx context.Context, every time.Duration) error {
	for {
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			s.mu.Lock()
			s.exits++
			s.mu.Unlock()
		case <-time.After(every):
			s.kill()
		}
		if err := s.start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("restarting the hub: %w", err)
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
	}
}

// ensureUp restarts the hub if it is not running.
func (s *supervisor) ensureUp(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	select {
	case <-done:
		s.mu.Lock()
		s.exits++
		s.mu.Unlock()
		if err := s.start(ctx); err != nil {
			return fmt.Errorf("restarting the hub for the final settle: %w", err)
		}
	default:
	}
	return nil
}

// stop ends the hub: SIGTERM, then SIGKILL after 15 s.
func (s *supervisor) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.kill()
	}
}

// outages takes warehouses down and up again.
type outages struct {
	mu    sync.Mutex
	n     int
	total time.Duration
}

func (o *outages) run(ctx context.Context, w *wmssim.Server, every, longest time.Duration, rng *rand.Rand) {
	for {
		up := every*2/3 + time.Duration(rng.Int64N(int64(every*2/3)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(up):
		}
		down := longest/2 + time.Duration(rng.Int64N(int64(longest/2)+1))
		w.SetDown(true)
		began := time.Now()
		select {
		case <-ctx.Done():
		case <-time.After(down):
		}
		w.SetDown(false)
		o.mu.Lock()
		o.n++
		o.total += time.Since(began)
		o.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

func (o *outages) totals() (int, float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, o.total.Seconds()
}
