package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/web"
)

type fakeConnectors []web.ConnectorHealth

func (f fakeConnectors) ConnectorHealth(context.Context) ([]web.ConnectorHealth, error) {
	return f, nil
}

// fakeDiscrepancies serves a fixed list and remembers the last filter.
type fakeDiscrepancies struct {
	list []web.Discrepancy
	last web.DiscrepancyFilter
}

func (f *fakeDiscrepancies) ListDiscrepancies(_ context.Context, flt web.DiscrepancyFilter) ([]web.Discrepancy, error) {
	f.last = flt
	var out []web.Discrepancy
	for _, d := range f.list {
		if (flt.State == "" || d.State == flt.State) && (flt.Kind == "" || d.Kind == flt.Kind) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeDiscrepancies) OpenDiscrepancies(context.Context) (map[string]int, error) {
	n := map[string]int{}
	for _, d := range f.list {
		if d.State == "open" {
			n[d.Kind]++
		}
	}
	return n, nil
}

// dashOrder is one order of the dashboard fixture.
type dashOrder struct {
	id, name, state, warehouse, sku string
	shipAfter                       time.Duration // 0: not shipped
}

var dashOrders = []dashOrder{
	{"gid://shopify/Order/2001", "#2001", store.OrderFulfilled, "paris", "MUG-RED", 2 * time.Minute},
	{"gid://shopify/Order/2002", "#2002", store.OrderFulfilled, "lyon", "MUG-BLUE", 7 * time.Minute},
	{"gid://shopify/Order/2003", "#2003", store.OrderInProgress, "paris", "TEE-M", 0},
	{"gid://shopify/Order/2004", "#2004", store.OrderHeld, "", "", 0},
}

type dash struct {
	srv  *httptest.Server
	st   *store.Store
	disc *fakeDiscrepancies
}

// setupDash serves web.Mount with every dashboard dependency on a store
// holding dashOrders (created now) and their warehouse orders.
func setupDash(t *testing.T, d store.Dialect, deps web.Deps) *dash {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, d)
	for _, o := range dashOrders {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := store.UpsertOrder(ctx, tx, &store.Order{Shop: shop, OrderID: o.id, Name: o.name}); err != nil {
				return err
			}
			if err := store.SetOrderState(ctx, tx, shop, o.id, o.state, ""); err != nil {
				return err
			}
			if o.warehouse == "" {
				return nil
			}
			ref := "CD-" + strings.TrimPrefix(o.id, "gid://shopify/Order/")
			wo := &order.WarehouseOrder{ExternalRef: ref, Shop: shop, Warehouse: o.warehouse, OrderID: o.id,
				FulfillmentOrderID: "gid://shopify/FulfillmentOrder/" + ref, Lines: []order.Line{{LineNo: 1, SKU: o.sku, Quantity: 1}}}
			if _, err := store.InsertWarehouseOrder(ctx, tx, wo, order.ProgressAcknowledged); err != nil {
				return err
			}
			if o.shipAfter == 0 {
				return nil
			}
			got, err := store.GetOrder(ctx, tx, shop, o.id)
			if err != nil {
				return err
			}
			_, err = store.AdvanceWarehouseOrder(ctx, tx, shop, ref, order.ProgressShipped, got.CreatedAt.Add(o.shipAfter))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deps.Store = st
	mux := http.NewServeMux()
	web.Mount(mux, deps)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	disc, _ := deps.Discrepancies.(*fakeDiscrepancies)
	return &dash{srv: srv, st: st, disc: disc}
}

func (b *dash) get(t *testing.T, path string, htmx bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (b *dash) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, body := b.get(t, path, false)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// TestOverview: the overview counts this hour's orders by state, draws
// one bar segment per state present, and summarises the shipped orders'
// lead time; its htmx fragment has no page around it.
func TestOverview(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			b := setupDash(t, d, web.Deps{Discrepancies: &fakeDiscrepancies{list: []web.Discrepancy{
				{ID: 1, Kind: "order_missing", State: "open"}, {ID: 2, Kind: "order_missing", State: "open"}, {ID: 3, Kind: "stock", State: "closed"}}}})
			var ov web.Overview
			b.getJSON(t, "/api/v1/overview", &ov)
			wantStates := map[string]int{}
			var shipped []time.Duration
			for _, o := range dashOrders {
				wantStates[o.state]++
				if o.shipAfter > 0 {
					shipped = append(shipped, o.shipAfter)
				}
			}
			if len(ov.Hours) != 24 {
				t.Fatalf("%d hours, want 24", len(ov.Hours))
			}
			last := ov.Hours[23]
			if last.Total != len(dashOrders) || len(last.ByState) != len(wantStates) {
				t.Errorf("this hour: %+v, want %d orders in %v", last, len(dashOrders), wantStates)
			}
			for s, n := range wantStates {
				if last.ByState[s] != n {
					t.Errorf("this hour, %s: %d, want %d", s, last.ByState[s], n)
				}
			}
			for i := 1; i < 24; i++ {
				if ov.Hours[i].Start.Sub(ov.Hours[i-1].Start) != time.Hour {
					t.Errorf("hour %d starts at %s after %s", i, ov.Hours[i].Start, ov.Hours[i-1].Start)
				}
			}
			if ov.LeadTime.Count != len(shipped) {
				t.Errorf("lead time over %d shipments, want %d", ov.LeadTime.Count, len(shipped))
			}
			longest := max(shipped[0], shipped[1])
			if got := time.Duration(ov.LeadTime.Max * float64(time.Second)); got.Round(time.Millisecond) != longest {
				t.Errorf("longest lead time %s, want %s", got, longest)
			}
			if ov.Discrepancies["order_missing"] != 2 || len(ov.Discrepancies) != 1 {
				t.Errorf("open discrepancies %v", ov.Discrepancies)
			}

			code, page := b.get(t, "/overview", false)
			if code != http.StatusOK || !strings.Contains(page, `<script src="/static/htmx.min.js">`) || !strings.Contains(page, `hx-trigger="every 5s"`) {
				t.Fatalf("GET /overview = %d:\n%s", code, page)
			}
			for s := range wantStates {
				if !strings.Contains(page, `data-state="`+s+`"`) {
					t.Errorf("chart has no bar for %s", s)
				}
			}
			if !strings.Contains(page, "order_missing</a>: 2") {
				t.Errorf("overview does not count the open discrepancies:\n%s", page)
			}
			code, frag := b.get(t, "/overview", true)
			if code != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, "<svg") {
				t.Errorf("htmx fragment = %d:\n%s", code, frag)
			}
		})
	}
}

// TestOrdersSearch: the orders page and API search names, SKUs and
// external references and filter by warehouse and creation date.
func TestOrdersSearch(t *testing.T) {
	t.Parallel()
	b := setupDash(t, store.SQLite, web.Deps{})
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format(time.DateOnly)
	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"q": {"mug-"}}, []string{"#2001", "#2002"}},
		{url.Values{"q": {"TEE-M"}}, []string{"#2003"}},
		{url.Values{"q": {"CD-2002"}}, []string{"#2002"}},
		{url.Values{"q": {"#2004"}}, []string{"#2004"}},
		{url.Values{"warehouse": {"paris"}}, []string{"#2001", "#2003"}},
		{url.Values{"warehouse": {"paris"}, "state": {store.OrderFulfilled}}, []string{"#2001"}},
		{url.Values{"from": {today}, "to": {today}}, []string{"#2001", "#2002", "#2003", "#2004"}},
		{url.Values{"from": {tomorrow}}, nil},
		{url.Values{"q": {"nothing-like-this"}}, nil},
	} {
		var a struct {
			Orders []store.Order  `json:"orders"`
			Counts map[string]int `json:"counts"`
		}
		b.getJSON(t, "/api/v1/orders?"+tc.query.Encode(), &a)
		var got []string
		for _, o := range a.Orders {
			got = append(got, o.Name)
		}
		if !sameSet(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query.Encode(), got, tc.want)
		}
		code, frag := b.get(t, "/?"+tc.query.Encode(), true)
		if code != http.StatusOK || strings.Contains(frag, "<html") {
			t.Fatalf("htmx GET /?%s = %d:\n%s", tc.query.Encode(), code, frag)
		}
		for _, o := range dashOrders {
			if in := strings.Contains(frag, ">"+o.name+"</a>"); in != contains(tc.want, o.name) {
				t.Errorf("page /?%s shows %s: %v", tc.query.Encode(), o.name, in)
			}
		}
	}
	for _, p := range []string{"/api/v1/orders?from=yesterday", "/?to=2026-13-01"} {
		if code, body := b.get(t, p, false); code != http.StatusBadRequest || !strings.Contains(body, "YYYY-MM-DD") {
			t.Errorf("GET %s = %d %s, want 400 naming the format", p, code, body)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// TestOrderDetailJSON: the order page's data as JSON, progress by name.
func TestOrderDetailJSON(t *testing.T) {
	t.Parallel()
	b := setupDash(t, store.SQLite, web.Deps{})
	var det struct {
		Order           store.Order `json:"order"`
		WarehouseOrders []struct {
			ExternalRef string     `json:"external_ref"`
			Progress    string     `json:"progress"`
			ShippedAt   *time.Time `json:"shipped_at"`
		} `json:"warehouse_orders"`
	}
	o := dashOrders[0]
	b.getJSON(t, "/api/v1/orders/detail?"+url.Values{"shop": {shop}, "id": {o.id}}.Encode(), &det)
	if det.Order.Name != o.name || len(det.WarehouseOrders) != 1 || det.WarehouseOrders[0].Progress != order.ProgressShipped.String() ||
		det.WarehouseOrders[0].ShippedAt == nil {
		t.Errorf("detail = %+v", det)
	}
	if code, _ := b.get(t, "/api/v1/orders/detail?"+url.Values{"shop": {shop}, "id": {"gid://shopify/Order/404"}}.Encode(), false); code != http.StatusNotFound {
		t.Errorf("unknown order: %d, want 404", code)
	}
}

// TestConfigMasked: the configuration page and API show the settings and
// never a secret.
func TestConfigMasked(t *testing.T) {
	t.Parallel()
	secrets := []string{"shpat_0123456789abcdef", "whsec-current-secret", "whsec-previous-secret", "wms-bearer-token-xyz", "pg-password-s3cret", "sftp-pass-word"}
	cfg := &config.Config{
		Database: config.Database{Driver: "postgres", DSN: "postgres://crossdock:" + secrets[4] + "@db.internal:5432/crossdock"},
		Listen:   "127.0.0.1:8080",
		Shops: []config.Shop{{Domain: "brand.myshopify.com", AccessToken: secrets[0], WebhookSecret: secrets[1], PreviousWebhookSecret: secrets[2],
			Warehouses: []config.Warehouse{{ID: "paris", Connector: config.Connector{Kind: "rest",
				Settings: map[string]any{"url": "http://wms.example", "token": secrets[3], "password": secrets[5]}}}}}},
	}
	b := setupDash(t, store.SQLite, web.Deps{Config: cfg})
	code, page := b.get(t, "/config", false)
	var api struct {
		Config map[string]any `json:"config"`
		YAML   string         `json:"yaml"`
	}
	b.getJSON(t, "/api/v1/config", &api)
	raw, _ := json.Marshal(api)
	for where, text := range map[string]string{"page": page, "api": string(raw)} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows secret %q", where, s)
			}
		}
		for _, s := range []string{"brand.myshopify.com", "http://wms.example", "db.internal", "***"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s does not show %q:\n%s", where, s, text)
			}
		}
	}
	if code != http.StatusOK {
		t.Errorf("GET /config = %d", code)
	}
	if db, _ := api.Config["database"].(map[string]any); db["driver"] != "postgres" {
		t.Errorf("config.database = %v", api.Config["database"])
	}
}

// TestDiscrepanciesPage: without reconciliation the page says so; with it,
// the page lists the discrepancies the filter selects.
func TestDiscrepanciesPage(t *testing.T) {
	t.Parallel()
	off := setupDash(t, store.SQLite, web.Deps{})
	if code, page := off.get(t, "/discrepancies", false); code != http.StatusOK || !strings.Contains(page, "Reconciliation not enabled") {
		t.Errorf("without reconciliation: %d\n%s", code, page)
	}
	var a struct {
		Enabled       bool              `json:"enabled"`
		Discrepancies []web.Discrepancy `json:"discrepancies"`
	}
	off.getJSON(t, "/api/v1/discrepancies", &a)
	if a.Enabled || a.Discrepancies == nil || len(a.Discrepancies) != 0 {
		t.Errorf("without reconciliation: %+v", a)
	}

	now := time.Now().UTC()
	list := []web.Discrepancy{
		{ID: 1, Shop: shop, Kind: "order_unknown_to_hub", Severity: "high", State: "open", Entities: []string{"gid://shopify/Order/9"},
			Message: "order in Shopify, unknown to the hub", SuggestedFix: "re-fetch the order", FirstSeen: now, LastSeen: now},
		{ID: 2, Shop: shop, Kind: "stock", Severity: "low", State: "closed", Entities: []string{"MUG-RED @ paris"},
			Message: "Shopify 4, hub 5", SuggestedFix: "re-push stock", FirstSeen: now, LastSeen: now, ClosedAt: &now},
	}
	on := setupDash(t, store.SQLite, web.Deps{Discrepancies: &fakeDiscrepancies{list: list}})
	_, page := on.get(t, "/discrepancies", false)
	if !strings.Contains(page, "re-fetch the order") || strings.Contains(page, "re-push stock") {
		t.Errorf("default (open) page:\n%s", page)
	}
	_, frag := on.get(t, "/discrepancies?state=closed&kind=stock", true)
	if !strings.Contains(frag, "re-push stock") || strings.Contains(frag, "re-fetch the order") || strings.Contains(frag, "<html") {
		t.Errorf("closed stock fragment:\n%s", frag)
	}
	if f := on.disc.last; f.State != "closed" || f.Kind != "stock" {
		t.Errorf("filter passed = %+v", f)
	}
	on.getJSON(t, "/api/v1/discrepancies?state=all", &a)
	if !a.Enabled || len(a.Discrepancies) != len(list) {
		t.Errorf("all: %+v", a)
	}
}

// TestConnectorsPage: each connector's health, error and cursor.
func TestConnectorsPage(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	cs := fakeConnectors{
		{Shop: shop, Warehouse: "paris", Kind: "rest", LastPoll: now, LastSuccess: now, Cursor: "evt-000042", Events: 42, LagSeconds: 1},
		{Shop: shop, Warehouse: "lyon", Kind: "csv", LastPoll: now, LastError: "connection refused", LagSeconds: -1},
	}
	b := setupDash(t, store.SQLite, web.Deps{Connectors: cs})
	_, page := b.get(t, "/connectors", false)
	for _, s := range []string{"evt-000042", "connection refused", ">csv<", ">rest<"} {
		if !strings.Contains(page, s) {
			t.Errorf("connectors page lacks %q:\n%s", s, page)
		}
	}
	var a struct {
		Connectors []web.ConnectorHealth `json:"connectors"`
	}
	b.getJSON(t, "/api/v1/connectors", &a)
	if len(a.Connectors) != 2 || a.Connectors[0].Warehouse != "lyon" || a.Connectors[0].LastError == "" {
		t.Errorf("connectors = %+v (sorted by shop, warehouse)", a.Connectors)
	}
}

// TestOperationsProgress: a running stock sync's progress, as the page's
// progress bar and as JSON.
func TestOperationsProgress(t *testing.T) {
	t.Parallel()
	b := setupDash(t, store.SQLite, web.Deps{Tenants: tenantsOf(t, shop)})
	p := stock.Progress{Shop: shop, Phase: "pushing", Done: 30, Total: 120, Started: time.Now().UTC(), Updated: time.Now().UTC()}
	v, _ := json.Marshal(p)
	if err := store.SetCursor(context.Background(), b.st.Write, shop, stock.ProgressCursor, string(v)); err != nil {
		t.Fatal(err)
	}
	_, frag := b.get(t, "/operations", true)
	if !strings.Contains(frag, `value="25"`) || !strings.Contains(frag, "30/120") || !strings.Contains(frag, "pushing") {
		t.Errorf("operations fragment:\n%s", frag)
	}
	var a web.Operations
	b.getJSON(t, "/api/v1/operations", &a)
	if len(a.Sync) != 1 || a.Sync[0].Stock == nil || a.Sync[0].Stock.Done != p.Done || a.Sync[0].Stock.Total != p.Total {
		t.Errorf("operations = %+v", a)
	}
}

// TestStaticHTMX: the vendored htmx is served, as it came.
func TestStaticHTMX(t *testing.T) {
	t.Parallel()
	b := setupDash(t, store.SQLite, web.Deps{})
	want, err := os.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(b.srv.URL + "/static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || string(got) != string(want) {
		t.Errorf("GET /static/htmx.min.js = %d %s, %d bytes (want %d)", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), len(want))
	}
}

// tenantsOf is a registry of one shop with a warehouse paris.
func tenantsOf(t *testing.T, domain string) *tenant.Registry {
	t.Helper()
	cfg := &config.Config{Shops: []config.Shop{{Domain: domain, APIURL: "http://127.0.0.1:1", AccessToken: "x",
		Warehouses: []config.Warehouse{{ID: "paris", Name: "Paris", LocationID: "gid://shopify/Location/7",
			Connector: config.Connector{Kind: "rest", Settings: map[string]any{"base_url": "http://127.0.0.1:1", "token": "t"}}}}}}}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestDeadLetterFormRefusals: the dead-letters page's form says why it
// refuses an action — to htmx in the swapped list, to a plain form post
// with the status — and records nothing.
func TestDeadLetterFormRefusals(t *testing.T) {
	t.Parallel()
	b := setupDash(t, store.SQLite, web.Deps{Jobs: noJobs{}})
	for _, tc := range []struct {
		form url.Values
		code int
		says string
	}{
		{url.Values{"action": {"retry"}, "actor": {"ops"}}, http.StatusBadRequest, "actor and reason are required"},
		{url.Values{"action": {"retry-edited"}, "actor": {"ops"}, "reason": {"r"}, "args": {"{not json"}}, http.StatusBadRequest, "not valid JSON"},
		{url.Values{"action": {"retry"}, "actor": {"ops"}, "reason": {"r"}}, http.StatusNotFound, "is not a dead letter"},
		{url.Values{"action": {"explode"}, "actor": {"ops"}, "reason": {"r"}}, http.StatusNotFound, "retry or discard"},
	} {
		for _, htmx := range []bool{true, false} {
			req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/deadletters/77", strings.NewReader(tc.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if htmx {
				req.Header.Set("HX-Request", "true")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := tc.code
			if htmx {
				want = http.StatusOK // htmx swaps only successful answers
			}
			if resp.StatusCode != want || !strings.Contains(string(body), tc.says) || !strings.Contains(string(body), `class="msg error"`) {
				t.Errorf("%v (htmx %v) = %d, want %d saying %q:\n%s", tc.form, htmx, resp.StatusCode, want, tc.says, body)
			}
		}
	}
	if acts, err := store.Actions(context.Background(), b.st.Read, "job:77", 10); err != nil || len(acts) != 0 {
		t.Errorf("refused actions were recorded: %+v, %v", acts, err)
	}
}
