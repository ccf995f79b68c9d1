package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/web"
)

const mapShop = "a.myshopify.com"

type mappingAPI struct {
	t   *testing.T
	st  *store.Store
	url string
}

func setupMappingAPI(t *testing.T, d store.Dialect) *mappingAPI {
	t.Helper()
	st := storetest.Open(t, d)
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &mappingAPI{t: t, st: st, url: srv.URL + "/api/v1/mappings"}
}

// do sends a request and decodes a JSON answer into out (when not nil);
// it returns the status and the raw body.
func (a *mappingAPI) do(method, path, contentType, body string, out any) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func (a *mappingAPI) change(action string, body map[string]any) int64 {
	a.t.Helper()
	body["shop"] = mapShop
	b, _ := json.Marshal(body)
	var res mapping.Result
	if code, raw := a.do("POST", "/"+action, "application/json", string(b), &res); code != http.StatusOK || res.Version == 0 {
		a.t.Fatalf("POST %s %s: %d %s", action, b, code, raw)
	}
	return res.Version
}

// TestMappingAPIChangeDiffRevert: a mapping set, renamed from a date,
// diffed and reverted through /api/v1/mappings; each change is recorded
// with its actor and reason in the history and as an operator action.
func TestMappingAPIChangeDiffRevert(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := setupMappingAPI(t, d)
			v1 := a.change("set", map[string]any{"actor": "alice", "reason": "onboarding Paris",
				"mapping": map[string]any{"warehouse": "paris", "sku": "TEE-1", "item_code": "P-100", "uom": "EA", "effective_from": "2026-11-01T00:00:00Z"}})
			v2 := a.change("set", map[string]any{"actor": "bob", "reason": "Paris renamed the item",
				"mapping": map[string]any{"warehouse": "paris", "sku": "TEE-1", "item_code": "P-200", "pack_size": 2, "effective_from": "2026-11-20T00:00:00Z"}})

			var list struct{ Mappings []mapping.Mapping }
			a.do("GET", "?shop="+mapShop+"&at=2026-11-10T00:00:00Z", "", "", &list)
			if len(list.Mappings) != 1 || list.Mappings[0].ItemCode != "P-100" || list.Mappings[0].Version != v1 {
				t.Fatalf("list before the rename = %+v", list)
			}
			var diff struct{ Changes []mapping.Change }
			if code, raw := a.do("GET", "/diff?shop="+mapShop+"&from="+strconv.FormatInt(v1, 10)+"&to="+strconv.FormatInt(v2, 10), "", "", &diff); code != http.StatusOK {
				t.Fatalf("diff: %d %s", code, raw)
			}
			if len(diff.Changes) != 1 || diff.Changes[0].Old.ItemCode != "P-100" || diff.Changes[0].New.ItemCode != "P-200" || diff.Changes[0].New.PackSize != 2 {
				t.Fatalf("diff v%d..v%d = %+v", v1, v2, diff)
			}
			v3 := a.change("revert", map[string]any{"actor": "carol", "reason": "rename postponed", "to": v1})
			a.do("GET", "?shop="+mapShop+"&at=2026-11-21T00:00:00Z", "", "", &list)
			if len(list.Mappings) != 1 || list.Mappings[0].ItemCode != "P-100" {
				t.Fatalf("list after revert = %+v", list)
			}
			a.do("GET", "/diff?shop="+mapShop+"&from="+strconv.FormatInt(v1, 10), "", "", &diff)
			if len(diff.Changes) != 0 {
				t.Fatalf("diff v%d..now after revert = %+v", v1, diff)
			}
			var hist struct{ Versions []mapping.Version }
			a.do("GET", "/history?shop="+mapShop+"&sku=TEE-1", "", "", &hist)
			if len(hist.Versions) != 3 || hist.Versions[0].ID != v3 || hist.Versions[0].Actor != "carol" || hist.Versions[0].RevertedTo != v1 ||
				hist.Versions[1].Reason != "Paris renamed the item" || hist.Versions[1].Changes[0].Old.ItemCode != "P-100" {
				t.Fatalf("history = %+v", hist)
			}
			acts, err := store.Actions(context.Background(), a.st.Read, mapping.Target(mapShop), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != 3 || acts[0].Actor != "carol" || acts[0].Reason != "rename postponed" || acts[1].Actor != "bob" || acts[2].Actor != "alice" {
				t.Fatalf("operator actions = %+v", acts)
			}
		})
	}
}

// TestMappingAPIImportExportAndRefusals: CSV export and import, a bad row
// answered 400 with its line and nothing applied, and changes without
// actor or reason refused.
func TestMappingAPIImportExportAndRefusals(t *testing.T) {
	t.Parallel()
	a := setupMappingAPI(t, store.SQLite)
	who := "&actor=alice&reason=" + url.QueryEscape("initial load")
	var res mapping.Result
	if code, raw := a.do("POST", "/import?shop="+mapShop+who, "text/csv", "warehouse,sku,item_code,pack_size\nparis,00042,000123,6\n", &res); code != http.StatusOK || res.Changes != 1 {
		t.Fatalf("import: %d %s", code, raw)
	}
	code, exported := a.do("GET", "/export?shop="+mapShop, "", "", nil)
	if code != http.StatusOK || !strings.HasPrefix(exported, strings.Join(mapping.CSVHeader, ",")+"\n") || !strings.Contains(exported, "paris,00042,000123,,6,") {
		t.Fatalf("export: %d %q", code, exported)
	}
	code, raw := a.do("POST", "/import?shop="+mapShop+who, "text/csv", "sku,item_code\nMUG-1,M-1\nMUG-1 ,M-2\n", nil)
	var bad struct {
		Error string
		Line  int
	}
	_ = json.Unmarshal([]byte(raw), &bad)
	if code != http.StatusBadRequest || bad.Line != 3 || !strings.Contains(bad.Error, "surrounding spaces") {
		t.Fatalf("bad import: %d %s", code, raw)
	}
	if _, again := a.do("GET", "/export?shop="+mapShop, "", "", nil); again != exported {
		t.Fatalf("a bad import changed the table:\n%s", again)
	}
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/set", `{"shop":"` + mapShop + `","actor":"alice","mapping":{"sku":"X"}}`, http.StatusBadRequest},                     // no reason
		{"/set", `{"shop":"` + mapShop + `","actor":"a","reason":"r","mapping":{"sku":" X"}}`, http.StatusBadRequest},           // bad SKU
		{"/set", `{"shop":"` + mapShop + `","actor":"a","reason":"r","mapping":{"sku":"X"},"colour":1}`, http.StatusBadRequest}, // unknown field
		{"/delete", `{"shop":"` + mapShop + `","actor":"a","reason":"r","sku":"NOPE"}`, http.StatusNotFound},
		{"/revert", `{"shop":"` + mapShop + `","actor":"a","reason":"r","to":999}`, http.StatusNotFound},
		{"/frobnicate", `{}`, http.StatusNotFound},
		{"/import?shop=" + mapShop, "sku\nX\n", http.StatusBadRequest}, // no actor, reason
	} {
		if code, raw := a.do("POST", c.path, "application/json", c.body, nil); code != c.want {
			t.Errorf("POST %s %s: %d %s, want %d", c.path, c.body, code, raw, c.want)
		}
	}
	for _, p := range []string{"", "/history", "/diff?from=1", "/export"} {
		if code, _ := a.do("GET", p, "", "", nil); code != http.StatusBadRequest {
			t.Errorf("GET %q without shop: %d", p, code)
		}
	}
	if code, _ := a.do("GET", "/diff?shop="+mapShop+"&from=yesterday", "", "", nil); code != http.StatusBadRequest {
		t.Errorf("diff from a bad point: %d", code)
	}
	if h, _ := store.Actions(context.Background(), a.st.Read, mapping.Target(mapShop), 10); len(h) != 1 {
		t.Fatalf("refused changes were recorded: %+v", h)
	}
}

// TestMappingAPIChecksShopAndWarehouse: with a configuration, a request
// for another shop is 404 and a change for a warehouse the shop does not
// have is 400.
func TestMappingAPIChecksShopAndWarehouse(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, store.SQLite)
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st, Config: &config.Config{Shops: []config.Shop{{Domain: mapShop, Warehouses: []config.Warehouse{{ID: "paris"}}}}}})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a := &mappingAPI{t: t, st: st, url: srv.URL + "/api/v1/mappings"}
	if code, raw := a.do("GET", "?shop=other.myshopify.com", "", "", nil); code != http.StatusNotFound {
		t.Errorf("other shop: %d %s", code, raw)
	}
	body := `{"shop":"` + mapShop + `","actor":"a","reason":"r","mapping":{"warehouse":"lyon","sku":"X"}}`
	if code, raw := a.do("POST", "/set", "application/json", body, nil); code != http.StatusBadRequest || !strings.Contains(raw, "lyon") {
		t.Errorf("unknown warehouse: %d %s", code, raw)
	}
	a.change("set", map[string]any{"actor": "a", "reason": "r", "mapping": map[string]any{"warehouse": "paris", "sku": "X", "item_code": "P-X"}})
}
