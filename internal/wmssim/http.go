package wmssim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Feed page sizes for GET /v1/events.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
)

const maxBody = 1 << 20

// ServeHTTP implements the protocol of api/wms-openapi.yaml and the /_sim/
// control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", s.api(false, s.handleHealth))
	mux.HandleFunc("POST /v1/orders", s.api(true, s.handleCreate))
	mux.HandleFunc("GET /v1/orders/{external_ref}", s.api(true, s.handleGetOrder))
	mux.HandleFunc("POST /v1/orders/{external_ref}/cancel", s.api(true, s.handleCancel))
	mux.HandleFunc("PUT /v1/orders/{external_ref}", s.api(true, s.handleAmend))
	mux.HandleFunc("GET /v1/events", s.api(true, s.handleEvents))
	mux.HandleFunc("POST /v1/returns", s.api(true, s.handleReturn))
	mux.HandleFunc("GET /v1/stock", s.api(true, s.handleStock))
	mux.HandleFunc("GET /v1/items", s.api(true, s.handleItems))
	mux.HandleFunc("POST /_sim/items", s.handleSimItems)
	mux.HandleFunc("GET /_sim/state", s.handleSimState)
	mux.HandleFunc("GET /_sim/faults", s.handleSimFaults)
	mux.HandleFunc("POST /_sim/faults", s.handleSimFaults)
	mux.HandleFunc("POST /_sim/stock", s.handleSimStock)
	return mux
}

// apiError is the protocol's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, Field: field}})
}

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(int(math.Ceil(d.Seconds())), 1))
}

// api wraps a /v1 handler with latency, outage, throttling and (if auth)
// bearer-token checks, in that order.
func (s *Server) api(auth bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.Down || f.Throttle {
			s.count(func(st *Stats) { st.FaultedCalls++ })
			if f.Down {
				if f.RetryAfter > 0 {
					w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
				}
				writeError(w, http.StatusServiceUnavailable, "unavailable", "warehouse "+s.cfg.Name+" is down", "")
				return
			}
			w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
			writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests", "")
			return
		}
		if auth && s.cfg.Token != "" {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) != 1 {
				s.count(func(st *Stats) { st.Unauthorized++ })
				w.Header().Set("WWW-Authenticate", `Bearer realm="wms"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token", "")
				return
			}
		}
		h(w, r)
	}
}

func (s *Server) count(fn func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.stats)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "name": s.cfg.Name, "time": s.clock()})
}

// createResponse is the answer to POST /v1/orders.
type createResponse struct {
	ExternalRef string `json:"external_ref"`
	WMSOrderID  string `json:"wms_order_id"`
	Status      State  `json:"status"`
	Created     bool   `json:"created"`
}

// validate checks an incoming order; the first problem is reported.
func validate(wo *order.WarehouseOrder) *apiError {
	if strings.TrimSpace(wo.ExternalRef) == "" {
		return &apiError{"invalid", "external_ref is required", "external_ref"}
	}
	if len(wo.Lines) == 0 {
		return &apiError{"invalid", "an order needs at least one line", "lines"}
	}
	seen := make(map[int]bool, len(wo.Lines))
	for i, l := range wo.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		switch {
		case l.LineNo <= 0:
			return &apiError{"invalid", "line_no must be positive", f + ".line_no"}
		case seen[l.LineNo]:
			return &apiError{"invalid", fmt.Sprintf("line_no %d is repeated", l.LineNo), f + ".line_no"}
		case strings.TrimSpace(l.SKU) == "":
			return &apiError{"invalid", "sku is required", f + ".sku"}
		case l.Quantity <= 0:
			return &apiError{"invalid", "quantity must be positive", f + ".quantity"}
		}
		seen[l.LineNo] = true
	}
	if m := wo.ShipTo.Missing(); len(m) > 0 {
		return &apiError{"invalid", "ship_to is missing " + strings.Join(m, ", "), "ship_to." + m[0]}
	}
	return nil
}

// sameLines reports whether two orders ask for the same lines, in any order.
func sameLines(a, b []order.Line) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(l order.Line) string { return fmt.Sprintf("%d\x00%s\x00%d", l.LineNo, l.SKU, l.Quantity) }
	m := make(map[string]int, len(a))
	for _, l := range a {
		m[key(l)]++
	}
	for _, l := range b {
		k := key(l)
		if m[k] == 0 {
			return false
		}
		m[k]--
	}
	return true
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var wo order.WarehouseOrder
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&wo)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.CreateCalls++
	if err != nil {
		s.stats.Rejected++
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error(), "")
		return
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" && k != wo.ExternalRef {
		s.stats.Rejected++
		writeError(w, http.StatusUnprocessableEntity, "idempotency_key_mismatch",
			fmt.Sprintf("Idempotency-Key %q differs from external_ref %q", k, wo.ExternalRef), "external_ref")
		return
	}
	if e := validate(&wo); e != nil {
		s.stats.Rejected++
		writeError(w, http.StatusUnprocessableEntity, e.Code, e.Message, e.Field)
		return
	}
	if o, ok := s.orders[wo.ExternalRef]; ok {
		if !sameLines(o.wo.Lines, wo.Lines) {
			s.stats.Conflicts++
			writeError(w, http.StatusConflict, "conflict",
				fmt.Sprintf("external_ref %s was already used for an order with different lines (%s)", wo.ExternalRef, o.id), "lines")
			return
		}
		s.stats.IdempotentReplay++
		writeJSON(w, http.StatusOK, createResponse{ExternalRef: wo.ExternalRef, WMSOrderID: o.id, Status: wireState(o.state)})
		return
	}
	now := s.clock()
	o := &simOrder{wo: wo, seq: len(s.bySeq) + 1, state: StateReceived}
	o.id = s.newID("O", o.seq)
	o.times.ReceivedAt = now
	s.orders[wo.ExternalRef] = o
	s.bySeq = append(s.bySeq, o)
	s.stats.OrdersReceived++
	s.schedule(o, now.Add(s.cfg.AckDelay))
	writeJSON(w, http.StatusCreated, createResponse{ExternalRef: wo.ExternalRef, WMSOrderID: o.id, Status: o.state, Created: true})
}

// orderResponse is the answer to GET /v1/orders/{external_ref}.
type orderResponse struct {
	ExternalRef string           `json:"external_ref"`
	WMSOrderID  string           `json:"wms_order_id"`
	Status      State            `json:"status"`
	Backordered bool             `json:"backordered"`
	Shipments   []order.Shipment `json:"shipments"`
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("external_ref")
	st, ok := s.Order(ref)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no order with external_ref "+ref, "external_ref")
		return
	}
	if st.Shipments == nil {
		st.Shipments = []order.Shipment{}
	}
	writeJSON(w, http.StatusOK, orderResponse{ExternalRef: st.ExternalRef, WMSOrderID: st.WMSOrderID,
		Status: wireState(st.State), Backordered: st.Backordered, Shipments: st.Shipments})
}

// cancelResponse is the answer to POST /v1/orders/{external_ref}/cancel.
type cancelResponse struct {
	Cancelled bool   `json:"cancelled"`
	Reason    string `json:"reason,omitempty"`
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("external_ref")
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[ref]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no order with external_ref "+ref, "external_ref")
		return
	}
	ok, reason := s.cancel(o, s.clock())
	writeJSON(w, http.StatusOK, cancelResponse{Cancelled: ok, Reason: reason})
}

// eventsResponse is a page of the event feed.
type eventsResponse struct {
	Events     []connector.Event `json:"events"`
	NextCursor string            `json:"next_cursor"`
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultEventLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be a positive integer", "limit")
			return
		}
		limit = min(n, MaxEventLimit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	after := 0
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > len(s.feed) {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor "+strconv.Quote(v)+" is not a position in this feed", "after")
			return
		}
		after = n
	}
	end := min(after+limit, len(s.feed))
	writeJSON(w, http.StatusOK, eventsResponse{Events: slices.Clone(s.feed[after:end]), NextCursor: strconv.Itoa(end)})
}

func (s *Server) stockItems() []StockItem {
	m := s.Stock()
	items := make([]StockItem, 0, len(m))
	for _, it := range m {
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b StockItem) int { return strings.Compare(a.SKU, b.SKU) })
	return items
}

func (s *Server) handleStock(w http.ResponseWriter, r *http.Request) {
	asOf := s.clock()
	items := s.stockItems()
	out := connector.StockSnapshot{AsOf: asOf, Full: true, Items: make([]connector.StockItem, len(items))}
	for i, it := range items {
		out.Items[i] = connector.StockItem{SKU: it.SKU, OnHand: it.OnHand, Available: it.Available}
	}
	writeJSON(w, http.StatusOK, out)
}

// faultsJSON is the /_sim/faults representation; in a POST every field is
// optional and only the fields present change.
type faultsJSON struct {
	Down               *bool    `json:"down,omitempty"`
	Throttle           *bool    `json:"throttle,omitempty"`
	Latency            *string  `json:"latency,omitempty"`
	RetryAfter         *string  `json:"retry_after,omitempty"`
	DuplicateEventRate *float64 `json:"duplicate_event_rate,omitempty"`
	MultiPackageRate   *float64 `json:"multi_package_rate,omitempty"`
	PartialShipRate    *float64 `json:"partial_ship_rate,omitempty"`
}

func (s *Server) faultsView() faultsJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	lat, ra := f.Latency.String(), f.RetryAfter.String()
	mr, pr := s.multiRate, s.partRate
	return faultsJSON{Down: &f.Down, Throttle: &f.Throttle, Latency: &lat, RetryAfter: &ra,
		DuplicateEventRate: &f.DuplicateEventRate, MultiPackageRate: &mr, PartialShipRate: &pr}
}

func (s *Server) handleSimFaults(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var p faultsJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error(), "")
			return
		}
		if err := s.patchFaults(p); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error(), "")
			return
		}
	}
	writeJSON(w, http.StatusOK, s.faultsView())
}

func (s *Server) patchFaults(p faultsJSON) error {
	dur := func(v *string, dst *time.Duration) error {
		if v == nil {
			return nil
		}
		d, err := time.ParseDuration(*v)
		if err != nil || d < 0 {
			return fmt.Errorf("invalid duration %q", *v)
		}
		*dst = d
		return nil
	}
	rate := func(v *float64, dst *float64) error {
		if v == nil {
			return nil
		}
		if *v < 0 || *v > 1 || math.IsNaN(*v) {
			return fmt.Errorf("rate %v is outside [0, 1]", *v)
		}
		*dst = *v
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, mr, pr := s.faults, s.multiRate, s.partRate
	if err := errors.Join(dur(p.Latency, &f.Latency), dur(p.RetryAfter, &f.RetryAfter),
		rate(p.DuplicateEventRate, &f.DuplicateEventRate), rate(p.MultiPackageRate, &mr),
		rate(p.PartialShipRate, &pr)); err != nil {
		return err
	}
	if p.Down != nil {
		f.Down = *p.Down
	}
	if p.Throttle != nil {
		f.Throttle = *p.Throttle
	}
	s.faults, s.multiRate, s.partRate = f, mr, pr
	return nil
}

func (s *Server) handleSimStock(w http.ResponseWriter, r *http.Request) {
	var m map[string]int
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&m); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "body must be an object of SKU to on-hand quantity: "+err.Error(), "")
		return
	}
	for sku, n := range m {
		if sku == "" || n < 0 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid stock %q: %d", sku, n), sku)
			return
		}
	}
	s.SetStock(m)
	writeJSON(w, http.StatusOK, s.stockItems())
}

// simState is the GET /_sim/state body.
type simState struct {
	Name       string       `json:"name"`
	Now        time.Time    `json:"now"`
	Faults     faultsJSON   `json:"faults"`
	Stats      Stats        `json:"stats"`
	FeedLength int          `json:"feed_length"`
	Stock      []StockItem  `json:"stock"`
	Orders     []OrderState `json:"orders"`
}

func (s *Server) handleSimState(w http.ResponseWriter, r *http.Request) {
	st := simState{Name: s.cfg.Name, Now: s.clock(), Faults: s.faultsView(), Stats: s.Stats(),
		Stock: s.stockItems(), Orders: s.Orders()}
	s.mu.Lock()
	st.FeedLength = len(s.feed)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}
