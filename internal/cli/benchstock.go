package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// benchStockResult is the JSON output of bench stock. levels, changed,
// mutations, min_mutations, elapsed_s, throttle_bound_s and
// throttled_responses are a contract.
type benchStockResult struct {
	SKUs      int     `json:"skus"`
	Locations int     `json:"locations"`
	Fraction  float64 `json:"changed_fraction"`
	// Levels are the SKU × location levels the full refresh considered;
	// Changed those whose figure differed from Shopify's.
	Levels  int `json:"levels"`
	Changed int `json:"changed"`
	// Mutations are inventorySetQuantities calls; MinMutations is
	// ceil(changed / 250).
	Mutations    int `json:"mutations"`
	MinMutations int `json:"min_mutations"`
	// ElapsedS is the full refresh, wall clock: warehouse snapshots, bulk
	// reads of Shopify, the formula, the pushes.
	ElapsedS float64 `json:"elapsed_s"`
	// ThrottleBoundS is the least time the simulator's throttle allows for
	// the points the refresh spent: (points charged − points available at
	// the start) / restore rate.
	ThrottleBoundS float64 `json:"throttle_bound_s"`
	// ThrottledResponses are THROTTLED answers during the refresh.
	ThrottledResponses int64 `json:"throttled_responses"`
	// MutationsRatio = mutations / min_mutations; ElapsedRatio =
	// elapsed_s / throttle_bound_s.
	MutationsRatio float64 `json:"mutations_ratio"`
	ElapsedRatio   float64 `json:"elapsed_ratio"`
	PointsCharged  int64   `json:"points_charged"`
	PointsAtStart  float64 `json:"points_available_at_start"`
	RestoreRate    float64 `json:"restore_rate"`
	BucketSize     float64 `json:"bucket_size"`
	StaleRetries   int     `json:"stale_retries"`
	Reads          int     `json:"reads"`
	// Mismatches are levels whose Shopify figure differs from the
	// formula's after the refresh (must be 0).
	Mismatches int `json:"mismatches"`
	// PrepS is the time until the first location's changes were known
	// (snapshots, bulk reads, the formula): pushing starts then.
	PrepS   float64 `json:"prep_s"`
	SeedS   float64 `json:"seed_s"`
	WarmupS float64 `json:"warmup_s"`
	// Burst: with --burst N, N stock events over the SKUs while the engine
	// runs, and the time from the last event until Shopify equals the
	// formula everywhere.
	BurstEvents  int     `json:"burst_events,omitempty"`
	BurstS       float64 `json:"burst_s,omitempty"`
	ConvergenceS float64 `json:"convergence_s,omitempty"`
	Syncs        int     `json:"syncs,omitempty"`
}

func runBenchStock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench stock", "bench stock [--skus N] [--locations L] [--changed F] [--burst E] [--json]", stderr)
	skus := fs.Int("skus", 10000, "SKUs in the catalogue")
	locs := fs.Int("locations", 2, "warehouses, each with its own Shopify location")
	frac := fs.Float64("changed", 0.05, "fraction of levels whose warehouse figure changes before the full refresh")
	burst := fs.Int("burst", 0, "instead of a full refresh: apply this many stock events across the SKUs while the engine runs, and measure the convergence")
	restore := fs.Float64("shopify-restore-rate", 100, "simulated Shopify restore rate, points/s (Standard plan: 100)")
	bucket := fs.Float64("shopify-bucket", 0, "simulated Shopify bucket size, points (0: the simulator's default)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *skus < 1 || *locs < 1 || *frac < 0 || *frac > 1 || *burst < 0 {
		fmt.Fprintln(stderr, "bench stock: --skus and --locations must be ≥ 1, --changed within 0..1, --burst ≥ 0")
		return errUsage
	}
	rng := rand.New(rand.NewPCG(*seed, 42))
	const shopDomain, token = "bench-stock.myshopify.com", "shpat_bench_stock"
	res := benchStockResult{SKUs: *skus, Locations: *locs, Fraction: *frac, RestoreRate: *restore}

	t0 := time.Now()
	sim := shopifysim.New(shopifysim.Config{ShopDomain: shopDomain, AccessToken: token, RestoreRate: *restore, BucketSize: *bucket})
	defer sim.Close()
	ss := httptest.NewServer(sim)
	defer ss.Close()
	client := shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: token})
	dir, err := os.MkdirTemp("", "crossdock-bench-stock-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The warehouses' truth, and Shopify seeded in step with it.
	names := make([]string, *skus)
	for i := range names {
		names[i] = fmt.Sprintf("BENCH-%06d", i)
	}
	truth := make([]map[string]int, *locs)
	var locIDs []string
	cfg := &config.Config{Shops: []config.Shop{{Domain: shopDomain, APIURL: ss.URL, AccessToken: token}}}
	var wmss []*wmssim.Server
	for l := range *locs {
		name := fmt.Sprintf("wh%d", l+1)
		_, loc, err := client.CreateFulfillmentService(ctx, "Bench "+name, "")
		if err != nil {
			return fmt.Errorf("bench stock: create location: %w", err)
		}
		locIDs = append(locIDs, loc)
		truth[l] = make(map[string]int, *skus)
		for _, sku := range names {
			truth[l][sku] = rng.IntN(50)
		}
		ws := wmssim.New(wmssim.Config{Name: name, Token: "wms-" + name, Stock: truth[l]})
		defer ws.Close()
		hs := httptest.NewServer(ws)
		defer hs.Close()
		wmss = append(wmss, ws)
		cfg.Shops[0].Warehouses = append(cfg.Shops[0].Warehouses, config.Warehouse{ID: name, Name: "Bench " + name, Rank: l + 1, LocationID: loc,
			Connector: config.Connector{Kind: "rest", Settings: map[string]any{"base_url": hs.URL, "token": "wms-" + name}}})
	}
	items := make([]shopifysim.InventorySeedItem, *skus)
	for i, sku := range names {
		items[i] = shopifysim.InventorySeedItem{SKU: sku, Available: make([]int, *locs)}
		for l := range *locs {
			items[i].Available[l] = truth[l][sku]
		}
	}
	if _, err := sim.SeedInventory(locIDs, items); err != nil {
		return err
	}
	st, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "hub.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		return err
	}
	ten, _ := reg.Shop(shopDomain)
	ten.Shopify = client
	w := hub.StockWorker(st, reg, slog.New(slog.DiscardHandler))
	res.SeedS = time.Since(t0).Seconds()

	// Warm-up (not measured): the hub learns the mapping and what Shopify
	// holds; everything is in step, nothing is written.
	t1 := time.Now()
	warm, err := w.SyncWith(ctx, shopDomain, stock.Options{Full: true})
	if err != nil {
		return fmt.Errorf("bench stock: warm-up: %w", err)
	}
	if warm.Changed != 0 {
		return fmt.Errorf("bench stock: warm-up found %d levels out of step, want 0", warm.Changed)
	}
	res.WarmupS = time.Since(t1).Seconds()

	if *burst > 0 {
		if err := benchStockBurst(ctx, w, client, sim, wmss, truth, locIDs, names, *burst, rng, &res, shopDomain); err != nil {
			return err
		}
	} else {
		// A fraction of every warehouse's figures change.
		for l, ws := range wmss {
			n := int(math.Round(*frac * float64(*skus)))
			changes := map[string]int{}
			for _, i := range rng.Perm(*skus)[:n] {
				sku := names[i]
				truth[l][sku] += 1 + rng.IntN(20)
				changes[sku] = truth[l][sku]
			}
			ws.SetStock(changes)
		}
		before := sim.Stats()
		res.PointsAtStart = client.ThrottleStatus().CurrentlyAvailable
		start := time.Now()
		var firstPush time.Time
		var pmu sync.Mutex
		r, err := w.SyncWith(ctx, shopDomain, stock.Options{Full: true, Progress: func(p stock.Progress) {
			pmu.Lock()
			if p.Phase == "pushing" && firstPush.IsZero() {
				firstPush = time.Now()
			}
			pmu.Unlock()
		}})
		res.ElapsedS = time.Since(start).Seconds()
		if !firstPush.IsZero() {
			res.PrepS = firstPush.Sub(start).Seconds()
		}
		if err != nil {
			return fmt.Errorf("bench stock: full refresh: %w", err)
		}
		after := sim.Stats()
		res.Levels, res.Changed, res.Mutations, res.StaleRetries, res.Reads = r.Levels, r.Changed, r.Mutations, r.Stale, r.Reads
		res.PointsCharged = after.PointsCharged - before.PointsCharged
		res.ThrottledResponses = after.Throttled - before.Throttled
	}
	res.BucketSize = *bucket
	if res.BucketSize <= 0 {
		res.BucketSize = shopifysim.DefaultBucketSize
	}
	res.MinMutations = (res.Changed + stock.MaxBatch - 1) / stock.MaxBatch
	if res.PointsAtStart == 0 {
		res.PointsAtStart = res.BucketSize
	}
	res.ThrottleBoundS = math.Max(0, (float64(res.PointsCharged)-res.PointsAtStart) / *restore)
	if res.MinMutations > 0 {
		res.MutationsRatio = float64(res.Mutations) / float64(res.MinMutations)
	}
	if res.ThrottleBoundS > 0 {
		res.ElapsedRatio = res.ElapsedS / res.ThrottleBoundS
	}
	res.Mismatches = len(benchStockMismatches(sim, truth, locIDs, names, nil))

	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(stdout, "%d levels, %d changed, %d mutations (min %d), %.1fs elapsed vs %.1fs throttle bound (×%.3f), %d throttled, %d mismatches\n",
			res.Levels, res.Changed, res.Mutations, res.MinMutations, res.ElapsedS, res.ThrottleBoundS, res.ElapsedRatio, res.ThrottledResponses, res.Mismatches)
		if res.BurstEvents > 0 {
			fmt.Fprintf(stdout, "burst of %d events in %.2fs; Shopify equal to the formula %.2fs after the last event (%d syncs)\n", res.BurstEvents, res.BurstS, res.ConvergenceS, res.Syncs)
		}
	}
	if res.Mismatches > 0 {
		return exitCode(1)
	}
	return nil
}

// benchStockBurst applies n stock events (a warehouse's figure for a random
// SKU changes) as fast as it can while the engine syncs in a loop, then
// measures how long after the last event Shopify equals the formula.
func benchStockBurst(ctx context.Context, w *stock.Worker, client *shopify.Client, sim *shopifysim.Server, wmss []*wmssim.Server, truth []map[string]int, locIDs, names []string, n int, rng *rand.Rand, res *benchStockResult, shop string) error {
	before := sim.Stats()
	res.PointsAtStart = client.ThrottleStatus().CurrentlyAvailable
	var mu sync.Mutex // guards truth
	var over atomic.Bool
	done := make(chan struct{})
	var syncErr error
	syncs := 0
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				syncErr = ctx.Err()
				return
			default:
			}
			if _, err := w.SyncWith(ctx, shop, stock.Options{}); err != nil {
				syncErr = err
				return
			}
			syncs++
			if over.Load() && len(benchStockMismatches(sim, truth, locIDs, names, &mu)) == 0 {
				return
			}
		}
	}()
	start := time.Now()
	for range n {
		l := rng.IntN(len(wmss))
		sku := names[rng.IntN(len(names))]
		v := rng.IntN(60)
		mu.Lock()
		truth[l][sku] = v
		mu.Unlock()
		wmss[l].SetStock(map[string]int{sku: v})
	}
	last := time.Now()
	over.Store(true)
	<-done
	if syncErr != nil {
		return fmt.Errorf("bench stock: burst: %w", syncErr)
	}
	after := sim.Stats()
	res.BurstEvents, res.BurstS, res.ConvergenceS, res.Syncs = n, last.Sub(start).Seconds(), time.Since(last).Seconds(), syncs
	res.PointsCharged = after.PointsCharged - before.PointsCharged
	res.ThrottledResponses = after.Throttled - before.Throttled
	return nil
}

// benchStockMismatches lists the levels where Shopify differs from the
// warehouse's figure (no buffer, no order: the formula is the figure).
func benchStockMismatches(sim *shopifysim.Server, truth []map[string]int, locIDs, names []string, mu *sync.Mutex) []string {
	if mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	var out []string
	for l, loc := range locIDs {
		for _, sku := range names {
			q, ok := sim.InventoryLevel(sku, loc)
			if !ok || q.Available != truth[l][sku] {
				out = append(out, fmt.Sprintf("%s at %s: Shopify %d, formula %d", sku, loc, q.Available, truth[l][sku]))
			}
		}
	}
	sort.Strings(out)
	return out
}
