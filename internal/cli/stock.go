package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

func init() {
	register("stock", "stock engine: stock sync (initial sync / full refresh), stock explain SKU", runStock)
}

// stockCommands are the subcommands of "crossdock stock".
var stockCommands = map[string]subcommand{
	"sync":    {"initial sync or full refresh of Shopify's stock from the warehouses, with progress; resumable", runStockSync},
	"explain": {"why a SKU's figure at a location is what it is: snapshot, movements, in-flight orders, buffer, ledger", runStockExplain},
}

func runStock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatchSubcommand(ctx, "stock", stockCommands, args, stdout, stderr)
}

// openForStock opens the configured store and tenants, and resolves each
// warehouse's Shopify location (registering fulfillment services as the hub
// does at start).
func openForStock(ctx context.Context, cfgPath string, stderr io.Writer) (*config.Config, *store.Store, *tenant.Registry, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, store.Dialect(cfg.Database.Driver), cfg.Database.DSN)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	log := logger(stderr, "warn")
	reg, err := tenant.New(cfg, tenant.Options{Logger: log})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	if err := hub.PrepareShops(ctx, st, reg, cfg.PublicURL, log); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return cfg, st, reg, nil
}

func runStockSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stock sync", "stock sync --config FILE [--shop S] [--full] [--json]", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML), required")
	shopFlag := fs.String("shop", "", "only this shop (default: every shop)")
	full := fs.Bool("full", false, "re-read every level from Shopify before computing (full refresh); without it, levels the hub already knows are compared with what it knows")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "stock sync: --config is required")
		fs.Usage()
		return errUsage
	}
	_, st, reg, err := openForStock(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	w := hub.StockWorker(st, reg, logger(stderr, "warn"))
	bar := progressBar(stderr)
	results := map[string]stock.Result{}
	var errs []error
	for _, t := range reg.Shops() {
		if *shopFlag != "" && t.Domain != *shopFlag {
			continue
		}
		// A sync that stopped (crash, Ctrl-C) is simply run again: levels
		// already written are in step and are skipped.
		if prev, err := store.Cursor(ctx, st.Read, t.Domain, stock.ProgressCursor); err == nil && prev != "" {
			var p stock.Progress
			if json.Unmarshal([]byte(prev), &p) == nil && !p.Finished {
				fmt.Fprintf(stderr, "%s: the previous sync stopped while %s (%d/%d); resuming\n", t.Domain, p.Phase, p.Done, p.Total)
			}
		}
		res, err := w.SyncWith(ctx, t.Domain, stock.Options{Full: *full, Progress: bar})
		results[t.Domain] = res
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Domain, err))
		}
	}
	if *shopFlag != "" && len(results) == 0 {
		return fmt.Errorf("no shop %q in the configuration", *shopFlag)
	}
	if bar != nil {
		fmt.Fprintln(stderr)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(results, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		for shop, r := range results {
			fmt.Fprintf(stdout, "%s: %d levels, %d changed, %d mutations, %d stale retries, %d reads, %d manual edits (%d flagged), %d settling\n",
				shop, r.Levels, r.Changed, r.Mutations, r.Stale, r.Reads, r.ManualEdits, r.Flagged, r.Deferred)
		}
	}
	return errors.Join(errs...)
}

// progressBar draws a sync's progress on w when w is a terminal.
func progressBar(w io.Writer) func(stock.Progress) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(p stock.Progress) {
		const width = 30
		filled := 0
		if p.Total > 0 {
			filled = min(width, p.Done*width/p.Total)
		}
		fmt.Fprintf(w, "\r\033[K%s %s [%s%s] %d/%d", p.Shop, p.Phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, p.Total)
	}
}

func runStockExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stock explain", "stock explain --config FILE --shop S --location GID --sku SKU", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML), required")
	shopFlag := fs.String("shop", "", "shop domain (default: the only shop)")
	loc := fs.String("location", "", "Shopify location GID (default: the first warehouse's)")
	sku := fs.String("sku", "", "SKU, required")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || *sku == "" {
		fmt.Fprintln(stderr, "stock explain: --config and --sku are required")
		fs.Usage()
		return errUsage
	}
	_, st, reg, err := openForStock(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	shops := reg.Shops()
	var t *tenant.Shop
	for _, s := range shops {
		if *shopFlag == "" || s.Domain == *shopFlag {
			t = s
			break
		}
	}
	if t == nil {
		return fmt.Errorf("no shop %q in the configuration", *shopFlag)
	}
	if *loc == "" && len(t.Warehouses) > 0 {
		*loc = t.Warehouses[0].LocationID
	}
	ex, err := stock.ExplainLevel(ctx, st, t, *loc, *sku)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(ex, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return nil
}
