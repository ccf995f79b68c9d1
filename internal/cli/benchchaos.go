package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/crossdock/crossdock/internal/chaos"
)

func runBenchChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := chaos.DefaultOptions()
	fs := newFlags("bench chaos", "bench chaos [--orders N] [--kill-every 15s] [--rate R] [--json]", stderr)
	orders := fs.Int("orders", d.Orders, "orders to create in the Shopify simulator")
	rate := fs.Float64("rate", d.Rate, "orders created per second (0: as fast as --concurrency allows)")
	conc := fs.Int("concurrency", d.Concurrency, "concurrent order creations")
	dup := fs.Float64("duplicate-rate", d.DuplicateRate, "fraction of webhooks delivered twice")
	reorder := fs.Float64("reorder-rate", d.ReorderRate, "fraction of webhooks delivered late, out of order")
	drop := fs.Float64("drop-rate", d.DropRate, "fraction of webhooks never delivered (backfill and reconciliation recover them)")
	shopErr := fs.Float64("shopify-error-rate", d.ShopifyErrorRate, "fraction of Shopify GraphQL calls that fail: half HTTP 429, half 503")
	killEvery := fs.Duration("kill-every", d.KillEvery, "SIGKILL the hub this long after each (re)start, and restart it at once")
	wmsEvery := fs.Duration("wms-outage-every", d.WMSOutageEvery, "mean time each warehouse stays up between outages (drawn in [2/3, 4/3]; 0: no outage)")
	wmsDown := fs.Duration("wms-outage", d.WMSOutage, "longest warehouse outage, every call answered 503 (drawn in [1/2, 1])")
	seed := fs.Uint64("seed", 0, "random seed of the simulators and outages (0: from the clock)")
	timeout := fs.Duration("timeout", d.Timeout, "limit of the whole run; the chaos phase gets at most half of what is left after creation")
	hubBin := fs.String("hub-binary", "", "crossdock binary run as the hub (default: this executable)")
	dbDir := fs.String("db-dir", "", "directory for the hub's configuration, SQLite file and log, kept (default: a temporary directory, kept only if the run failed)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *orders <= 0 || *killEvery <= 0 || *conc <= 0 {
		fmt.Fprintln(stderr, "bench chaos: --orders, --kill-every and --concurrency must be positive")
		return errUsage
	}
	opt := chaos.Options{Orders: *orders, Rate: *rate, Concurrency: *conc, DuplicateRate: *dup, ReorderRate: *reorder,
		DropRate: *drop, ShopifyErrorRate: *shopErr, KillEvery: *killEvery, WMSOutageEvery: *wmsEvery, WMSOutage: *wmsDown,
		Seed: *seed, Timeout: *timeout, HubBinary: *hubBin, DBDir: *dbDir, ProgressEvery: d.ProgressEvery}
	if !*quiet {
		opt.Progress = stderr
	}
	res, err := chaos.Run(ctx, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printChaos(stdout, res)
	}
	if !res.OK() {
		fmt.Fprintf(stderr, "bench chaos: FAILED: %s\n", strings.Join(res.Problems, "; "))
		if res.Dir != "" {
			fmt.Fprintf(stderr, "bench chaos: configuration, database and hub log kept in %s\n", res.Dir)
		}
		return exitCode(1)
	}
	return nil
}

func printChaos(w io.Writer, r *chaos.Result) {
	fmt.Fprintf(w, "chaos soak: %d orders, %d created, %d shipped, %d fulfilled in %.0f s (%.1f orders/s), settled: %v (under chaos: %v)\n",
		r.Orders, r.OrdersCreated, r.OrdersShipped, r.OrdersFulfilled, r.ElapsedSeconds, r.Throughput, r.Settled, r.SettledUnderChaos)
	fmt.Fprintf(w, "  lost %d, duplicated at warehouses %d, duplicated fulfillments %d, stock mismatches %d\n",
		r.Lost, r.DuplicatedAtWMS, r.DuplicatedFulfillments, r.StockMismatches)
	f := r.Faults
	fmt.Fprintf(w, "  hub SIGKILLed and restarted %d times (every %.0f s; %d exits on its own)\n", r.Restarts, f.KillEveryS, f.HubExits)
	fmt.Fprintf(w, "  webhooks: %d duplicated, %d reordered, %d dropped, %d abandoned by Shopify\n",
		f.WebhooksDuplicated, f.WebhooksReordered, f.WebhooksDropped, f.WebhooksFailed)
	fmt.Fprintf(w, "  Shopify: %d GraphQL requests, %d answered 429, %d answered 503, %d THROTTLED\n",
		f.ShopifyRequests, f.Shopify429, f.Shopify5xx, f.ShopifyThrottled)
	fmt.Fprintf(w, "  warehouses: %d outages, %.0f s down in all\n", f.WMSOutages, f.WMSDownS)
	fmt.Fprintf(w, "  phases: create %.0f s, settle under chaos %.0f s, final settle %.0f s\n",
		r.Phases.CreateS, r.Phases.ChaosSettleS, r.Phases.FinalSettleS)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, o := range r.LostOrders {
		fmt.Fprintf(w, "  lost: %s\n", o)
	}
}
