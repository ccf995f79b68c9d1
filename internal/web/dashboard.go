package web

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/backfill"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

//go:embed static
var static embed.FS

// ConnectorHealth is one warehouse connector as operators see it.
type ConnectorHealth struct {
	Shop        string    `json:"shop"`
	Warehouse   string    `json:"warehouse"`
	Kind        string    `json:"kind"`
	LastPoll    time.Time `json:"last_poll"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error,omitempty"`
	Events      int64     `json:"events"`
	Duplicates  int64     `json:"duplicates"`
	// Cursor is the stored position in the warehouse's event feed.
	Cursor string `json:"cursor"`
	// LagSeconds is the time since the last successful poll (-1: never).
	LagSeconds float64 `json:"lag_seconds"`
}

// Connectors reports the warehouse connectors' health.
type Connectors interface {
	ConnectorHealth(ctx context.Context) ([]ConnectorHealth, error)
}

// Pollers adapts the hub's event-feed pollers to Connectors: each poller's
// health, its stored cursor (from st) and its connector's kind (from
// tenants, which may be nil).
func Pollers(st *store.Store, ps []*wmsfeed.Poller, tenants *tenant.Registry) Connectors {
	return pollers{st: st, ps: ps, tenants: tenants}
}

type pollers struct {
	st      *store.Store
	ps      []*wmsfeed.Poller
	tenants *tenant.Registry
}

// ConnectorHealth implements Connectors.
func (p pollers) ConnectorHealth(ctx context.Context) ([]ConnectorHealth, error) {
	out := make([]ConnectorHealth, 0, len(p.ps))
	for _, poller := range p.ps {
		h := poller.Health()
		c := ConnectorHealth{Shop: poller.Shop, Warehouse: poller.Warehouse, LastPoll: h.LastPoll, LastSuccess: h.LastSuccess,
			LastError: h.LastError, Events: h.Events, Duplicates: h.Duplicates, LagSeconds: -1}
		if p.tenants != nil {
			if s, ok := p.tenants.Shop(poller.Shop); ok {
				if wh, ok := s.Warehouse(poller.Warehouse); ok {
					c.Kind = wh.Kind
				}
			}
		}
		if !h.LastSuccess.IsZero() {
			c.LagSeconds = time.Since(h.LastSuccess).Seconds()
		}
		if p.st != nil {
			cur, err := store.Cursor(ctx, p.st.Read, poller.Shop, feedCursor(poller.Warehouse))
			if err != nil {
				return nil, fmt.Errorf("web: cursor of %s/%s: %w", poller.Shop, poller.Warehouse, err)
			}
			c.Cursor = cur
		}
		out = append(out, c)
	}
	return out, nil
}

// feedCursor is the name under which wmsfeed stores a warehouse's event
// feed cursor (wmsfeed.Poller.cursorName).
func feedCursor(warehouse string) string { return "wms:" + warehouse + ":events" }

// Discrepancy is one finding of reconciliation.
type Discrepancy struct {
	ID       int64  `json:"id"`
	Shop     string `json:"shop"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// State is "open" or "closed".
	State string `json:"state"`
	// Entities are what the discrepancy is about (order, SKU × location…).
	Entities     []string   `json:"entities"`
	Message      string     `json:"message"`
	SuggestedFix string     `json:"suggested_fix"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
}

// DiscrepancyFilter selects discrepancies; empty fields select all.
type DiscrepancyFilter struct {
	Shop     string
	State    string
	Kind     string
	Severity string
	Limit    int
}

// Discrepancies reads reconciliation's findings.
type Discrepancies interface {
	// ListDiscrepancies returns the discrepancies passing f, most recently
	// seen first.
	ListDiscrepancies(ctx context.Context, f DiscrepancyFilter) ([]Discrepancy, error)
	// OpenDiscrepancies counts the open discrepancies by kind.
	OpenDiscrepancies(ctx context.Context) (map[string]int, error)
}

// mountDashboard adds the dashboard's pages, their JSON and the static files.
func mountDashboard(mux *http.ServeMux, d Deps) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /overview", d.overviewPage)
	mux.HandleFunc("GET /api/v1/overview", d.overviewJSON)
	mux.HandleFunc("GET /connectors", d.connectorsPage)
	mux.HandleFunc("GET /api/v1/connectors", d.connectorsJSON)
	mux.HandleFunc("GET /discrepancies", d.discrepanciesPage)
	mux.HandleFunc("GET /api/v1/discrepancies", d.discrepanciesJSON)
	mux.HandleFunc("GET /config", d.configPage)
	mux.HandleFunc("GET /api/v1/config", d.configJSON)
	mux.HandleFunc("GET /operations", d.operationsPage)
	mux.HandleFunc("GET /api/v1/operations", d.operationsJSON)
}

// page renders a whole page, or only its fragment for htmx.
func page(w http.ResponseWriter, r *http.Request, name string, data any) {
	if isHTMX(r) {
		render(w, name+"-body", data)
		return
	}
	render(w, name+".html", data)
}

func fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	http.Error(w, err.Error(), code)
}

// Overview is the dashboard's first page.
type Overview struct {
	Now time.Time `json:"now"`
	// Hours are the orders created in each of the last 24 hours, by
	// current state, oldest first.
	Hours    []HourBucket      `json:"orders_per_hour"`
	States   []string          `json:"states"`
	LeadTime LeadTime          `json:"lead_time"`
	Sync     []SyncLag         `json:"sync"`
	Feeds    []ConnectorHealth `json:"feeds"`
	// Discrepancies counts the open discrepancies by kind; nil when
	// reconciliation is not enabled.
	Discrepancies map[string]int `json:"open_discrepancies"`
	// Scanned is how many recent orders the figures are computed from.
	Scanned int `json:"orders_scanned"`
}

// HourBucket is the orders created in one hour, by state.
type HourBucket struct {
	Start   time.Time      `json:"start"`
	ByState map[string]int `json:"by_state"`
	Total   int            `json:"total"`
}

// LeadTime is the order-to-ship time of shipped warehouse orders, from the
// order's arrival in the hub to the warehouse's shipment.
type LeadTime struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_seconds"`
	P90   float64 `json:"p90_seconds"`
	P99   float64 `json:"p99_seconds"`
	Max   float64 `json:"max_seconds"`
}

// SyncLag is how current a shop's stock and order polling are.
type SyncLag struct {
	Shop  string          `json:"shop"`
	Stock *stock.Progress `json:"stock,omitempty"`
	// StockAgeSeconds is the time since the last stock sync progressed
	// (-1: never ran).
	StockAgeSeconds float64 `json:"stock_age_seconds"`
	// Backfill is the stored Shopify updated_at up to which orders were
	// polled (missed webhooks), "" when it never ran.
	Backfill string `json:"backfill_cursor"`
}

// overviewScan bounds the orders the overview computes from.
const overviewScan = 2000

func (d Deps) overview(ctx context.Context) (*Overview, error) {
	now := time.Now().UTC()
	ov := &Overview{Now: now}
	orders, err := store.ListOrders(ctx, d.Store.Read, "", "", overviewScan)
	if err != nil {
		return nil, err
	}
	ov.Scanned = len(orders)
	start := now.Truncate(time.Hour).Add(-23 * time.Hour)
	ov.Hours = make([]HourBucket, 24)
	for i := range ov.Hours {
		ov.Hours[i] = HourBucket{Start: start.Add(time.Duration(i) * time.Hour), ByState: map[string]int{}}
	}
	states := map[string]bool{}
	var leads []float64
	for _, o := range orders {
		if i := int(o.CreatedAt.Sub(start) / time.Hour); !o.CreatedAt.Before(start) && i < 24 {
			ov.Hours[i].ByState[o.State]++
			ov.Hours[i].Total++
			states[o.State] = true
		}
		if o.State != store.OrderFulfilled && o.State != store.OrderInProgress {
			continue
		}
		wos, err := store.WarehouseOrdersOf(ctx, d.Store.Read, o.Shop, o.OrderID)
		if err != nil {
			return nil, err
		}
		for _, wo := range wos {
			if wo.ShippedAt != nil {
				leads = append(leads, wo.ShippedAt.Sub(o.CreatedAt).Seconds())
			}
		}
	}
	for s := range states {
		ov.States = append(ov.States, s)
	}
	sort.Strings(ov.States)
	ov.LeadTime = leadTime(leads)
	if ov.Feeds, err = d.connectorHealth(ctx); err != nil {
		return nil, err
	}
	if ov.Sync, err = d.syncLags(ctx, now); err != nil {
		return nil, err
	}
	if d.Discrepancies != nil {
		if ov.Discrepancies, err = d.Discrepancies.OpenDiscrepancies(ctx); err != nil {
			return nil, err
		}
	}
	return ov, nil
}

// leadTime summarises durations in seconds by nearest-rank percentiles.
func leadTime(xs []float64) LeadTime {
	if len(xs) == 0 {
		return LeadTime{}
	}
	sort.Float64s(xs)
	// rank is the nearest-rank percentile: the smallest duration with at
	// least pct % of the durations at or below it.
	rank := func(pct int) float64 {
		i := (pct*len(xs)+99)/100 - 1
		return xs[max(0, min(i, len(xs)-1))]
	}
	return LeadTime{Count: len(xs), P50: rank(50), P90: rank(90), P99: rank(99), Max: xs[len(xs)-1]}
}

func (d Deps) shops() []string {
	if d.Tenants == nil {
		return nil
	}
	var out []string
	for _, s := range d.Tenants.Shops() {
		out = append(out, s.Domain)
	}
	return out
}

func (d Deps) syncLags(ctx context.Context, now time.Time) ([]SyncLag, error) {
	var out []SyncLag
	for _, shop := range d.shops() {
		l := SyncLag{Shop: shop, StockAgeSeconds: -1}
		v, err := store.Cursor(ctx, d.Store.Read, shop, stock.ProgressCursor)
		if err != nil {
			return nil, err
		}
		if v != "" {
			var p stock.Progress
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				return nil, fmt.Errorf("web: stock progress of %s: %w", shop, err)
			}
			l.Stock = &p
			l.StockAgeSeconds = now.Sub(p.Updated).Seconds()
		}
		if l.Backfill, err = store.Cursor(ctx, d.Store.Read, shop, backfill.CursorName); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func (d Deps) connectorHealth(ctx context.Context) ([]ConnectorHealth, error) {
	if d.Connectors == nil {
		return nil, nil
	}
	cs, err := d.Connectors.ConnectorHealth(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Shop != cs[j].Shop {
			return cs[i].Shop < cs[j].Shop
		}
		return cs[i].Warehouse < cs[j].Warehouse
	})
	return cs, nil
}

// chart is the SVG of orders per hour, stacked by state.
type chart struct {
	Width, Height int
	Bars          []bar
	Labels        []label
	Legend        []legend
	Max           int
}

type bar struct {
	X, Y, W, H int
	State      string
	Title      string
}

type label struct {
	X    int
	Text string
}

type legend struct {
	X     int
	State string
}

// stateColors are the bars' fills; states not listed are grey.
var stateColors = map[string]string{
	store.OrderReceived: "#9aa5c4", store.OrderInProgress: "#e0b43c", store.OrderFulfilled: "#3c9a5a",
	store.OrderHeld: "#d0573f", store.OrderRejected: "#8b1e3f", store.OrderCancelled: "#6d6d6d",
}

func fill(state string) string {
	if c, ok := stateColors[state]; ok {
		return c
	}
	return "#b0b0b0"
}

func hourChart(ov *Overview) chart {
	const barW, gap, plotH, top = 24, 6, 160, 10
	c := chart{Width: 24 * (barW + gap), Height: plotH + top + 40}
	for _, h := range ov.Hours {
		c.Max = max(c.Max, h.Total)
	}
	scale := 1.0
	if c.Max > 0 {
		scale = float64(plotH) / float64(c.Max)
	}
	for i, h := range ov.Hours {
		x := i * (barW + gap)
		y := top + plotH
		for _, s := range ov.States {
			n := h.ByState[s]
			if n == 0 {
				continue
			}
			ht := max(1, int(float64(n)*scale+0.5))
			y -= ht
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: barW, H: ht, State: s,
				Title: fmt.Sprintf("%s %s: %d", h.Start.Format("15:04"), s, n)})
		}
		if i%3 == 0 {
			c.Labels = append(c.Labels, label{X: x, Text: h.Start.Format("15h")})
		}
	}
	for i, s := range ov.States {
		c.Legend = append(c.Legend, legend{X: i * 110, State: s})
	}
	return c
}

func (d Deps) overviewPage(w http.ResponseWriter, r *http.Request) {
	ov, err := d.overview(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	page(w, r, "overview", map[string]any{"O": ov, "Chart": hourChart(ov), "Reconcile": d.Discrepancies != nil})
}

func (d Deps) overviewJSON(w http.ResponseWriter, r *http.Request) {
	ov, err := d.overview(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, ov)
}

func (d Deps) connectorsPage(w http.ResponseWriter, r *http.Request) {
	cs, err := d.connectorHealth(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	page(w, r, "connectors", map[string]any{"Connectors": cs, "Enabled": d.Connectors != nil})
}

func (d Deps) connectorsJSON(w http.ResponseWriter, r *http.Request) {
	cs, err := d.connectorHealth(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if cs == nil {
		cs = []ConnectorHealth{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"connectors": cs})
}

func discrepancyFilter(r *http.Request) DiscrepancyFilter {
	q := r.URL.Query()
	f := DiscrepancyFilter{Shop: q.Get("shop"), State: q.Get("state"), Kind: q.Get("kind"), Severity: q.Get("severity"), Limit: 500}
	if f.State == "" {
		f.State = "open"
	}
	if f.State == "all" {
		f.State = ""
	}
	return f
}

func (d Deps) discrepanciesPage(w http.ResponseWriter, r *http.Request) {
	f := discrepancyFilter(r)
	data := map[string]any{"Enabled": d.Discrepancies != nil, "Filter": f, "StateParam": r.URL.Query().Get("state")}
	if d.Discrepancies != nil {
		ds, err := d.Discrepancies.ListDiscrepancies(r.Context(), f)
		if err != nil {
			fail(w, r, http.StatusInternalServerError, err)
			return
		}
		data["Discrepancies"] = ds
	}
	page(w, r, "discrepancies", data)
}

func (d Deps) discrepanciesJSON(w http.ResponseWriter, r *http.Request) {
	if d.Discrepancies == nil {
		writeJSON(w, http.StatusOK, map[string]any{"enabled": false, "discrepancies": []Discrepancy{}})
		return
	}
	ds, err := d.Discrepancies.ListDiscrepancies(r.Context(), discrepancyFilter(r))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if ds == nil {
		ds = []Discrepancy{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "discrepancies": ds})
}

// maskedYAML renders the configuration with its secrets masked.
func (d Deps) maskedYAML() (string, error) {
	if d.Config == nil {
		return "", nil
	}
	b, err := yaml.Marshal(d.Config.Masked())
	if err != nil {
		return "", fmt.Errorf("web: configuration as YAML: %w", err)
	}
	return string(b), nil
}

func (d Deps) configPage(w http.ResponseWriter, r *http.Request) {
	y, err := d.maskedYAML()
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	page(w, r, "config", map[string]any{"YAML": y, "Loaded": d.Config != nil})
}

func (d Deps) configJSON(w http.ResponseWriter, r *http.Request) {
	if d.Config == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no configuration loaded"})
		return
	}
	y, err := d.maskedYAML()
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	// The YAML's structure, as JSON: the same names as the file.
	var v any
	if err := yaml.Unmarshal([]byte(y), &v); err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"config": v, "yaml": y})
}

// Operations are the long operations' progress.
type Operations struct {
	Sync []SyncLag `json:"shops"`
}

func (d Deps) operationsPage(w http.ResponseWriter, r *http.Request) {
	ls, err := d.syncLags(r.Context(), time.Now().UTC())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	page(w, r, "operations", Operations{Sync: ls})
}

func (d Deps) operationsJSON(w http.ResponseWriter, r *http.Request) {
	ls, err := d.syncLags(r.Context(), time.Now().UTC())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if ls == nil {
		ls = []SyncLag{}
	}
	writeJSON(w, http.StatusOK, Operations{Sync: ls})
}

// secondsText shows a duration in seconds the way operators read it;
// negative means never.
func secondsText(s float64) string {
	if s < 0 {
		return "never"
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Minute).String()
	}
}

// percent is done/total in whole percent (0 when total is 0).
func percent(done, total int) int {
	if total <= 0 {
		return 0
	}
	return min(100, done*100/total)
}
