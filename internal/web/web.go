// Package web serves the hub's pages: orders with their state and timeline,
// rendered with html/template, and the same data as JSON under /api/v1.
package web

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strconv"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ts": func(t any) string {
		switch v := t.(type) {
		case interface{ Format(string) string }:
			return v.Format("2006-01-02 15:04:05.000")
		}
		return ""
	},
}).ParseFS(templates, "templates/*.html"))

// Deps are what the pages read.
type Deps struct {
	Store  *store.Store
	Config *config.Config
	// Jobs enables the dead-letter endpoints when set.
	Jobs Jobs
}

// Mount adds the pages and the JSON endpoints to mux.
func Mount(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /{$}", d.orders)
	mux.HandleFunc("GET /order", d.order)
	mux.HandleFunc("GET /api/v1/orders", d.ordersJSON)
	mux.HandleFunc("GET /api/v1/orders/timeline", d.timelineJSON)
	if d.Jobs != nil {
		mux.HandleFunc("GET /deadletters", d.deadLettersPage)
		mux.HandleFunc("GET /api/v1/deadletters", d.deadLettersJSON)
		mux.HandleFunc("POST /api/v1/deadletters/{id}/{action}", d.deadLetterAction)
	}
}

type orderRow struct {
	store.Order
	Warehouses []store.WarehouseOrder
}

func (d Deps) list(r *http.Request) ([]store.Order, map[string]int, error) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := r.URL.Query()
	orders, err := store.ListOrders(r.Context(), d.Store.Read, q.Get("shop"), q.Get("state"), limit)
	if err != nil {
		return nil, nil, err
	}
	counts, err := store.CountOrdersByState(r.Context(), d.Store.Read, q.Get("shop"))
	return orders, counts, err
}

func (d Deps) orders(w http.ResponseWriter, r *http.Request) {
	orders, counts, err := d.list(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rows := make([]orderRow, len(orders))
	for i, o := range orders {
		rows[i].Order = o
		rows[i].Warehouses, _ = store.WarehouseOrdersOf(r.Context(), d.Store.Read, o.Shop, o.OrderID)
	}
	type kv struct {
		State string
		N     int
	}
	var cs []kv
	total := 0
	for s, n := range counts {
		cs = append(cs, kv{s, n})
		total += n
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].State < cs[j].State })
	render(w, "orders.html", map[string]any{"Orders": rows, "Counts": cs, "Total": total, "State": r.URL.Query().Get("state")})
}

func (d Deps) order(w http.ResponseWriter, r *http.Request) {
	shop, id := r.URL.Query().Get("shop"), r.URL.Query().Get("id")
	o, err := store.GetOrder(r.Context(), d.Store.Read, shop, id)
	if err == store.ErrNotFound {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tl, err := store.Timeline(r.Context(), d.Store.Read, shop, id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	wos, _ := store.WarehouseOrdersOf(r.Context(), d.Store.Read, shop, id)
	type woView struct {
		store.WarehouseOrder
		Shipments []store.Shipment
	}
	var views []woView
	for _, wo := range wos {
		ships, _ := store.ShipmentsOf(r.Context(), d.Store.Read, shop, wo.Order.ExternalRef)
		views = append(views, woView{wo, ships})
	}
	render(w, "order.html", map[string]any{"Order": o, "Timeline": tl, "WarehouseOrders": views})
}

func (d Deps) ordersJSON(w http.ResponseWriter, r *http.Request) {
	orders, counts, err := d.list(r)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders, "counts": counts})
}

func (d Deps) timelineJSON(w http.ResponseWriter, r *http.Request) {
	tl, err := store.Timeline(r.Context(), d.Store.Read, r.URL.Query().Get("shop"), r.URL.Query().Get("id"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"timeline": tl})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
