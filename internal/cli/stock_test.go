package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// crossdock stock sync against the simulators: the first run writes every
// level, a second run finds everything in step; stock explain shows why.
func TestStockSyncAndExplain(t *testing.T) {
	t.Parallel()
	const shopDomain, token = "cli-stock.myshopify.com", "shpat_cli_stock"
	sim := shopifysim.New(shopifysim.Config{ShopDomain: shopDomain, AccessToken: token})
	t.Cleanup(sim.Close)
	ss := httptest.NewServer(sim)
	t.Cleanup(ss.Close)
	_, loc, err := shopify.NewClient(shopify.ClientConfig{BaseURL: ss.URL, AccessToken: token}).CreateFulfillmentService(context.Background(), "Paris", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.SeedInventory([]string{loc}, []shopifysim.InventorySeedItem{{SKU: "A", Available: []int{0}}, {SKU: "B", Available: []int{4}}}); err != nil {
		t.Fatal(err)
	}
	wms := wmssim.New(wmssim.Config{Name: "paris", Token: "w", Stock: map[string]int{"A": 7, "B": 4}})
	t.Cleanup(wms.Close)
	ws := httptest.NewServer(wms)
	t.Cleanup(ws.Close)
	dir := t.TempDir()
	cfg := `database: {driver: sqlite, dsn: ` + filepath.Join(dir, "hub.db") + `}
public_url: https://hub.example.com
shops:
  - domain: ` + shopDomain + `
    api_url: ` + ss.URL + `
    access_token: ` + token + `
    webhook_secret: s
    register_webhooks: false
    stock: {buffer: {units: 1}}
    warehouses:
      - id: paris
        name: Paris
        location_id: ` + loc + `
        connector: {kind: rest, base_url: ` + ws.URL + `, token: w}
`
	path := filepath.Join(dir, "crossdock.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sync := func() stock.Result {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main([]string{"stock", "sync", "--config", path, "--full", "--json"}, &out, &errb); code != 0 {
			t.Fatalf("stock sync exited %d: %s", code, errb.String())
		}
		var res map[string]stock.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
		return res[shopDomain]
	}
	// The buffer of 1 unit: A 7 → 6, B 4 → 3.
	if r := sync(); r.Levels != 2 || r.Changed != 2 || r.Mutations != 1 {
		t.Errorf("first sync %+v, want 2 levels changed in one mutation", r)
	}
	for sku, want := range map[string]int{"A": 6, "B": 3} {
		if q, _ := sim.InventoryLevel(sku, loc); q.Available != want {
			t.Errorf("%s: Shopify %d, want %d", sku, q.Available, want)
		}
	}
	if r := sync(); r.Changed != 0 || r.Mutations != 0 {
		t.Errorf("second sync %+v, want nothing to do", r)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"stock", "explain", "--config", path, "--sku", "A"}, &out, &errb); code != 0 {
		t.Fatalf("stock explain exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"target": 6`) || !strings.Contains(out.String(), `"buffer": 1`) {
		t.Errorf("explain output lacks the target or the buffer:\n%s", out.String())
	}
}
