// Package web serves the hub's pages: orders with their state and timeline,
// rendered with html/template, and the same data as JSON under /api/v1.
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
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
	"dur":  secondsText,
	"fill": fill,
	"pct":  percent,
	"join": strings.Join,
}).ParseFS(templates, "templates/*.html"))

// Deps are what the pages read.
type Deps struct {
	Store  *store.Store
	Config *config.Config
	// Jobs enables the dead-letter endpoints when set.
	Jobs Jobs
	// Tenants enables the stock pages and endpoints when set.
	Tenants *tenant.Registry
	// Connectors reports the warehouse connectors' health for the
	// connectors page (web.Pollers adapts the hub's wmsfeed pollers); nil
	// shows no connector.
	Connectors Connectors
	// Discrepancies reads reconciliation's findings; nil makes the
	// discrepancies page say that reconciliation is not enabled.
	Discrepancies Discrepancies
}

// Mount adds the pages and the JSON endpoints to mux.
func Mount(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /{$}", d.orders)
	mux.HandleFunc("GET /order", d.order)
	mux.HandleFunc("GET /api/v1/orders", d.ordersJSON)
	mux.HandleFunc("GET /api/v1/orders/detail", d.orderJSON)
	mux.HandleFunc("GET /api/v1/orders/timeline", d.timelineJSON)
	mountMappings(mux, d)
	mountStock(mux, d)
	if d.Jobs != nil {
		mux.HandleFunc("GET /deadletters", d.deadLettersPage)
		mux.HandleFunc("GET /api/v1/deadletters", d.deadLettersJSON)
		mux.HandleFunc("POST /api/v1/deadletters/{id}/{action}", d.deadLetterAction)
		mux.HandleFunc("POST /deadletters/{id}", d.deadLetterForm)
	}
	mountDashboard(mux, d)
}

type orderRow struct {
	store.Order
	Warehouses []store.WarehouseOrder
}

func (d Deps) orders(w http.ResponseWriter, r *http.Request) {
	q, err := parseOrderQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rows, counts, err := d.searchOrders(r.Context(), q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
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
	data := map[string]any{"Orders": rows, "Counts": cs, "Total": total, "State": q.State, "Query": q, "Warehouses": d.warehouseIDs()}
	if isHTMX(r) {
		render(w, "orders-rows", data)
		return
	}
	render(w, "orders.html", data)
}

func (d Deps) order(w http.ResponseWriter, r *http.Request) {
	det, err := d.orderDetail(r.Context(), r.URL.Query().Get("shop"), r.URL.Query().Get("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, "order.html", det)
}

func (d Deps) ordersJSON(w http.ResponseWriter, r *http.Request) {
	q, err := parseOrderQuery(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	rows, counts, err := d.searchOrders(r.Context(), q)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	orders := make([]store.Order, len(rows))
	for i, o := range rows {
		orders[i] = o.Order
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
