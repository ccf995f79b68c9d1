package web

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// mountStock adds the stock pages and endpoints: levels per SKU × location
// with the engine's target and what Shopify holds, one level's explanation
// (the formula's parts and its ledger), and the progress of the last sync.
func mountStock(mux *http.ServeMux, d Deps) {
	if d.Tenants == nil {
		return
	}
	mux.HandleFunc("GET /stock", d.stockPage)
	mux.HandleFunc("GET /stock/explain", d.stockExplainPage)
	mux.HandleFunc("GET /api/v1/stock/levels", d.stockLevelsJSON)
	mux.HandleFunc("GET /api/v1/stock/explain", d.stockExplainJSON)
	mux.HandleFunc("GET /api/v1/stock/sync", d.stockSyncJSON)
}

// stockLevel is one row of the stock page.
type stockLevel struct {
	store.LocationLevel
	Warehouses string `json:"warehouses"`
	InSync     bool   `json:"in_sync"`
}

// stockShop resolves the shop of a request (?shop=, default the first).
func (d Deps) stockShop(r *http.Request) (*tenant.Shop, bool) {
	want := r.URL.Query().Get("shop")
	for _, s := range d.Tenants.Shops() {
		if want == "" || s.Domain == want {
			return s, true
		}
	}
	return nil, false
}

func (d Deps) stockLevels(r *http.Request) (*tenant.Shop, []stockLevel, error) {
	t, ok := d.stockShop(r)
	if !ok {
		return nil, nil, nil
	}
	all, err := store.LocationLevels(r.Context(), d.Store.Read, t.Domain, r.URL.Query().Get("location"))
	if err != nil {
		return t, nil, err
	}
	names := map[string]string{}
	for _, wh := range t.Warehouses {
		if names[wh.LocationID] != "" {
			names[wh.LocationID] += ", "
		}
		names[wh.LocationID] += wh.ID
	}
	sku := r.URL.Query().Get("sku")
	var out []stockLevel
	for loc, levels := range all {
		for _, l := range levels {
			if sku != "" && l.SKU != sku {
				continue
			}
			in := l.Target != nil && l.ShopifyAvailable != nil && *l.Target == *l.ShopifyAvailable
			out = append(out, stockLevel{LocationLevel: l, Warehouses: names[loc], InSync: in})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SKU != out[j].SKU {
			return out[i].SKU < out[j].SKU
		}
		return out[i].LocationID < out[j].LocationID
	})
	if len(out) > 1000 {
		out = out[:1000]
	}
	return t, out, nil
}

func (d Deps) syncProgress(r *http.Request, shop string) *stock.Progress {
	v, err := store.Cursor(r.Context(), d.Store.Read, shop, stock.ProgressCursor)
	if err != nil || v == "" {
		return nil
	}
	var p stock.Progress
	if json.Unmarshal([]byte(v), &p) != nil {
		return nil
	}
	return &p
}

func (d Deps) stockPage(w http.ResponseWriter, r *http.Request) {
	t, levels, err := d.stockLevels(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if t == nil {
		http.Error(w, "unknown shop", http.StatusNotFound)
		return
	}
	render(w, "stock.html", map[string]any{"Shop": t.Domain, "Levels": levels, "Progress": d.syncProgress(r, t.Domain), "SKU": r.URL.Query().Get("sku")})
}

func (d Deps) stockLevelsJSON(w http.ResponseWriter, r *http.Request) {
	t, levels, err := d.stockLevels(r)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if t == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown shop"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop": t.Domain, "levels": levels})
}

func (d Deps) explain(r *http.Request) (*stock.Explanation, int, error) {
	t, ok := d.stockShop(r)
	if !ok {
		return nil, http.StatusNotFound, errString("unknown shop")
	}
	q := r.URL.Query()
	if q.Get("location") == "" || q.Get("sku") == "" {
		return nil, http.StatusBadRequest, errString("location and sku are required")
	}
	ex, err := stock.ExplainLevel(r.Context(), d.Store, t, q.Get("location"), q.Get("sku"))
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	return ex, http.StatusOK, nil
}

func (d Deps) stockExplainJSON(w http.ResponseWriter, r *http.Request) {
	ex, code, err := d.explain(r)
	if err != nil {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, ex)
}

func (d Deps) stockExplainPage(w http.ResponseWriter, r *http.Request) {
	ex, code, err := d.explain(r)
	if err != nil {
		http.Error(w, err.Error(), code)
		return
	}
	render(w, "explain.html", ex)
}

func (d Deps) stockSyncJSON(w http.ResponseWriter, r *http.Request) {
	t, ok := d.stockShop(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown shop"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop": t.Domain, "progress": d.syncProgress(r, t.Domain)})
}

type errString string

func (e errString) Error() string { return string(e) }
