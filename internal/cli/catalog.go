package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/crossdock/crossdock/internal/catalog"
	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// catalogCommands are the subcommands of "crossdock catalog".
var catalogCommands = map[string]subcommand{
	"audit": {"audit the catalogue: SKUs, barcodes, tracking and mapping across Shopify and every warehouse", runCatalogAudit},
}

// subcommand is one entry of a command's subcommand table.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// dispatchSubcommand runs args[0] from table, or prints the table for -h or no
// argument (a usage error) or an unknown name (a usage error).
func dispatchSubcommand(ctx context.Context, name string, table map[string]subcommand, args []string, stdout, stderr io.Writer) error {
	usage := func() {
		fmt.Fprintf(stderr, "Usage: crossdock %s <command> [flags]   (crossdock %s <command> -h for its flags)\n\nCommands:\n", name, name)
		for _, n := range slices.Sorted(func(yield func(string) bool) {
			for k := range table {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(stderr, "  %-10s %s\n", n, table[n].summary)
		}
	}
	if len(args) == 0 {
		usage()
		return errUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return flag.ErrHelp
	}
	sub, ok := table[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "crossdock %s: unknown command %q\n\n", name, args[0])
		usage()
		return errUsage
	}
	return sub.run(ctx, args[1:], stdout, stderr)
}

func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatchSubcommand(ctx, "catalog", catalogCommands, args, stdout, stderr)
}

// auditShop is one shop's part of the audit output.
type auditShop struct {
	Shop       string           `json:"shop"`
	Variants   int              `json:"variants"`
	Warehouses []auditWarehouse `json:"warehouses"`
	Notes      []string         `json:"notes,omitempty"`
	Incomplete bool             `json:"incomplete"`
}

type auditWarehouse struct {
	ID string `json:"id"`
	// Items is the item master's size; -1 when it could not be read.
	Items int `json:"items"`
	// OwnsStock is whether the warehouse owns its stock (sources_of_truth).
	OwnsStock bool `json:"owns_stock"`
}

// shopFinding is a finding with its shop.
type shopFinding struct {
	Shop string `json:"shop"`
	catalog.Finding
}

// auditOutput is the JSON output of catalog audit (a contract: findings
// and counts).
type auditOutput struct {
	Findings   []shopFinding  `json:"findings"`
	Counts     catalog.Counts `json:"counts"`
	Shops      []auditShop    `json:"shops"`
	Incomplete bool           `json:"incomplete"`
	Assumed    assumptions    `json:"assumed"`
}

// assumptions are what the audit assumes until configuration says more.
type assumptions struct {
	// ExpectsAllSKUs: every warehouse is expected to stock every SKU of an
	// active product.
	ExpectsAllSKUs bool `json:"expects_all_skus"`
	// StockOwnerDefault is the stock owner of a warehouse whose
	// configuration declares none (sources_of_truth.stock).
	StockOwnerDefault config.Owner `json:"stock_owner_default"`
}

// ownsStock reports whether warehouse w of shop s owns its stock: the
// warehouse's sources_of_truth.stock, else the shop's, else wms (the hub
// pushes the warehouse's stock to Shopify).
func ownsStock(s config.Shop, id string) bool {
	for _, w := range s.Warehouses {
		if o, ok := w.SourcesOfTruth[config.DomainStock]; ok && w.ID == id {
			return o == config.OwnerWMS
		}
	}
	if o, ok := s.SourcesOfTruth[config.DomainStock]; ok {
		return o == config.OwnerWMS
	}
	return true
}

// tolerantMapping reads a mapping and keeps its error instead of failing
// the audit: the rename check is then skipped and the reason noted.
type tolerantMapping struct {
	src catalog.MappingSource
	err error
}

func (m *tolerantMapping) ItemSKUs(ctx context.Context, shop string) (map[string][]string, error) {
	r, err := m.src.ItemSKUs(ctx, shop)
	if err != nil {
		m.err = err
		return nil, nil
	}
	return r, nil
}

func runCatalogAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("catalog audit", "catalog audit [--shop S] [--json] [--bulk] [--config FILE]", stderr)
	cfgPath := fs.String("config", "crossdock.yaml", "configuration file (YAML)")
	shopFlag := fs.String("shop", "", "audit this shop only (default: every configured shop)")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	bulk := fs.Bool("bulk", false, "read the Shopify catalogue with one bulk operation instead of pages (large catalogues)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: crossdock catalog audit [--shop S] [--json] [--bulk] [--config FILE]

Reads each shop's Shopify catalogue (paged GraphQL paced by the rate limit:
3 points per variant; or, with --bulk, one bulk operation),
every warehouse's item master (connectors with the item-master capability)
and the hub's SKU mapping, and reports, with a severity and a suggested fix:
empty_sku, duplicate_sku, sku_case_or_space, sku_unknown_to_warehouse,
wms_item_unknown_to_shopify, barcode_on_two_skus, inventory_not_tracked,
sku_renamed_one_side.

Every warehouse is expected to stock every SKU of an active product (until
the mapping tables say which warehouse stocks what). A warehouse owns its
stock (inventory_not_tracked applies) when its sources_of_truth.stock, else
the shop's, is wms, or when neither is declared.

Progress goes to stderr when it is a terminal.
Exit status: 0 no finding of severity error; 1 a finding of severity error,
a source that could not be read, or a failure; 2 usage.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		return err
	}
	shops := reg.Shops()
	if *shopFlag != "" {
		s, ok := reg.Shop(*shopFlag)
		if !ok {
			known := make([]string, len(shops))
			for i, s := range shops {
				known[i] = s.Domain
			}
			return fmt.Errorf("shop %q is not configured (configured: %s)", *shopFlag, strings.Join(known, ", "))
		}
		shops = []*tenant.Shop{s}
	}

	// The hub's mapping, read-only: an SQLite file that does not exist yet
	// (the hub never ran) is not created.
	var mapping *tolerantMapping
	var dbErr error
	if store.Dialect(cfg.Database.Driver) == store.SQLite {
		if _, err := os.Stat(cfg.Database.DSN); err != nil {
			dbErr = fmt.Errorf("%w (the hub has not run yet?)", err)
		}
	}
	if dbErr == nil {
		st, err := store.Open(ctx, store.Dialect(cfg.Database.Driver), cfg.Database.DSN)
		if err == nil {
			defer st.Close()
			mapping = &tolerantMapping{src: catalog.StoreMapping{Q: st.Read}}
		}
		dbErr = err
	}

	progress := progressWriter(stderr)
	out := auditOutput{Findings: []shopFinding{}, Assumed: assumptions{ExpectsAllSKUs: true, StockOwnerDefault: config.OwnerWMS}}
	var all []catalog.Finding
	for _, s := range shops {
		l := catalog.Loader{Shop: s.Domain, Shopify: s.Shopify}
		if *bulk {
			l.Shopify = catalog.BulkCatalog{Client: s.Shopify}
		}
		if mapping != nil {
			mapping.err = nil
			l.Mapping = mapping
		}
		if progress != nil {
			l.Progress = func(p catalog.Progress) { progress(s.Domain, p) }
		}
		for _, w := range s.Warehouses {
			l.Warehouses = append(l.Warehouses, catalog.WarehouseSource{ID: w.ID, WMS: w.WMS, ExpectsAll: true, OwnsStock: ownsStock(s.Config, w.ID)})
		}
		in, err := l.Load(ctx)
		if progress != nil {
			fmt.Fprint(stderr, "\r\033[K")
		}
		if err != nil {
			return err
		}
		r := catalog.Audit(in)
		switch {
		case dbErr != nil:
			r.Notes = append(r.Notes, fmt.Sprintf("hub database could not be opened: %v", dbErr))
		case mapping.err != nil:
			r.Notes = append(r.Notes, fmt.Sprintf("hub mapping could not be read: %v", mapping.err))
		}
		sh := auditShop{Shop: s.Domain, Variants: len(in.Variants), Notes: r.Notes, Incomplete: r.Incomplete}
		for _, w := range in.Warehouses {
			n := len(w.Items)
			if !w.HasItemMaster {
				n = -1
			}
			sh.Warehouses = append(sh.Warehouses, auditWarehouse{ID: w.ID, Items: n, OwnsStock: w.OwnsStock})
		}
		out.Shops = append(out.Shops, sh)
		out.Incomplete = out.Incomplete || r.Incomplete
		for _, f := range r.Findings {
			out.Findings = append(out.Findings, shopFinding{Shop: s.Domain, Finding: f})
		}
		all = append(all, r.Findings...)
	}
	out.Counts = catalog.Count(all)

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printAudit(stdout, &out)
	}
	if out.Counts.BySeverity[catalog.SeverityError] > 0 || out.Incomplete {
		return exitCode(1)
	}
	return nil
}

func printAudit(w io.Writer, out *auditOutput) {
	for _, sh := range out.Shops {
		var whs []string
		for _, wh := range sh.Warehouses {
			if wh.Items < 0 {
				whs = append(whs, wh.ID+" (no item master)")
			} else {
				whs = append(whs, fmt.Sprintf("%s (%d items)", wh.ID, wh.Items))
			}
		}
		fmt.Fprintf(w, "shop %s: %d variants; warehouses: %s\n", sh.Shop, sh.Variants, strings.Join(whs, ", "))
		for _, f := range out.Findings {
			if f.Shop != sh.Shop {
				continue
			}
			where := ""
			if f.Warehouse != "" {
				where = " [" + f.Warehouse + "]"
			}
			fmt.Fprintf(w, "  %-7s %s%s: %s\n          fix: %s\n", strings.ToUpper(string(f.Severity)), f.Kind, where, f.Message, f.Fix)
		}
		for _, n := range sh.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	var kinds []string
	for _, k := range catalog.Kinds() {
		if n := out.Counts.ByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	summary := "no finding"
	if len(kinds) > 0 {
		summary = strings.Join(kinds, ", ")
	}
	fmt.Fprintf(w, "%d errors, %d warnings (%s)\n", out.Counts.BySeverity[catalog.SeverityError], out.Counts.BySeverity[catalog.SeverityWarning], summary)
	if out.Incomplete {
		fmt.Fprintln(w, "incomplete: a source could not be read (see the notes)")
	}
}

// progressWriter returns a progress printer on w when w is a terminal, else
// nil.
func progressWriter(w io.Writer) func(shop string, p catalog.Progress) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return progressPrinter(w)
}

// progressPrinter rewrites one status line on w for each report.
func progressPrinter(w io.Writer) func(shop string, p catalog.Progress) {
	return func(shop string, p catalog.Progress) {
		what := "Shopify variants"
		switch p.Step {
		case "warehouse":
			what = "items of warehouse " + p.Warehouse
		case "mapping":
			what = "mapped inventory items"
		}
		fmt.Fprintf(w, "\r\033[K%s: %d %s…", shop, p.Done, what)
	}
}
