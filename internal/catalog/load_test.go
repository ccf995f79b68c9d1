package catalog_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/catalog"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/restwms"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/wmssim"
)

const shop = "load.myshopify.com"

// noItems hides a connector's item master.
type noItems struct{ connector.WMS }

// env is a Shopify simulator with 300 variants (two pages), a warehouse
// simulator with an item master, and a store.
type env struct {
	shopify *shopify.Client
	wms     *restwms.Client
	wmsSim  *wmssim.Server
	st      *store.Store
	ps      []shopifysim.ProductState
}

func setup(t *testing.T, d store.Dialect) *env {
	t.Helper()
	sim := shopifysim.New(shopifysim.Config{ShopDomain: shop, AccessToken: "tok", Seed: 3})
	t.Cleanup(sim.Close)
	ss := httptest.NewServer(sim)
	t.Cleanup(ss.Close)
	untracked := false
	var in []shopifysim.ProductInput
	var items []connector.Item
	for i := range 300 {
		v := shopifysim.VariantInput{SKU: fmt.Sprintf("L-%03d", i), Barcode: fmt.Sprintf("4%012d", i)}
		switch i {
		case 7:
			v.SKU = ""
		case 8:
			v.Tracked = &untracked
		case 9:
			v.SKU = "L-009-NEW" // renamed in Shopify and in the warehouse, not in the hub
		}
		in = append(in, shopifysim.ProductInput{Title: fmt.Sprintf("Product %d", i), Variants: []shopifysim.VariantInput{v}})
		if v.SKU != "" {
			items = append(items, connector.Item{Code: v.SKU, Barcodes: []string{v.Barcode}, UOM: "EA", PackSize: 1, Active: true})
		}
	}
	ps, err := sim.AddProducts(in)
	if err != nil {
		t.Fatal(err)
	}
	w := wmssim.New(wmssim.Config{Name: "east", Token: "wt", Items: items})
	ws := httptest.NewServer(w)
	t.Cleanup(ws.Close)
	rc, err := restwms.New(restwms.Config{BaseURL: ws.URL, Token: "wt"})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, d)
	for i, p := range ps {
		v := p.Variants[0]
		sku := v.SKU
		switch i {
		case 7:
			continue
		case 9:
			sku = "L-009"
		}
		if err := store.UpsertSKUMapping(context.Background(), st.Write, store.SKUMapping{Shop: shop, SKU: sku, VariantID: v.ID, InventoryItemID: v.InventoryItemID}); err != nil {
			t.Fatal(err)
		}
	}
	return &env{
		shopify: shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: "tok", HTTPClient: ss.Client()}),
		wms:     rc, wmsSim: w, st: st, ps: ps,
	}
}

// TestLoaderAgainstSimulators reads Shopify over GraphQL, the item master
// over REST and the mapping from the store, then audits.
func TestLoaderAgainstSimulators(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := setup(t, d)
			var steps []catalog.Progress
			l := catalog.Loader{
				Shop:    shop,
				Shopify: e.shopify,
				Warehouses: []catalog.WarehouseSource{
					{ID: "east", WMS: e.wms, ExpectsAll: true, OwnsStock: true},
					{ID: "blind", WMS: noItems{e.wms}, ExpectsAll: true},
				},
				Mapping:  catalog.StoreMapping{Q: e.st.Read},
				Progress: func(p catalog.Progress) { steps = append(steps, p) },
			}
			in, err := l.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Variants) != 300 || len(in.Warehouses) != 2 || len(in.Warehouses[0].Items) != 299 || in.Warehouses[1].HasItemMaster {
				t.Fatalf("loaded %d variants, warehouses %+v", len(in.Variants), len(in.Warehouses))
			}
			wantSteps := []catalog.Progress{
				{Step: "shopify", Done: 250}, {Step: "shopify", Done: 300}, {Step: "shopify", Done: 300, Finished: true},
				{Step: "warehouse", Warehouse: "east", Done: 299, Finished: true}, {Step: "mapping", Done: 299, Finished: true},
			}
			if diff := cmp.Diff(wantSteps, steps); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			r := catalog.Audit(in)
			var got []string
			for _, f := range r.Findings {
				got = append(got, fmt.Sprintf("%s %v", f.Kind, f.SKUs))
			}
			want := []string{"empty_sku []", "inventory_not_tracked [L-008]", "sku_renamed_one_side [L-009 L-009-NEW]"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, "warehouse blind") }) {
				t.Errorf("notes %q do not say warehouse blind has no item master", r.Notes)
			}
			if r.Incomplete {
				t.Error("report marked incomplete although every item master that exists was read")
			}
		})
	}
}

// TestLoaderWarehouseDown: an item master that cannot be read makes the
// report incomplete instead of failing the audit; a Shopify failure fails.
func TestLoaderWarehouseDown(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	e.wmsSim.SetDown(true)
	l := catalog.Loader{Shop: shop, Shopify: e.shopify, Warehouses: []catalog.WarehouseSource{{ID: "east", WMS: e.wms, ExpectsAll: true}}}
	in, err := l.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := catalog.Audit(in)
	if !r.Incomplete || in.Warehouses[0].ItemMasterError == "" {
		t.Errorf("warehouse down: incomplete %v, error %q", r.Incomplete, in.Warehouses[0].ItemMasterError)
	}
	bad := catalog.Loader{Shop: shop, Shopify: shopify.NewClient(shopify.ClientConfig{BaseURL: "http://127.0.0.1:1", AccessToken: "x", MaxRetries: -1})}
	if _, err := bad.Load(context.Background()); err == nil {
		t.Error("Load with an unreachable Shopify succeeded")
	}
}
