package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	_ "github.com/crossdock/crossdock/internal/connector/restwms" // kind "rest"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/web"
)

// The stock page and API show each level's target and Shopify figure, one
// level's explanation (snapshot, in-flight order, buffer, ledger) and the
// progress of the last sync.
func TestStockPagesExplain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const loc = "gid://shopify/Location/7"
	st := storetest.Open(t, store.SQLite)
	cfg := &config.Config{Shops: []config.Shop{{Domain: shop, APIURL: "http://127.0.0.1:1", AccessToken: "x",
		Stock: config.ShopStock{Buffer: &config.Buffer{Units: 2}},
		Warehouses: []config.Warehouse{{ID: "paris", Name: "Paris", LocationID: loc,
			Connector: config.Connector{Kind: "rest", Settings: map[string]any{"base_url": "http://127.0.0.1:1", "token": "t"}}}}}}}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := store.UpsertStock(ctx, tx, store.StockLevel{Shop: shop, Warehouse: "paris", SKU: "SKU-1", OnHand: 20, Available: 20, AsOf: asOf}); err != nil {
			return err
		}
		wo := &order.WarehouseOrder{ExternalRef: "CD-9", Shop: shop, Warehouse: "paris", OrderID: "gid://shopify/Order/9", FulfillmentOrderID: "gid://shopify/FulfillmentOrder/9",
			Lines: []order.Line{{LineNo: 1, SKU: "SKU-1", Quantity: 3}}}
		if _, err := store.InsertWarehouseOrder(ctx, tx, wo, order.ProgressSent); err != nil {
			return err
		}
		if err := store.RecordPush(ctx, tx, shop, loc, "SKU-1", "gid://shopify/InventoryItem/1", 15, 3, "k1", asOf); err != nil {
			return err
		}
		if err := store.AddLedger(ctx, tx, store.LedgerEntry{Shop: shop, LocationID: loc, SKU: "SKU-1", At: asOf, Kind: "push", Message: "set available 0 → 15"}); err != nil {
			return err
		}
		return store.SetCursor(ctx, tx, shop, stock.ProgressCursor, `{"shop":"`+shop+`","phase":"pushing","done":250,"total":500}`)
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st, Config: cfg, Tenants: reg})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(path string) string {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		return string(b)
	}
	var ex stock.Explanation
	if err := json.Unmarshal([]byte(get("/api/v1/stock/explain?location="+url.QueryEscape(loc)+"&sku=SKU-1")), &ex); err != nil {
		t.Fatal(err)
	}
	c := ex.Figure.Contributions
	// 20 in the snapshot − 3 in flight (not acknowledged) − 2 buffer.
	if len(c) != 1 || c[0].Snapshot != 20 || c[0].InFlight != 3 || c[0].Buffer != 2 || ex.Figure.Target != 15 || !ex.InSync {
		t.Errorf("explanation %+v, want 20 − 3 in flight − 2 buffer = 15, in sync", ex)
	}
	if len(ex.InFlight["paris"]) != 1 || ex.InFlight["paris"][0].ExternalRef != "CD-9" || len(ex.Ledger) != 1 {
		t.Errorf("in-flight orders %+v, ledger %+v", ex.InFlight, ex.Ledger)
	}
	var lv struct {
		Levels []struct {
			SKU    string `json:"sku"`
			InSync bool   `json:"in_sync"`
		} `json:"levels"`
	}
	if err := json.Unmarshal([]byte(get("/api/v1/stock/levels")), &lv); err != nil || len(lv.Levels) != 1 || lv.Levels[0].SKU != "SKU-1" {
		t.Errorf("levels %+v %v", lv, err)
	}
	if page := get("/stock"); !strings.Contains(page, "SKU-1") || !strings.Contains(page, "250/500") {
		t.Errorf("stock page lacks the level or the sync progress:\n%s", page)
	}
	if page := get("/stock/explain?location=" + url.QueryEscape(loc) + "&sku=SKU-1"); !strings.Contains(page, "CD-9") || !strings.Contains(page, "set available 0 → 15") {
		t.Errorf("explain page lacks the in-flight order or the ledger:\n%s", page)
	}
	if !strings.Contains(get("/api/v1/stock/sync"), `"done":250`) {
		t.Error("sync progress not served")
	}
}
