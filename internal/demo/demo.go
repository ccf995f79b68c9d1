package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/store"
)

// Options configure a demo run.
type Options struct {
	// Orders to create; 0 keeps creating orders until interrupted.
	Orders int
	// Rate is orders per second (0 = as fast as Concurrency allows when
	// Orders > 0; 2/s in the interactive demo).
	Rate        float64
	Concurrency int
	// ExitWhenDone waits for every order to settle and returns.
	ExitWhenDone bool
	Timeout      time.Duration
	// Listen is the hub's address (default 127.0.0.1:8080; use :0 for any).
	Listen string
	// DB is the SQLite file; "" uses a temporary directory.
	DB     string
	Sim    SimOptions
	Logger *slog.Logger
}

// ErrNotSettled is returned when the run ended with problems.
var ErrNotSettled = errors.New("demo: not everything settled")

// Run runs the demo. With ExitWhenDone it returns the summary once every
// order settled (or the timeout passed); otherwise it runs until ctx ends.
func Run(ctx context.Context, opt Options, stdout io.Writer) (Summary, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Listen == "" {
		opt.Listen = "127.0.0.1:8080"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Minute
	}
	sims, err := StartSims(opt.Sim)
	if err != nil {
		return Summary{}, err
	}
	defer sims.Close()

	db := opt.DB
	if db == "" {
		dir, err := os.MkdirTemp("", "crossdock-demo-")
		if err != nil {
			return Summary{}, err
		}
		defer os.RemoveAll(dir)
		db = filepath.Join(dir, "crossdock.db")
	}
	ln, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: listen on %s: %w", opt.Listen, err)
	}
	cfg := sims.HubConfig(ln.Addr().String(), db)
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: log})
	if err != nil {
		ln.Close()
		return Summary{}, err
	}
	if err := h.Start(ctx, ln); err != nil {
		h.Stop(context.Background())
		return Summary{}, err
	}
	sims.Discrepancies = func() (opened, open int, err error) {
		return store.DiscrepancyTotals(context.Background(), h.Store.Read, "")
	}
	sims.Timeline = func(orderID string) ([]store.Entry, error) {
		return store.Timeline(context.Background(), h.Store.Read, ShopDomain, orderID)
	}
	mctx, stopMix := context.WithCancel(ctx)
	defer stopMix()
	go sims.RunMix(mctx)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Stop(sctx)
	}()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = sims.WaitStockPublished(wctx)
	cancel()
	if err != nil {
		return Summary{}, err
	}

	if !opt.ExitWhenDone {
		var whs []string
		for _, w := range sims.Warehouses {
			whs = append(whs, w.ID+": "+w.Endpoint())
		}
		fmt.Fprintf(stdout, "crossdock demo: hub on http://%s  (Shopify simulator %s; warehouses %s)\n",
			h.Addr(), sims.ShopifyURL, strings.Join(whs, ", "))
		fmt.Fprintln(stdout, "creating orders through the simulated Shopify API; Ctrl-C to stop")
		rate := opt.Rate
		if rate <= 0 {
			rate = 2
		}
		_, err := sims.CreateOrders(ctx, opt.Orders, opt.Concurrency, rate)
		if opt.Orders > 0 && err == nil {
			<-ctx.Done()
		}
		sum := sims.Summarize(0)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return sum, err
	}

	tctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if _, err := sims.CreateOrders(tctx, opt.Orders, opt.Concurrency, opt.Rate); err != nil {
		log.Error("creating orders", "err", err)
	}
	sum := sims.WaitSettled(tctx, opt.Orders)
	if !sum.Settled {
		return sum, fmt.Errorf("%w: %v", ErrNotSettled, sum.Problems)
	}
	return sum, nil
}
