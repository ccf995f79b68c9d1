package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/crossdock/crossdock/internal/catalog"
	"github.com/crossdock/crossdock/internal/connector/restwms"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// benchCommands are the benchmarks of "crossdock bench <name>". A new
// benchmark is one more entry: a summary and a run function that parses its
// own flags (newFlags with usage line "bench <name> …", so -h works).
var benchCommands = map[string]subcommand{
	"stock": {"a full stock refresh against the Shopify simulator at Standard-plan rates (or a burst of stock events): mutations and time against their lower bounds", runBenchStock},
	"audit": {"plant known defects in N simulated variants and item masters, run the catalogue audit, count what it finds", runBenchAudit},
	"chaos": {"the chaos soak: the hub as a separate process SIGKILLed every 15 s, duplicate/reordered/dropped webhooks, Shopify 429/5xx, warehouse outages; counts lost and duplicated orders in the simulators", runBenchChaos},
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatchSubcommand(ctx, "bench", benchCommands, args, stdout, stderr)
}

// benchAuditResult is the JSON output of bench audit (a contract: variants,
// planted, found, false_positives, elapsed_s).
type benchAuditResult struct {
	Variants       int                  `json:"variants"`
	DefectsPerKind int                  `json:"defects_per_kind"`
	Planted        map[catalog.Kind]int `json:"planted"`
	Found          map[catalog.Kind]int `json:"found"`
	FalsePositives int                  `json:"false_positives"`
	// ElapsedS is the audit through the real path: Shopify catalogue over
	// GraphQL, item masters over REST, mapping from the store, and Audit.
	ElapsedS float64 `json:"elapsed_s"`
	// ShopifyReadS and AuditS split it: reading the Shopify catalogue, and
	// the pure audit. SeedS is the (untimed) loading of the simulators.
	ShopifyReadS float64 `json:"shopify_read_s"`
	AuditS       float64 `json:"audit_s"`
	SeedS        float64 `json:"seed_s"`
	// ShopifyRequests and ShopifyThrottled count GraphQL requests and
	// THROTTLED answers seen by the simulator; the rate limit simulated is
	// ShopifyRestoreRate points/s with a ShopifyBucket-point bucket.
	ShopifyRequests  int64 `json:"shopify_requests"`
	ShopifyThrottled int64 `json:"shopify_throttled"`
	// ShopifyPoints is the actual query cost charged; ThrottleBoundS the
	// least time the rate limit allows for it: (points − bucket) / rate.
	ShopifyPoints      int64   `json:"shopify_points"`
	ThrottleBoundS     float64 `json:"throttle_bound_s"`
	ShopifyRestoreRate float64 `json:"shopify_restore_rate"`
	ShopifyBucket      float64 `json:"shopify_bucket"`
	Findings           int     `json:"findings"`
	// Bulk is true when the catalogue was read with a bulk operation.
	Bulk bool `json:"bulk"`
	// Missed and Unexpected detail a failed run.
	Missed     []catalog.Planted `json:"missed,omitempty"`
	Unexpected []catalog.Finding `json:"unexpected,omitempty"`
}

func runBenchAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench audit", "bench audit [--variants N] [--defects K | --clean] [--bulk] [--json]", stderr)
	n := fs.Int("variants", 10000, "number of Shopify variants (four per product)")
	defects := fs.Int("defects", -1, fmt.Sprintf("defects planted per kind (default max(1, variants/500); needs variants ≥ %d × defects)", catalog.PlantsPerRound))
	clean := fs.Bool("clean", false, "plant nothing: the audit must find nothing")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	seed := fs.Uint64("seed", 1, "random seed of the defects' positions")
	bulk := fs.Bool("bulk", false, "read the Shopify catalogue with one bulk operation instead of pages")
	restore := fs.Float64("shopify-restore-rate", 1000, "simulated Shopify restore rate, points/s (Plus: 1000, Standard: 100)")
	bucket := fs.Float64("shopify-bucket", 2000, "simulated Shopify bucket size, points")
	if err := parse(fs, args); err != nil {
		return err
	}
	k := *defects
	switch {
	case *clean:
		k = 0
	case k < 0:
		k = max(1, *n/500)
	}
	if *n <= 0 {
		fmt.Fprintln(stderr, "bench audit: --variants must be positive")
		return errUsage
	}
	synth, err := catalog.Synthesize(*n, k, *seed)
	if err != nil {
		fmt.Fprintf(stderr, "bench audit: %v\n", err)
		return errUsage
	}
	res, err := benchAudit(ctx, synth, *restore, *bucket, *bulk)
	if err != nil {
		return err
	}
	res.Variants, res.DefectsPerKind = *n, k
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d variants, %d defects planted per kind, audit in %.2f s (Shopify read %.2f s, %d requests, %d throttled; rules %.3f s)\n",
			res.Variants, k, res.ElapsedS, res.ShopifyReadS, res.ShopifyRequests, res.ShopifyThrottled, res.AuditS)
		for _, kind := range catalog.Kinds() {
			fmt.Fprintf(stdout, "  %-28s planted %4d  found %4d\n", kind, res.Planted[kind], res.Found[kind])
		}
		fmt.Fprintf(stdout, "  false positives: %d\n", res.FalsePositives)
	}
	if len(res.Missed) > 0 || res.FalsePositives > 0 {
		fmt.Fprintf(stderr, "bench audit: %d planted defects missed, %d false positives\n", len(res.Missed), res.FalsePositives)
		return exitCode(1)
	}
	return nil
}

// benchAudit loads synth into in-process simulators (Shopify, one WMS per
// warehouse) and a temporary SQLite store, runs the audit through the
// loader, and scores the findings.
func benchAudit(ctx context.Context, synth *catalog.Synth, restore, bucket float64, bulk bool) (*benchAuditResult, error) {
	const shopDomain, token, wmsToken = "bench.myshopify.com", "shpat_bench", "bench-wms"
	seedStart := time.Now()
	sim := shopifysim.New(shopifysim.Config{ShopDomain: shopDomain, AccessToken: token, RestoreRate: restore, BucketSize: bucket, Seed: 1})
	defer sim.Close()
	shopURL, stop, err := benchServe(sim)
	if err != nil {
		return nil, err
	}
	defer stop()
	products := make([]shopifysim.ProductInput, synth.Products)
	for p := range products {
		products[p].Title = fmt.Sprintf("Product %d", p)
	}
	for _, v := range synth.Variants {
		vi := shopifysim.VariantInput{SKU: v.SKU, Barcode: v.Barcode, Title: v.Title, Price: "10"}
		if !v.Tracked {
			vi.Tracked = new(bool)
		}
		products[v.Product].Variants = append(products[v.Product].Variants, vi)
	}
	ps, err := sim.AddProducts(products)
	if err != nil {
		return nil, fmt.Errorf("seed Shopify: %w", err)
	}
	var variantIDs, itemIDs []string
	for _, p := range ps {
		for _, v := range p.Variants {
			variantIDs = append(variantIDs, v.ID)
			itemIDs = append(itemIDs, v.InventoryItemID)
		}
	}
	if len(variantIDs) != len(synth.Variants) {
		return nil, fmt.Errorf("seed Shopify: %d variants created for %d", len(variantIDs), len(synth.Variants))
	}

	var whs []catalog.WarehouseSource
	for _, w := range synth.Warehouses {
		ws := wmssim.New(wmssim.Config{Name: w.ID, Token: wmsToken, Items: w.Items})
		u, stop, err := benchServe(ws)
		if err != nil {
			return nil, err
		}
		defer stop()
		c, err := restwms.New(restwms.Config{BaseURL: u, Token: wmsToken})
		if err != nil {
			return nil, err
		}
		whs = append(whs, catalog.WarehouseSource{ID: w.ID, WMS: c, ExpectsAll: w.ExpectsAll, Expected: w.Expected, OwnsStock: w.OwnsStock})
	}

	dir, err := os.MkdirTemp("", "crossdock-bench-audit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for _, m := range synth.Mapping {
			if err := store.UpsertSKUMapping(ctx, tx, store.SKUMapping{Shop: shopDomain, SKU: m.SKU,
				VariantID: variantIDs[m.Variant], InventoryItemID: itemIDs[m.Variant]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seed the mapping: %w", err)
	}
	res := &benchAuditResult{SeedS: time.Since(seedStart).Seconds(), ShopifyRestoreRate: restore, ShopifyBucket: bucket, Bulk: bulk}

	client := shopify.NewClient(shopify.ClientConfig{BaseURL: shopURL, AccessToken: token})
	var cat catalog.ShopifyCatalog = client
	if bulk {
		cat = catalog.BulkCatalog{Client: client, Poll: 100 * time.Millisecond}
	}
	var shopifyDone time.Time
	l := catalog.Loader{Shop: shopDomain, Shopify: cat, Warehouses: whs, Mapping: catalog.StoreMapping{Q: st.Read},
		Progress: func(p catalog.Progress) {
			if p.Step == "shopify" && p.Finished {
				shopifyDone = time.Now()
			}
		}}
	start := time.Now()
	in, err := l.Load(ctx)
	if err != nil {
		return nil, err
	}
	auditStart := time.Now()
	report := catalog.Audit(in)
	end := time.Now()
	res.ElapsedS = end.Sub(start).Seconds()
	res.ShopifyReadS = shopifyDone.Sub(start).Seconds()
	res.AuditS = end.Sub(auditStart).Seconds()
	if report.Incomplete {
		return nil, fmt.Errorf("audit incomplete: %v", report.Notes)
	}
	sc := catalog.Score(synth.Planted, report.Findings, variantIDs)
	stats := sim.Stats()
	res.Planted, res.Found, res.FalsePositives = sc.Planted, sc.Found, sc.FalsePositives
	res.Missed, res.Unexpected = sc.Missed, sc.Unexpected
	res.ShopifyRequests, res.ShopifyThrottled, res.ShopifyPoints = stats.Requests, stats.Throttled, stats.PointsCharged
	res.ThrottleBoundS = max(0, float64(stats.PointsCharged)-bucket) / restore
	res.Findings = len(report.Findings)
	return res, nil
}

// benchServe serves h on a free loopback port.
func benchServe(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns http.ErrServerClosed at stop
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
