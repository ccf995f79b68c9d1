package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/mapping"
)

// The mapping endpoints (package mapping). Every request names its shop
// (?shop= or "shop" in the body); every change names its actor and reason,
// is a new version and an operator action.
//
//	GET  /api/v1/mappings?shop=S[&at=TIME]             {"mappings": [...]} in force at TIME (default now)
//	GET  /api/v1/mappings/history?shop=S[&warehouse=W][&sku=K][&limit=N]   {"versions": [...]}, newest first
//	GET  /api/v1/mappings/diff?shop=S&from=POINT[&to=POINT]               {"changes": [...]}; POINT: VERSION, TIME or VERSION@TIME
//	GET  /api/v1/mappings/export?shop=S[&at=TIME]      text/csv (mapping.CSVHeader)
//	POST /api/v1/mappings/set     {"shop","actor","reason","mapping":{warehouse,sku,item_code,uom,pack_size,variant_id,inventory_item_id,effective_from}}
//	POST /api/v1/mappings/delete  {"shop","actor","reason","warehouse","sku","effective_from"}
//	POST /api/v1/mappings/revert  {"shop","actor","reason","to": VERSION}
//	POST /api/v1/mappings/import?shop=S&actor=A&reason=R   body: the CSV; a bad row → 400 with its line, nothing applied
//
// Changes answer {"version": N, "changes": n} (version 0: nothing changed).
func mountMappings(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /api/v1/mappings", d.mappingsList)
	mux.HandleFunc("GET /api/v1/mappings/history", d.mappingsHistory)
	mux.HandleFunc("GET /api/v1/mappings/diff", d.mappingsDiff)
	mux.HandleFunc("GET /api/v1/mappings/export", d.mappingsExport)
	mux.HandleFunc("POST /api/v1/mappings/import", d.mappingsImport)
	mux.HandleFunc("POST /api/v1/mappings/{action}", d.mappingsChange)
}

func (d Deps) mappingTable() *mapping.Table { return mapping.New(d.Store) }

// mappingShop checks the shop named by a request.
func (d Deps) mappingShop(w http.ResponseWriter, shop string) bool {
	if strings.TrimSpace(shop) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "shop is required"})
		return false
	}
	if d.Config != nil && len(d.Config.Shops) > 0 && !slices.ContainsFunc(d.Config.Shops, func(s config.Shop) bool { return strings.EqualFold(s.Domain, shop) }) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown shop " + shop})
		return false
	}
	return true
}

// mappingWarehouse checks, when the hub has a configuration, that a
// change names one of the shop's warehouses (or "" for every warehouse).
func (d Deps) mappingWarehouse(w http.ResponseWriter, shop, warehouse string) bool {
	if warehouse == "" || d.Config == nil {
		return true
	}
	for _, s := range d.Config.Shops {
		if !strings.EqualFold(s.Domain, shop) {
			continue
		}
		for _, wh := range s.Warehouses {
			if wh.ID == warehouse {
				return true
			}
		}
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "warehouse " + warehouse + " is not configured for " + shop})
	return false
}

func mappingError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var re *mapping.RowError
	switch {
	case errors.As(err, &re):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "line": re.Line})
		return
	case errors.Is(err, mapping.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, mapping.ErrInvalid):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func (d Deps) mappingsList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !d.mappingShop(w, q.Get("shop")) {
		return
	}
	at, err := mapping.ParseTime(q.Get("at"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "at: " + err.Error()})
		return
	}
	ms, err := d.mappingTable().List(r.Context(), q.Get("shop"), at)
	if err != nil {
		mappingError(w, err)
		return
	}
	if ms == nil {
		ms = []mapping.Mapping{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"mappings": ms})
}

func (d Deps) mappingsHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !d.mappingShop(w, q.Get("shop")) {
		return
	}
	f := mapping.Filter{Warehouse: q.Get("warehouse"), SKU: q.Get("sku")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a whole number"})
			return
		}
		f.Limit = n
	}
	vs, err := d.mappingTable().History(r.Context(), q.Get("shop"), f)
	if err != nil {
		mappingError(w, err)
		return
	}
	if vs == nil {
		vs = []mapping.Version{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (d Deps) mappingsDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !d.mappingShop(w, q.Get("shop")) {
		return
	}
	if q.Get("from") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "from is required (VERSION, TIME or VERSION@TIME)"})
		return
	}
	from, err := mapping.ParsePoint(q.Get("from"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "from: " + err.Error()})
		return
	}
	to, err := mapping.ParsePoint(q.Get("to"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "to: " + err.Error()})
		return
	}
	cs, err := d.mappingTable().Diff(r.Context(), q.Get("shop"), from, to)
	if err != nil {
		mappingError(w, err)
		return
	}
	if cs == nil {
		cs = []mapping.Change{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "changes": cs})
}

func (d Deps) mappingsExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !d.mappingShop(w, q.Get("shop")) {
		return
	}
	at, err := mapping.ParseTime(q.Get("at"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "at: " + err.Error()})
		return
	}
	var buf bytes.Buffer
	if err := d.mappingTable().Export(r.Context(), q.Get("shop"), at, &buf); err != nil {
		mappingError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mappings.csv"`)
	_, _ = w.Write(buf.Bytes())
}

func (d Deps) mappingsImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !d.mappingShop(w, q.Get("shop")) {
		return
	}
	a := mapping.Author{Actor: strings.TrimSpace(q.Get("actor")), Reason: strings.TrimSpace(q.Get("reason"))}
	if a.Actor == "" || a.Reason == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "actor and reason are required (query parameters)"})
		return
	}
	res, err := d.mappingTable().Import(r.Context(), q.Get("shop"), http.MaxBytesReader(w, r.Body, 32<<20), a)
	if err != nil {
		mappingError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// mappingChange is the body of POST /api/v1/mappings/{set,delete,revert}.
type mappingChange struct {
	Shop   string `json:"shop"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
	// Mapping is the mapping to set.
	Mapping *mapping.Mapping `json:"mapping,omitempty"`
	// Warehouse, SKU and EffectiveFrom name the mapping to delete.
	Warehouse     string    `json:"warehouse,omitempty"`
	SKU           string    `json:"sku,omitempty"`
	EffectiveFrom time.Time `json:"effective_from,omitzero"`
	// To is the version to revert to.
	To int64 `json:"to,omitempty"`
}

func (d Deps) mappingsChange(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	if action != "set" && action != "delete" && action != "revert" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "action is set, delete, revert or import"})
		return
	}
	var body mappingChange
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"shop\", \"actor\", \"reason\", …}: " + err.Error()})
		return
	}
	if !d.mappingShop(w, body.Shop) {
		return
	}
	a := mapping.Author{Actor: strings.TrimSpace(body.Actor), Reason: strings.TrimSpace(body.Reason)}
	if a.Actor == "" || a.Reason == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "actor and reason are required"})
		return
	}
	tab := d.mappingTable()
	var (
		res mapping.Result
		err error
	)
	wh := body.Warehouse
	if body.Mapping != nil {
		wh = body.Mapping.Warehouse
	}
	if !d.mappingWarehouse(w, body.Shop, wh) {
		return
	}
	switch action {
	case "set":
		if body.Mapping == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "mapping is required"})
			return
		}
		res, err = tab.Set(r.Context(), body.Shop, *body.Mapping, a)
	case "delete":
		if body.SKU == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sku is required"})
			return
		}
		res, err = tab.Delete(r.Context(), body.Shop, body.Warehouse, body.SKU, body.EffectiveFrom, a)
	case "revert":
		if body.To <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "to (a version) is required"})
			return
		}
		res, err = tab.Revert(r.Context(), body.Shop, body.To, a)
	}
	if err != nil {
		mappingError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
