package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
)

func init() {
	register("demo", "run the hub with a Shopify simulator and simulated warehouses (REST, CSV or EDI over SFTP)", runDemo)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [--orders N --warehouses rest,csv,edi --mix realistic --exit-when-done --json --drop-webhooks F]", stderr)
	orders := fs.Int("orders", 0, "orders to create (0: keep creating until interrupted)")
	exit := fs.Bool("exit-when-done", false, "run headless: wait until every order is shipped and fulfilled, print a summary and exit (0 only if everything settled)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	rate := fs.Float64("rate", 0, "orders per second (0: 2/s interactive, as fast as possible headless)")
	conc := fs.Int("concurrency", 16, "concurrent order creations")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up waiting after this long (headless)")
	listen := fs.String("listen", "127.0.0.1:8080", "hub address for the dashboard and webhooks (headless: any free port)")
	db := fs.String("db", "", "SQLite file (default: a temporary file)")
	dup := fs.Float64("duplicate-rate", 0.20, "fraction of webhooks the Shopify simulator delivers twice")
	reorder := fs.Float64("reorder-rate", 0.10, "fraction of webhooks delivered late, out of order")
	drop := fs.Float64("drop-webhooks", 0, "fraction of webhook deliveries the Shopify simulator drops (reconciliation and polling recover the orders)")
	fs.Float64Var(drop, "drop-rate", 0, "alias of --drop-webhooks")
	restore := fs.Float64("shopify-restore-rate", 20000, "simulated Shopify bucket restore rate, points/s (Standard plan: 100)")
	bucket := fs.Float64("shopify-bucket", 40000, "simulated Shopify bucket size, points")
	skus := fs.Int("skus", 40, "catalogue size")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock)")
	level := fs.String("log-level", "warn", "hub log level")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	mix := fs.String("mix", "", "order mix: realistic makes a share of orders split, backordered, cancelled before picking or after shipping started, held until stock arrives (default: random orders)")
	warehouses := fs.String("warehouses", "", "one simulated warehouse per protocol, in routing rank order, e.g. rest,csv,edi (csv and edi exchange files over a local SFTP server); default: two REST warehouses")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var whs []string
	if *warehouses != "" {
		var err error
		if whs, err = demo.ParseWarehouses(*warehouses); err != nil {
			fmt.Fprintln(stderr, err)
			return errUsage
		}
	}
	if _, err := demo.ParseMix(*mix); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	if *exit && *orders <= 0 {
		fmt.Fprintln(stderr, "demo: --exit-when-done needs --orders N")
		return errUsage
	}
	l := *listen
	if *exit && l == "127.0.0.1:8080" {
		l = "127.0.0.1:0"
	}
	sum, err := demo.Run(ctx, demo.Options{
		Orders: *orders, Rate: *rate, Concurrency: *conc, ExitWhenDone: *exit, Timeout: *timeout, Listen: l, DB: *db,
		Sim:    demo.SimOptions{SKUs: *skus, DuplicateRate: *dup, ReorderRate: *reorder, DropRate: *drop, RestoreRate: *restore, BucketSize: *bucket, Seed: *seed, WebhookRetryBase: 200 * time.Millisecond, Warehouses: whs, Mix: *mix},
		Logger: logger(stderr, *level),
	}, stdout)
	if *exit || *asJSON {
		if *asJSON {
			fmt.Fprintln(stdout, string(sum.JSON()))
		} else {
			fmt.Fprintf(stdout, "%d orders created, %d shipped, %d fulfilled (%d fulfillments, %d without tracking), %d duplicate WMS orders, %d duplicate fulfillments, %d stock mismatches, %d discrepancies opened (%d open), %.1f orders/s\n",
				sum.OrdersCreated, sum.OrdersShipped, sum.OrdersFulfilled, sum.ShopifyFulfillments, sum.FulfillmentsMissingTracking,
				sum.DuplicateWMSOrders, sum.DuplicateFulfillments, sum.StockMismatches, sum.DiscrepanciesOpened, sum.DiscrepanciesOpen, sum.OrdersPerS)
			if sum.Mix != "" {
				m := sum.MixCounts
				fmt.Fprintf(stdout, "mix %s: %d cancelled before pick, %d cancellations rejected after shipping started, %d partial shipments, %d multi-package shipments, %d split orders, %d holds released, %d backorders; invariants: %d shipped units without fulfillment, %d fulfilled units over ordered, %d cancelled units shipped without incident\n",
					sum.Mix, m.CancelledBeforePick, m.CancelRejectedAfterShip, m.PartialShipments, m.MultiPackageShipments, m.SplitOrders, m.HoldsReleased, m.Backorders,
					m.ShippedUnitsWithoutFulfillment, m.FulfilledUnitsOverOrdered, m.CancelledUnitsShippedWithoutIncident)
			}
		}
	}
	if err != nil && *exit {
		fmt.Fprintln(stderr, "demo:", err)
		return exitCode(1)
	}
	return err
}
