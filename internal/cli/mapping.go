package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/store"
)

func init() {
	register("mapping", "mapping tables (SKU ↔ Shopify ↔ WMS item): list, history, set, delete, diff, revert, import, export", runMapping)
}

type mappingCmd struct {
	summary, usage string
	change         bool // needs --actor and --reason
	flags          func(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error
}

// mappingEnv is what a mapping subcommand runs with.
type mappingEnv struct {
	tab    *mapping.Table
	shop   string
	author mapping.Author
	json   bool
	stdout io.Writer
	stdin  io.Reader
}

var mappingCmds = map[string]mappingCmd{
	"list":    {"the mappings in force at a time", "mapping list [db flags] [--at TIME] [--json]", false, mappingList},
	"history": {"the versions: who, when, why, old → new", "mapping history [db flags] [--warehouse W] [--sku S] [--limit N] [--json]", false, mappingHistory},
	"set":     {"set a mapping (a new version)", "mapping set [db flags] --sku S [--warehouse W] [--item-code C] [--uom U] [--pack-size N] [--variant-id GID] [--inventory-item-id GID] [--effective-from TIME] --reason WHY [--actor WHO]", true, mappingSet},
	"delete":  {"end a mapping from a time (a new version)", "mapping delete [db flags] --sku S [--warehouse W] [--effective-from TIME] --reason WHY [--actor WHO]", true, mappingDelete},
	"diff":    {"compare two versions or times", "mapping diff [db flags] --from POINT [--to POINT] [--json]   (POINT: VERSION, TIME, or VERSION@TIME; empty = latest, now)", false, mappingDiff},
	"revert":  {"restore an earlier version (a new version)", "mapping revert [db flags] --to VERSION --reason WHY [--actor WHO]", true, mappingRevert},
	"import":  {"apply a mapping CSV as one version (a bad row applies nothing)", "mapping import [db flags] --file FILE|- --reason WHY [--actor WHO]", true, mappingImport},
	"export":  {"write the mappings in force as CSV", "mapping export [db flags] [--at TIME] [--file FILE]", false, mappingExport},
}

func mappingUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: crossdock mapping <list|history|set|delete|diff|revert|import|export> [flags]")
	fmt.Fprintln(w, "\nThe database is the one of --config FILE, or --db DSN with --driver sqlite|postgres.")
	fmt.Fprintln(w, "--shop is required unless the configuration has one shop. Changes need --reason; --actor defaults to $USER.")
	fmt.Fprintln(w, "Times are RFC 3339 (2026-11-27T09:00:00Z). CSV columns: "+strings.Join(mapping.CSVHeader, ","))
	fmt.Fprintln(w, "\nSubcommands:")
	names := make([]string, 0, len(mappingCmds))
	for n := range mappingCmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, mappingCmds[n].summary)
	}
}

func runMapping(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mappingUsage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	name := args[0]
	sub, ok := mappingCmds[name]
	if !ok {
		fmt.Fprintf(stderr, "mapping: unknown subcommand %q\n\n", name)
		mappingUsage(stderr)
		return errUsage
	}
	fs := newFlags("mapping "+name, sub.usage, stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML): its database and shops")
	dsn := fs.String("db", "", "database DSN instead of --config (a file path for sqlite)")
	driver := fs.String("driver", "sqlite", "database driver with --db: sqlite or postgres")
	shop := fs.String("shop", "", "shop domain (default: the configuration's only shop)")
	var actor, reason *string
	if sub.change {
		actor = fs.String("actor", os.Getenv("USER"), "who makes the change (default $USER)")
		reason = fs.String("reason", "", "why, required")
	}
	asJSON := fs.Bool("json", false, "print JSON")
	run := sub.flags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	fail := func(msg string) error {
		fmt.Fprintf(stderr, "mapping %s: %s\n", name, msg)
		fs.Usage()
		return errUsage
	}
	var db config.Database
	switch {
	case *cfgPath != "" && *dsn != "":
		return fail("give --config or --db, not both")
	case *cfgPath != "":
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		db = cfg.Database
		if *shop == "" && len(cfg.Shops) == 1 {
			*shop = cfg.Shops[0].Domain
		}
		if wh := fs.Lookup("warehouse"); wh != nil && wh.Value.String() != "" && sub.change && !configHasWarehouse(cfg, *shop, wh.Value.String()) {
			return fail(fmt.Sprintf("warehouse %s is not configured for shop %s", wh.Value.String(), *shop))
		}
	case *dsn != "":
		db = config.Database{Driver: *driver, DSN: *dsn}
	default:
		return fail("--config or --db is required")
	}
	if *shop == "" {
		return fail("--shop is required")
	}
	env := &mappingEnv{shop: *shop, json: *asJSON, stdout: stdout, stdin: os.Stdin}
	if sub.change {
		env.author = mapping.Author{Actor: strings.TrimSpace(*actor), Reason: strings.TrimSpace(*reason)}
		if env.author.Reason == "" {
			return fail("--reason is required for a change")
		}
		if env.author.Actor == "" {
			return fail("--actor is required for a change ($USER is not set)")
		}
	}
	st, err := store.Open(ctx, store.Dialect(db.Driver), db.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	env.tab = mapping.New(st)
	return run(ctx, env)
}

func configHasWarehouse(cfg *config.Config, shop, warehouse string) bool {
	for _, s := range cfg.Shops {
		if !strings.EqualFold(s.Domain, shop) {
			continue
		}
		for _, wh := range s.Warehouses {
			if wh.ID == warehouse {
				return true
			}
		}
	}
	return false
}

// parseMappingTime reads an RFC 3339 time flag; "" is the zero time.
func parseMappingTime(flagName, s string) (time.Time, error) {
	t, err := mapping.ParseTime(s)
	if err != nil {
		return t, fmt.Errorf("--%s: %w", flagName, err)
	}
	return t, nil
}

// parseMappingPoint reads VERSION, TIME or VERSION@TIME.
func parseMappingPoint(flagName, s string) (mapping.Point, error) {
	p, err := mapping.ParsePoint(s)
	if err != nil {
		return p, fmt.Errorf("--%s: %w", flagName, err)
	}
	return p, nil
}

func (m *mappingEnv) print(v any, text func(w io.Writer)) error {
	if m.json {
		enc := json.NewEncoder(m.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(m.stdout, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func mappingWH(w string) string {
	if w == "" {
		return "*"
	}
	return w
}

func mappingDescribe(m *mapping.Mapping) string {
	if m == nil {
		return "(none)"
	}
	code := m.ItemCode
	if code == "" {
		code = m.SKU
	}
	s := fmt.Sprintf("%s ×%d", code, m.PackSize)
	if m.UOM != "" {
		s += " " + m.UOM
	}
	return s
}

func mappingList(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	at := fs.String("at", "", "time the mappings are in force at (default now)")
	return func(ctx context.Context, m *mappingEnv) error {
		t, err := parseMappingTime("at", *at)
		if err != nil {
			return err
		}
		ms, err := m.tab.List(ctx, m.shop, t)
		if err != nil {
			return err
		}
		return m.print(map[string]any{"mappings": ms}, func(w io.Writer) {
			fmt.Fprintln(w, "WAREHOUSE\tSKU\tITEM\tUOM\tPACK\tVARIANT\tINVENTORY ITEM\tFROM\tVERSION")
			for _, x := range ms {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\n", mappingWH(x.Warehouse), x.SKU, x.ItemCode, x.UOM, x.PackSize,
					x.VariantID, x.InventoryItemID, x.EffectiveFrom.Format(time.RFC3339), x.Version)
			}
		})
	}
}

func mappingHistory(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	var f mapping.Filter
	fs.StringVar(&f.Warehouse, "warehouse", "", "only this warehouse's entries")
	fs.StringVar(&f.SKU, "sku", "", "only this SKU's entries")
	fs.IntVar(&f.Limit, "limit", 0, "newest versions only (0 = all)")
	return func(ctx context.Context, m *mappingEnv) error {
		vs, err := m.tab.History(ctx, m.shop, f)
		if err != nil {
			return err
		}
		return m.print(map[string]any{"versions": vs}, func(w io.Writer) {
			for _, v := range vs {
				op := v.Op
				if v.RevertedTo > 0 {
					op = fmt.Sprintf("revert to v%d", v.RevertedTo)
				}
				fmt.Fprintf(w, "v%d\t%s\t%s\t%s\t%s\n", v.ID, v.At.UTC().Format(time.RFC3339), v.Actor, op, v.Reason)
				for _, c := range v.Changes {
					fmt.Fprintf(w, "\t%s/%s\tfrom %s\t%s\t%s → %s\n", mappingWH(c.Warehouse), c.SKU, c.EffectiveFrom.UTC().Format(time.RFC3339), c.Kind, mappingDescribe(c.Old), mappingDescribe(c.New))
				}
			}
		})
	}
}

func mappingSet(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	var x mapping.Mapping
	fs.StringVar(&x.Warehouse, "warehouse", "", "warehouse id (empty: every warehouse without its own mapping)")
	fs.StringVar(&x.SKU, "sku", "", "crossdock SKU, required")
	fs.StringVar(&x.ItemCode, "item-code", "", "WMS item code (empty: the SKU)")
	fs.StringVar(&x.UOM, "uom", "", "WMS unit of measure")
	fs.IntVar(&x.PackSize, "pack-size", 1, "WMS units in one Shopify unit")
	fs.StringVar(&x.VariantID, "variant-id", "", "Shopify ProductVariant GID")
	fs.StringVar(&x.InventoryItemID, "inventory-item-id", "", "Shopify InventoryItem GID")
	eff := fs.String("effective-from", "", "time the mapping applies from (default now)")
	return func(ctx context.Context, m *mappingEnv) error {
		t, err := parseMappingTime("effective-from", *eff)
		if err != nil {
			return err
		}
		x.EffectiveFrom = t
		res, err := m.tab.Set(ctx, m.shop, x, m.author)
		if err != nil {
			return err
		}
		return m.printResult(res)
	}
}

func (m *mappingEnv) printResult(res mapping.Result) error {
	return m.print(res, func(w io.Writer) {
		if res.Version == 0 {
			fmt.Fprintln(w, "nothing changed; no version recorded")
			return
		}
		fmt.Fprintf(w, "version %d recorded (%d entries) by %s: %s\n", res.Version, res.Changes, m.author.Actor, m.author.Reason)
	})
}

func mappingDelete(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	wh := fs.String("warehouse", "", "warehouse id (empty: the every-warehouse mapping)")
	sku := fs.String("sku", "", "crossdock SKU, required")
	eff := fs.String("effective-from", "", "time the mapping ends (default now)")
	return func(ctx context.Context, m *mappingEnv) error {
		if *sku == "" {
			return errors.New("--sku is required")
		}
		t, err := parseMappingTime("effective-from", *eff)
		if err != nil {
			return err
		}
		res, err := m.tab.Delete(ctx, m.shop, *wh, *sku, t, m.author)
		if err != nil {
			return err
		}
		return m.printResult(res)
	}
}

func mappingDiff(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	from := fs.String("from", "", "first point: VERSION, TIME or VERSION@TIME, required")
	to := fs.String("to", "", "second point (default: latest version, now)")
	return func(ctx context.Context, m *mappingEnv) error {
		if *from == "" {
			return errors.New("--from is required")
		}
		a, err := parseMappingPoint("from", *from)
		if err != nil {
			return err
		}
		b, err := parseMappingPoint("to", *to)
		if err != nil {
			return err
		}
		cs, err := m.tab.Diff(ctx, m.shop, a, b)
		if err != nil {
			return err
		}
		return m.print(map[string]any{"changes": cs}, func(w io.Writer) {
			if len(cs) == 0 {
				fmt.Fprintln(w, "no differences")
			}
			for _, c := range cs {
				fmt.Fprintf(w, "%s/%s\t%s → %s\n", mappingWH(c.Warehouse), c.SKU, mappingDescribe(c.Old), mappingDescribe(c.New))
			}
		})
	}
}

func mappingRevert(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	to := fs.Int64("to", 0, "version to restore, required")
	return func(ctx context.Context, m *mappingEnv) error {
		if *to <= 0 {
			return errors.New("--to VERSION is required")
		}
		res, err := m.tab.Revert(ctx, m.shop, *to, m.author)
		if err != nil {
			return err
		}
		return m.printResult(res)
	}
}

func mappingImport(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	file := fs.String("file", "", "CSV file to import, - for standard input, required")
	return func(ctx context.Context, m *mappingEnv) error {
		var r io.Reader
		switch *file {
		case "":
			return errors.New("--file is required")
		case "-":
			r = m.stdin
		default:
			f, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		res, err := m.tab.Import(ctx, m.shop, r, m.author)
		if err != nil {
			return fmt.Errorf("%s: %w (nothing imported)", *file, err)
		}
		return m.printResult(res)
	}
}

func mappingExport(fs *flag.FlagSet) func(ctx context.Context, m *mappingEnv) error {
	at := fs.String("at", "", "time the mappings are in force at (default now)")
	file := fs.String("file", "", "write to this file instead of standard output")
	return func(ctx context.Context, m *mappingEnv) error {
		t, err := parseMappingTime("at", *at)
		if err != nil {
			return err
		}
		if *file == "" {
			return m.tab.Export(ctx, m.shop, t, m.stdout)
		}
		f, err := os.Create(*file)
		if err != nil {
			return err
		}
		if err := m.tab.Export(ctx, m.shop, t, f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}
