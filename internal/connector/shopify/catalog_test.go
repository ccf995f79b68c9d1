package shopify

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

// TestCatalogReadsEveryPage seeds more variants than two pages hold, with
// an untracked item, an archived product, an empty SKU and a SKU with
// spaces, and reads them back through CatalogVariants.
func TestCatalogReadsEveryPage(t *testing.T) {
	t.Parallel()
	sim := shopifysim.New(shopifysim.Config{AccessToken: "tok", Seed: 1})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	untracked := false
	var in []shopifysim.ProductInput
	n := 2*CatalogPageSize + 17
	for i := range n {
		vi := shopifysim.VariantInput{SKU: fmt.Sprintf("CAT-%04d", i), Barcode: fmt.Sprintf("%013d", i)}
		p := shopifysim.ProductInput{Title: fmt.Sprintf("Product %d", i), Variants: []shopifysim.VariantInput{vi}}
		switch i {
		case 3:
			p.Variants[0].Tracked = &untracked
		case 4:
			p.Status = "ARCHIVED"
		case 5:
			p.Variants[0].SKU = ""
		case 6:
			p.Variants[0].SKU = " cat-0006 "
		}
		in = append(in, p)
	}
	ps, err := sim.AddProducts(in)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientConfig{BaseURL: srv.URL, AccessToken: "tok", HTTPClient: srv.Client()})
	var calls []int
	got, err := c.Catalog(ctxT, func(read int) { calls = append(calls, read) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{CatalogPageSize, 2 * CatalogPageSize, n}, calls); diff != "" {
		t.Errorf("progress calls (-want +got):\n%s", diff)
	}
	var want []CatalogVariant
	for i, p := range ps {
		v := p.Variants[0]
		status := "ACTIVE"
		if i == 4 {
			status = "ARCHIVED"
		}
		want = append(want, CatalogVariant{ID: v.ID, SKU: v.SKU, Barcode: v.Barcode, Title: "Default Title",
			InventoryItemID: v.InventoryItemID, InventoryItemSKU: v.SKU, Tracked: i != 3,
			ProductID: p.ID, ProductTitle: p.Title, ProductStatus: status})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
}

// TestCatalogBulkMatchesPages: the bulk read returns what the paged read
// does, and a malformed result line is a permanent error.
func TestCatalogBulkMatchesPages(t *testing.T) {
	t.Parallel()
	sim := shopifysim.New(shopifysim.Config{AccessToken: "tok", Seed: 2, RestoreRate: 1e6, BucketSize: 1e6})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	untracked := false
	var in []shopifysim.ProductInput
	for i := range 1300 {
		p := shopifysim.ProductInput{Title: fmt.Sprintf("P%d", i), Variants: []shopifysim.VariantInput{{SKU: fmt.Sprintf("B-%04d", i), Barcode: fmt.Sprint(i)}}}
		if i%97 == 0 {
			p.Variants[0].Tracked = &untracked
			p.Status = "DRAFT"
		}
		in = append(in, p)
	}
	if _, err := sim.AddProducts(in); err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientConfig{BaseURL: srv.URL, AccessToken: "tok", HTTPClient: srv.Client()})
	paged, err := c.Catalog(ctxT, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []int
	bulk, err := c.CatalogBulk(ctxT, 10*time.Millisecond, func(n int) { calls = append(calls, n) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(paged, bulk); diff != "" {
		t.Errorf("bulk vs paged (-paged +bulk):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1000, 1300}, calls); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	_, err = parseBulkCatalog(strings.NewReader(`{"id":"gid://shopify/ProductVariant/1","sku":"A"}`+"\n\nnot json\n"), nil)
	if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), "line 3 is not a variant") {
		t.Errorf("malformed line: %v", err)
	}
}
