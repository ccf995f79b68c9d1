package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/catalog"
	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/store"
)

// auditEnv is the demo's simulators (40 SKUs; Paris stocks the first 30,
// Newark all 40; the warehouses' item masters are their stocked SKUs) and a
// configuration file pointing at them with a migrated SQLite database.
type auditEnv struct {
	sims *demo.Sims
	cfg  string
	db   string
}

func setupAudit(t *testing.T, dropParis bool) *auditEnv {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 40, RestoreRate: 20000, BucketSize: 40000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	var whs strings.Builder
	for i, w := range sims.Warehouses {
		if dropParis && w.ID == "paris" {
			continue
		}
		fmt.Fprintf(&whs, "      - id: %s\n        name: %s\n        rank: %d\n        connector: {kind: rest, base_url: %q, token: %q}\n",
			w.ID, w.Name, i+1, w.URL, demo.WMSToken)
	}
	yml := fmt.Sprintf("database: {driver: sqlite, dsn: %q}\nlisten: 127.0.0.1:0\npublic_url: http://127.0.0.1\nshops:\n"+
		"  - domain: %s\n    api_url: %q\n    access_token: %q\n    webhook_secret: %q\n    warehouses:\n%s",
		db, demo.ShopDomain, sims.ShopifyURL, demo.AccessToken, demo.WebhookSecret, whs.String())
	path := filepath.Join(dir, "crossdock.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &auditEnv{sims: sims, cfg: path, db: db}
}

// mapRenamed records in the hub's mapping the first variant under an old
// SKU, as if it had been renamed in Shopify only.
func (e *auditEnv) mapRenamed(t *testing.T) {
	t.Helper()
	st, err := store.Open(context.Background(), store.SQLite, e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := e.sims.Shopify.Products()[0].Variants[0]
	if err := store.UpsertSKUMapping(context.Background(), st.Write, store.SKUMapping{Shop: demo.ShopDomain, SKU: "OLD-0001", VariantID: v.ID, InventoryItemID: v.InventoryItemID}); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogAuditJSON(t *testing.T) {
	t.Parallel()
	e := setupAudit(t, false)
	e.mapRenamed(t)
	var out, errb bytes.Buffer
	code := Main([]string{"catalog", "audit", "--config", e.cfg, "--json"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (errors found); stderr %s", code, errb.String())
	}
	var got auditOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	kinds := map[catalog.Kind]int{}
	for _, f := range got.Findings {
		kinds[f.Kind]++
		if f.Shop != demo.ShopDomain {
			t.Errorf("finding of shop %q", f.Shop)
		}
		if f.Kind == catalog.KindSKUUnknownToWarehouse && (f.Warehouse != "paris" || f.SKUs[0] < "CD-0031") {
			t.Errorf("unexpected unknown SKU %v in %s", f.SKUs, f.Warehouse)
		}
	}
	want := map[catalog.Kind]int{catalog.KindSKUUnknownToWarehouse: 10, catalog.KindSKURenamedOneSide: 1}
	for _, k := range catalog.Kinds() {
		if kinds[k] != want[k] || got.Counts.ByKind[k] != want[k] {
			t.Errorf("%s: %d findings, counted %d, want %d", k, kinds[k], got.Counts.ByKind[k], want[k])
		}
	}
	if got.Counts.BySeverity[catalog.SeverityError] != 11 || len(got.Shops) != 1 || got.Shops[0].Variants != 40 || got.Incomplete {
		t.Errorf("counts %v, shops %+v, incomplete %v", got.Counts.BySeverity, got.Shops, got.Incomplete)
	}
	if errb.Len() != 0 {
		t.Errorf("progress or errors on a non-terminal stderr: %q", errb.String())
	}
}

func TestCatalogAuditCleanText(t *testing.T) {
	t.Parallel()
	e := setupAudit(t, true)
	var out, errb bytes.Buffer
	if code := Main([]string{"catalog", "audit", "--config", e.cfg, "--shop", demo.ShopDomain, "--bulk"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, want 0; stdout %s stderr %s", code, out.String(), errb.String())
	}
	for _, want := range []string{"shop " + demo.ShopDomain + ": 40 variants; warehouses: newark (40 items)", "0 errors, 0 warnings (no finding)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := Main([]string{"catalog", "audit", "--config", e.cfg, "--shop", "nope.myshopify.com"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `shop "nope.myshopify.com" is not configured (configured: `+demo.ShopDomain+")") {
		t.Errorf("unknown shop: exit %d, stderr %q", code, errb.String())
	}
}

func TestSubcommandHelpAndUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"catalog", "audit", "-h"}, 0, "Usage: crossdock catalog audit [--shop S] [--json] [--bulk] [--config FILE]"},
		{[]string{"bench", "audit", "-h"}, 0, "Usage: crossdock bench audit"},
		{[]string{"bench", "-h"}, 0, "audit"},
		{[]string{"bench"}, 2, "Usage: crossdock bench <command>"},
		{[]string{"catalog", "frob"}, 2, `unknown command "frob"`},
		{[]string{"bench", "audit", "--variants", "5", "--defects", "3"}, 2, "need at least 30 variants"},
	} {
		var out, errb bytes.Buffer
		if code := Main(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

// TestBenchAudit runs the benchmark on a small catalogue: every planted
// defect is found, nothing else is, and a clean catalogue yields nothing.
func TestBenchAudit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		perKind int
	}{
		{[]string{"--variants", "600", "--defects", "4"}, 4},
		{[]string{"--variants", "600", "--clean"}, 0},
		{[]string{"--variants", "600", "--defects", "4", "--bulk"}, 4},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"bench", "audit", "--json", "--shopify-restore-rate", "100000", "--shopify-bucket", "100000"}, tc.args...)
		if code := Main(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s\n%s", tc.args, code, errb.String(), out.String())
		}
		var res benchAuditResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		for _, k := range catalog.Kinds() {
			if res.Planted[k] != tc.perKind || res.Found[k] != tc.perKind {
				t.Errorf("%v %s: planted %d found %d, want %d", tc.args, k, res.Planted[k], res.Found[k], tc.perKind)
			}
		}
		if res.FalsePositives != 0 || res.Variants != 600 || res.Findings != 8*tc.perKind || res.ElapsedS <= 0 {
			t.Errorf("%v: %+v", tc.args, res)
		}
	}
}

func TestOwnsStock(t *testing.T) {
	t.Parallel()
	shop := config.Shop{Warehouses: []config.Warehouse{
		{ID: "plain"},
		{ID: "shopify-owned", SourcesOfTruth: config.SourcesOfTruth{config.DomainStock: config.OwnerShopify}},
		{ID: "wms-owned", SourcesOfTruth: config.SourcesOfTruth{config.DomainStock: config.OwnerWMS}},
	}}
	for _, tc := range []struct {
		shopOwner config.Owner
		want      map[string]bool
	}{
		{"", map[string]bool{"plain": true, "shopify-owned": false, "wms-owned": true}},
		{config.OwnerShopify, map[string]bool{"plain": false, "shopify-owned": false, "wms-owned": true}},
	} {
		shop.SourcesOfTruth = nil
		if tc.shopOwner != "" {
			shop.SourcesOfTruth = config.SourcesOfTruth{config.DomainStock: tc.shopOwner}
		}
		for id, want := range tc.want {
			if got := ownsStock(shop, id); got != want {
				t.Errorf("shop owner %q, warehouse %s: ownsStock = %v, want %v", tc.shopOwner, id, got, want)
			}
		}
	}
}

func TestAuditWithoutHubDatabase(t *testing.T) {
	t.Parallel()
	e := setupAudit(t, true)
	if err := os.Remove(e.db); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"catalog", "audit", "--config", e.cfg}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "note: hub database could not be opened") || !strings.Contains(out.String(), "sku_renamed_one_side not checked") {
		t.Errorf("output does not say the mapping was not checked:\n%s", out.String())
	}
	if _, err := os.Stat(e.db); !os.IsNotExist(err) {
		t.Errorf("the audit created the hub database (stat: %v)", err)
	}
}

func TestProgressPrinter(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if progressWriter(&b) != nil {
		t.Error("progress on a buffer, which is no terminal")
	}
	p := progressPrinter(&b)
	p("s.myshopify.com", catalog.Progress{Step: "shopify", Done: 250})
	p("s.myshopify.com", catalog.Progress{Step: "warehouse", Warehouse: "east", Done: 7})
	p("s.myshopify.com", catalog.Progress{Step: "mapping", Done: 3})
	want := "\r\033[Ks.myshopify.com: 250 Shopify variants…\r\033[Ks.myshopify.com: 7 items of warehouse east…\r\033[Ks.myshopify.com: 3 mapped inventory items…"
	if b.String() != want {
		t.Errorf("progress %q, want %q", b.String(), want)
	}
}
