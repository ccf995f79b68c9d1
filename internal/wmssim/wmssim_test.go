package wmssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/order"
)

const token = "tok"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	s     *Server
	clock *ManualClock
}

// setup returns a simulator on a manual clock; mod may adjust the config.
func setup(t *testing.T, mod func(*Config)) fixture {
	t.Helper()
	clock := NewManualClock(t0)
	cfg := Config{Name: "paris", Token: token, Now: clock.Now, Seed: 1}
	if mod != nil {
		mod(&cfg)
	}
	return fixture{s: New(cfg), clock: clock}
}

// do sends a request to the simulator with the bearer token (unless hdr
// overrides Authorization).
func (f fixture) do(t *testing.T, method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
}

func (f fixture) create(t *testing.T, o *order.WarehouseOrder) createResponse {
	t.Helper()
	w := f.do(t, "POST", "/v1/orders", o, "Idempotency-Key", o.ExternalRef)
	wantStatus(t, w, http.StatusCreated)
	return decode[createResponse](t, w)
}

func (f fixture) state(t *testing.T, ref string) OrderState {
	t.Helper()
	st, ok := f.s.Order(ref)
	if !ok {
		t.Fatalf("no order %s", ref)
	}
	return st
}

func (f fixture) events(t *testing.T, after string, limit int) eventsResponse {
	t.Helper()
	w := f.do(t, "GET", fmt.Sprintf("/v1/events?after=%s&limit=%d", after, limit), nil)
	wantStatus(t, w, http.StatusOK)
	return decode[eventsResponse](t, w)
}

func line(sku string, qty int) order.Line { return order.Line{SKU: sku, Quantity: qty} }

func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 10, "B": 4} })
	o := connectortest.NewOrder("CD-1", line("A", 3), line("B", 1))
	res := f.create(t, o)
	if !res.Created || res.Status != StateReceived || res.WMSOrderID == "" {
		t.Fatalf("create = %+v", res)
	}
	type step struct {
		d     time.Duration
		state State
		avail map[string]int
	}
	for _, s := range []step{
		{0, StateReceived, map[string]int{"A": 10, "B": 4}},
		{DefaultAckDelay, StateAcknowledged, map[string]int{"A": 7, "B": 3}},
		{DefaultPickDelay, StatePicking, map[string]int{"A": 7, "B": 3}},
		{DefaultPackDelay, StatePacked, map[string]int{"A": 7, "B": 3}},
		{DefaultShipDelay - time.Nanosecond, StatePacked, nil},
		{time.Nanosecond, StateShipped, map[string]int{"A": 7, "B": 3}},
	} {
		f.clock.Advance(s.d)
		f.s.Tick()
		if got := f.state(t, "CD-1").State; got != s.state {
			t.Fatalf("at +%v: state %s, want %s", f.clock.Now().Sub(t0), got, s.state)
		}
		for sku, want := range s.avail {
			if got := f.s.Stock()[sku].Available; got != want {
				t.Errorf("%s: %s available %d, want %d", s.state, sku, got, want)
			}
		}
	}
	stock := f.s.Stock()
	if stock["A"].OnHand != 7 || stock["A"].Allocated != 0 || stock["B"].OnHand != 3 {
		t.Errorf("stock after shipping: %+v", stock)
	}
	st := f.state(t, "CD-1")
	if st.OrderID != o.OrderID || len(st.Lines) != 2 || len(st.Shipments) != 1 {
		t.Fatalf("order state %+v", st)
	}
	total := DefaultAckDelay + DefaultPickDelay + DefaultPackDelay + DefaultShipDelay
	if d := st.Times.ShippedAt.Sub(st.Times.ReceivedAt); d != total {
		t.Errorf("received → shipped %v, want %v", d, total)
	}
	sh := st.Shipments[0]
	if len(sh.Packages) != 1 || sh.Packages[0].TrackingNumber == "" ||
		!strings.Contains(sh.Packages[0].TrackingURL, sh.Packages[0].TrackingNumber) {
		t.Errorf("shipment %+v", sh)
	}
	page := f.events(t, "", 100)
	var types []connector.EventType
	for _, e := range page.Events {
		types = append(types, e.Type)
	}
	want := []connector.EventType{connector.EventAcknowledged, connector.EventPicking, connector.EventPacked, connector.EventShipped}
	if d := cmp.Diff(want, types); d != "" {
		t.Errorf("event types (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&sh, page.Events[3].Shipment); d != "" {
		t.Errorf("shipped event shipment differs from state (-state +event):\n%s", d)
	}
	w := f.do(t, "GET", "/v1/orders/CD-1", nil)
	wantStatus(t, w, http.StatusOK)
	if got := decode[orderResponse](t, w); got.Status != StateShipped || len(got.Shipments) != 1 {
		t.Errorf("GET order = %+v", got)
	}
	if s := f.s.Stats(); s.Shipped != 1 || s.EventsPublished != 4 || s.OrdersReceived != 1 || s.Packages != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	o := connectortest.NewOrder("CD-2", line("A", 1), line("B", 2))
	first := f.create(t, o)

	// A replay, lines in another order, answers 200 with the same id.
	replay := *o
	replay.Lines = []order.Line{o.Lines[1], o.Lines[0]}
	w := f.do(t, "POST", "/v1/orders", &replay, "Idempotency-Key", o.ExternalRef)
	wantStatus(t, w, http.StatusOK)
	if got := decode[createResponse](t, w); got.Created || got.WMSOrderID != first.WMSOrderID {
		t.Errorf("replay = %+v, first %+v", got, first)
	}

	changed := connectortest.NewOrder("CD-2", line("A", 1), line("B", 3))
	w = f.do(t, "POST", "/v1/orders", changed)
	wantStatus(t, w, http.StatusConflict)
	if e := decode[map[string]apiError](t, w)["error"]; e.Code != "conflict" {
		t.Errorf("conflict body %+v", e)
	}

	noPostal := connectortest.NewOrder("CD-3", line("A", 1))
	noPostal.ShipTo.PostalCode = ""
	for name, tc := range map[string]struct {
		body   any
		hdr    []string
		status int
		field  string
	}{
		"bad json":         {`{"external_ref":`, nil, 400, ""},
		"no ref":           {connectortest.NewOrder("", line("A", 1)), nil, 422, "external_ref"},
		"no lines":         {connectortest.NewOrder("CD-3"), nil, 422, "lines"},
		"zero quantity":    {connectortest.NewOrder("CD-3", line("A", 0)), nil, 422, "lines[0].quantity"},
		"empty sku":        {connectortest.NewOrder("CD-3", line("A", 1), line(" ", 1)), nil, 422, "lines[1].sku"},
		"repeated line_no": {connectortest.NewOrder("CD-3", order.Line{LineNo: 1, SKU: "A", Quantity: 1}, order.Line{LineNo: 1, SKU: "B", Quantity: 1}), nil, 422, "lines[1].line_no"},
		"no postal code":   {noPostal, nil, 422, "ship_to.postal_code"},
		"key mismatch":     {connectortest.NewOrder("CD-3", line("A", 1)), []string{"Idempotency-Key", "CD-4"}, 422, "external_ref"},
	} {
		w := f.do(t, "POST", "/v1/orders", tc.body, tc.hdr...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", name, w.Code, tc.status, w.Body.String())
			continue
		}
		if e := decode[map[string]apiError](t, w)["error"]; e.Field != tc.field || e.Message == "" {
			t.Errorf("%s: error %+v, want field %q", name, e, tc.field)
		}
	}
	if _, ok := f.s.Order("CD-3"); ok {
		t.Error("an invalid order was stored")
	}
	want := Stats{CreateCalls: 11, OrdersReceived: 1, IdempotentReplay: 1, Conflicts: 1, Rejected: 8}
	if d := cmp.Diff(want, f.s.Stats()); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
}

func TestAuthAndFaults(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	wantStatus(t, f.do(t, "GET", "/v1/stock", nil, "Authorization", "Bearer nope"), http.StatusUnauthorized)
	wantStatus(t, f.do(t, "GET", "/v1/stock", nil, "Authorization", ""), http.StatusUnauthorized)
	wantStatus(t, f.do(t, "GET", "/v1/health", nil, "Authorization", ""), http.StatusOK)

	post := func(body string) *httptest.ResponseRecorder {
		return f.do(t, "POST", "/_sim/faults", body, "Authorization", "")
	}
	wantStatus(t, post(`{"down":true,"retry_after":"2s"}`), http.StatusOK)
	w := f.do(t, "GET", "/v1/health", nil)
	wantStatus(t, w, http.StatusServiceUnavailable)
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2", got)
	}
	wantStatus(t, post(`{"down":false,"throttle":true,"retry_after":"0s"}`), http.StatusOK)
	w = f.do(t, "GET", "/v1/events", nil)
	wantStatus(t, w, http.StatusTooManyRequests)
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("429 Retry-After %q, want 1", got)
	}
	f.s.SetFaults(Faults{Down: true})
	if w := f.do(t, "GET", "/v1/stock", nil); w.Code != 503 || w.Header().Get("Retry-After") != "" {
		t.Errorf("down without RetryAfter: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	wantStatus(t, f.do(t, "GET", "/_sim/state", nil), http.StatusOK) // control plane ignores faults

	for _, bad := range []string{`{"duplicate_event_rate":2}`, `{"latency":"soon"}`, `{"dwn":true}`, `[`} {
		wantStatus(t, post(bad), http.StatusBadRequest)
	}
	wantStatus(t, post(`{"down":false,"latency":"30ms","duplicate_event_rate":0.5,"multi_package_rate":0.25}`), http.StatusOK)
	got := f.s.Faults()
	if d := cmp.Diff(Faults{Latency: 30 * time.Millisecond, DuplicateEventRate: 0.5}, got); d != "" {
		t.Errorf("faults (-want +got):\n%s", d)
	}
	start := time.Now()
	wantStatus(t, f.do(t, "GET", "/v1/stock", nil), http.StatusOK)
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("answered in %v despite 30ms latency", el)
	}
	view := decode[faultsJSON](t, f.do(t, "GET", "/_sim/faults", nil))
	if *view.MultiPackageRate != 0.25 || *view.Latency != "30ms" {
		t.Errorf("GET /_sim/faults = %s", f.do(t, "GET", "/_sim/faults", nil).Body)
	}
	if s := f.s.Stats(); s.Unauthorized != 2 || s.FaultedCalls != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestBackorder(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 1} })
	big := connectortest.NewOrder("BIG", line("A", 2), line("NEW", 1))
	small := connectortest.NewOrder("SMALL", line("A", 1))
	f.create(t, big)
	f.create(t, small)
	f.s.Settle(f.clock)

	st := f.state(t, "BIG")
	if st.State != StateAcknowledged || !st.Backordered || st.Times.BackorderedAt.IsZero() {
		t.Fatalf("big order %+v", st)
	}
	wantShort := []Shortage{{SKU: "A", Needed: 2, Available: 1}, {SKU: "NEW", Needed: 1, Available: 0}}
	if d := cmp.Diff(wantShort, st.Shortages); d != "" {
		t.Errorf("shortages (-want +got):\n%s", d)
	}
	// The backordered order holds nothing, so the small one ships.
	if st := f.state(t, "SMALL"); st.State != StateShipped {
		t.Fatalf("small order %s", st.State)
	}
	w := f.do(t, "POST", "/_sim/stock", `{"A":2,"NEW":1}`)
	wantStatus(t, w, http.StatusOK)
	if st := f.state(t, "BIG"); st.Backordered || st.Shortages != nil {
		t.Fatalf("after restock: %+v", st)
	}
	if got := f.s.Stock()["A"]; got.Available != 0 || got.Allocated != 2 {
		t.Errorf("A after restock: %+v", got)
	}
	f.s.Settle(f.clock)
	if st := f.state(t, "BIG"); st.State != StateShipped {
		t.Fatalf("big order %s after restock", st.State)
	}
	if got := f.s.Stock(); got["A"].OnHand != 0 || got["NEW"].OnHand != 0 {
		t.Errorf("stock %+v", got)
	}
	if s := f.s.Stats(); s.Backordered != 1 || s.Shipped != 2 {
		t.Errorf("stats %+v", s)
	}

	// A backordered order can be cancelled and is not allocated later.
	f.create(t, connectortest.NewOrder("WAIT", line("B", 1)))
	f.s.Settle(f.clock)
	wantStatus(t, f.do(t, "POST", "/v1/orders/WAIT/cancel", nil), http.StatusOK)
	f.s.SetStock(map[string]int{"B": 1})
	f.s.Settle(f.clock)
	if st := f.state(t, "WAIT"); st.State != StateCancelled {
		t.Errorf("cancelled backorder is %s", st.State)
	}
	if got := f.s.Stock()["B"]; got.Available != 1 {
		t.Errorf("B %+v", got)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 10} })
	cancel := func(ref string) (int, cancelResponse) {
		w := f.do(t, "POST", "/v1/orders/"+ref+"/cancel", nil)
		if w.Code != http.StatusOK {
			return w.Code, cancelResponse{}
		}
		return w.Code, decode[cancelResponse](t, w)
	}
	f.create(t, connectortest.NewOrder("EARLY", line("A", 2)))
	f.create(t, connectortest.NewOrder("PICKED", line("A", 3)))
	f.create(t, connectortest.NewOrder("SHIPPED", line("A", 1)))
	f.clock.Advance(DefaultAckDelay)
	f.s.Tick()
	if got := f.s.Stock()["A"].Available; got != 4 {
		t.Fatalf("available %d after allocation, want 4", got)
	}
	if _, r := cancel("EARLY"); !r.Cancelled {
		t.Errorf("cancel acknowledged order: %+v", r)
	}
	if got := f.s.Stock()["A"].Available; got != 6 {
		t.Errorf("available %d after cancel, want 6 (allocation released)", got)
	}
	if _, r := cancel("EARLY"); !r.Cancelled {
		t.Errorf("second cancel: %+v", r)
	}
	f.clock.Advance(DefaultPickDelay)
	f.s.Tick()
	if _, r := cancel("PICKED"); r.Cancelled || r.Reason != "already picking" {
		t.Errorf("cancel while picking: %+v", r)
	}
	f.s.Settle(f.clock)
	if _, r := cancel("SHIPPED"); r.Cancelled || r.Reason != "already shipped" {
		t.Errorf("cancel after shipping: %+v", r)
	}
	if code, _ := cancel("UNKNOWN"); code != http.StatusNotFound {
		t.Errorf("cancel unknown: %d", code)
	}
	if st := f.state(t, "EARLY"); st.State != StateCancelled || st.Times.CancelledAt.IsZero() || !st.Times.PickingAt.IsZero() {
		t.Errorf("EARLY %+v", st)
	}
	var got []string
	for _, e := range f.s.Events() {
		if e.Type == connector.EventCancelled || e.Type == connector.EventCancelRejected {
			got = append(got, fmt.Sprintf("%s %s %s", e.ExternalRef, e.Type, e.Reason))
		}
	}
	want := []string{"EARLY cancelled ", "PICKED cancel_rejected already picking", "SHIPPED cancel_rejected already shipped"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cancel events (-want +got):\n%s", d)
	}
	if s := f.s.Stats(); s.Cancelled != 1 || s.CancelRejected != 2 || s.Shipped != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestEventFeed(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 100} })
	for i := range 5 {
		f.create(t, connectortest.NewOrder(fmt.Sprintf("F-%d", i), line("A", 1)))
	}
	f.s.Settle(f.clock)
	var got []connector.Event
	cursor := ""
	for {
		p := f.events(t, cursor, 3)
		if len(p.Events) > 3 {
			t.Fatalf("%d events for limit 3", len(p.Events))
		}
		if len(p.Events) == 0 {
			if p.NextCursor != cursor && cursor != "" {
				t.Errorf("empty page moved the cursor from %q to %q", cursor, p.NextCursor)
			}
			break
		}
		got = append(got, p.Events...)
		cursor = p.NextCursor
	}
	if d := cmp.Diff(f.s.Events(), got); d != "" || len(got) != 20 {
		t.Errorf("paged feed (%d events) differs from the feed (-feed +paged):\n%s", len(got), d)
	}
	for _, q := range []string{"after=x", "after=-1", "after=21", "limit=0", "limit=many"} {
		wantStatus(t, f.do(t, "GET", "/v1/events?"+q, nil), http.StatusBadRequest)
	}
	if p := f.events(t, "", 5000); len(p.Events) != 20 {
		t.Errorf("limit above the maximum: %d events", len(p.Events))
	}

	f.s.SetDuplicateEventRate(1)
	f.create(t, connectortest.NewOrder("DUP", line("A", 1)))
	f.s.Settle(f.clock)
	p := f.events(t, cursor, 100)
	if len(p.Events) != 8 {
		t.Fatalf("%d events with duplicate rate 1, want 8", len(p.Events))
	}
	for i := 0; i < len(p.Events); i += 2 {
		if d := cmp.Diff(p.Events[i], p.Events[i+1]); d != "" {
			t.Errorf("duplicate differs:\n%s", d)
		}
	}
	if s := f.s.Stats(); s.EventsPublished != 24 || s.DuplicateEvents != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestPackagesAndTracking(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) {
		c.Stock = map[string]int{"A": 10000, "B": 10000}
		c.MultiPackageRate = 1
	})
	const n = 300
	for i := range n {
		o := connectortest.NewOrder(fmt.Sprintf("P-%d", i), line("A", 1+i%4), line("B", 1))
		if i%3 == 0 {
			o.ShippingMethod = "UPS Standard"
		}
		f.create(t, o)
	}
	f.create(t, connectortest.NewOrder("ONE-UNIT", line("A", 1)))
	f.s.Settle(f.clock)
	tracking := map[string]string{}
	for _, st := range f.s.Orders() {
		if st.State != StateShipped || len(st.Shipments) != 1 {
			t.Fatalf("%s: %s with %d shipments", st.ExternalRef, st.State, len(st.Shipments))
		}
		sh := st.Shipments[0]
		units := 0
		for _, l := range sh.Lines {
			units += l.Quantity
		}
		if want := min(units, 3); len(sh.Packages) < min(2, units) || len(sh.Packages) > want {
			t.Errorf("%s: %d packages for %d units", st.ExternalRef, len(sh.Packages), units)
		}
		inPkgs := map[int]int{}
		for _, p := range sh.Packages {
			if prev, dup := tracking[p.TrackingNumber]; dup {
				t.Errorf("tracking %s used by %s and %s", p.TrackingNumber, prev, st.ExternalRef)
			}
			tracking[p.TrackingNumber] = st.ExternalRef
			if !strings.Contains(p.TrackingURL, p.TrackingNumber) || p.Carrier == "" {
				t.Errorf("package %+v", p)
			}
			if st.Request.ShippingMethod == "UPS Standard" && (p.Carrier != "UPS" || !strings.HasPrefix(p.TrackingNumber, "1Z")) {
				t.Errorf("%s: UPS order shipped with %s %s", st.ExternalRef, p.Carrier, p.TrackingNumber)
			}
			for _, l := range p.Lines {
				inPkgs[l.LineNo] += l.Quantity
			}
		}
		inShipment := map[int]int{}
		for _, l := range sh.Lines {
			inShipment[l.LineNo] += l.Quantity
		}
		if d := cmp.Diff(inShipment, inPkgs); d != "" {
			t.Errorf("%s: packages differ from shipment:\n%s", st.ExternalRef, d)
		}
	}
	if s := f.s.Stats(); s.Packages != len(tracking) || s.Packages < 2*n {
		t.Errorf("stats %+v, %d tracking numbers", s, len(tracking))
	}
}

func TestSplitUnits(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var lines []order.ShipmentLine
		for i, q := range rapid.SliceOfN(rapid.IntRange(1, 20), 1, 6).Draw(t, "quantities") {
			lines = append(lines, order.ShipmentLine{LineNo: i + 1, SKU: fmt.Sprint("S", i), Quantity: q})
		}
		n := rapid.IntRange(1, 3).Draw(t, "packages")
		total, per := 0, map[int]int{}
		for _, l := range lines {
			total += l.Quantity
		}
		pkgs := splitUnits(lines, n)
		if len(pkgs) != min(n, total) {
			t.Fatalf("%d packages for n=%d, %d units", len(pkgs), n, total)
		}
		for _, p := range pkgs {
			size := 0
			for _, l := range p {
				size += l.Quantity
				per[l.LineNo] += l.Quantity
			}
			if size == 0 || size > total/len(pkgs)+1 {
				t.Fatalf("package of %d units among %d packages of %d units", size, len(pkgs), total)
			}
		}
		for _, l := range lines {
			if per[l.LineNo] != l.Quantity {
				t.Fatalf("line %d: %d units packed, %d ordered", l.LineNo, per[l.LineNo], l.Quantity)
			}
		}
	})
}

// TestRealTime runs the processing goroutine on the real clock.
func TestRealTime(t *testing.T) {
	t.Parallel()
	s := New(Config{Name: "lyon", Token: token, AckDelay: time.Millisecond, PickDelay: time.Millisecond,
		PackDelay: time.Millisecond, ShipDelay: time.Millisecond, Stock: map[string]int{"A": 1000}})
	s.Start()
	s.Start() // no-op
	t.Cleanup(s.Close)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	const n = 200
	for i := range n {
		b, _ := json.Marshal(connectortest.NewOrder(fmt.Sprintf("RT-%d", i), line("A", 1)))
		req, _ := http.NewRequestWithContext(t.Context(), "POST", ts.URL+"/v1/orders", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d", resp.StatusCode)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Shipped < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d shipped after 10s", s.Stats().Shipped, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, st := range s.Orders() {
		if st.Times.ShippedAt.Sub(st.Times.ReceivedAt) < 4*time.Millisecond {
			t.Errorf("%s shipped %v after receipt", st.ExternalRef, st.Times.ShippedAt.Sub(st.Times.ReceivedAt))
		}
	}
	s.Close()
	s.Close() // idempotent
}

// TestManyOrders checks that thousands of orders settle quickly.
func TestManyOrders(t *testing.T) {
	t.Parallel()
	const n = 3000
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": n} })
	start := time.Now()
	for i := range n {
		f.create(t, connectortest.NewOrder(fmt.Sprintf("M-%d", i), line("A", 1)))
		if i%100 == 0 {
			f.clock.Advance(time.Millisecond)
		}
	}
	f.s.Settle(f.clock)
	if s := f.s.Stats(); s.Shipped != n || s.EventsPublished != 4*n {
		t.Fatalf("stats %+v", s)
	}
	if a := f.s.Stock()["A"]; a.OnHand != 0 || a.Allocated != 0 {
		t.Errorf("stock %+v", a)
	}
	t.Logf("%d orders created and settled in %v", n, time.Since(start))
}

func TestSimState(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 5} })
	f.create(t, connectortest.NewOrder("S-1", line("A", 2)))
	f.s.Settle(f.clock)
	wantStatus(t, f.do(t, "POST", "/_sim/stock", `{"A":-1}`), http.StatusBadRequest)
	w := f.do(t, "GET", "/_sim/state", nil, "Authorization", "")
	wantStatus(t, w, http.StatusOK)
	st := decode[simState](t, w)
	if st.Name != "paris" || len(st.Orders) != 1 || st.Orders[0].State != StateShipped ||
		st.Orders[0].OrderID != "gid://shopify/Order/S-1" || st.Orders[0].Times.ShippedAt.IsZero() ||
		st.Stats.Shipped != 1 || st.FeedLength != 4 || len(st.Stock) != 1 || st.Stock[0].OnHand != 3 {
		t.Errorf("state %s", w.Body)
	}
	w = f.do(t, "GET", "/v1/stock", nil)
	wantStatus(t, w, http.StatusOK)
	snap := decode[connector.StockSnapshot](t, w)
	if !snap.Full || !snap.AsOf.Equal(f.clock.Now()) || len(snap.Items) != 1 || snap.Items[0] != (connector.StockItem{SKU: "A", OnHand: 3, Available: 3}) {
		t.Errorf("stock %s", w.Body)
	}
	wantStatus(t, f.do(t, "GET", "/v1/orders/nope", nil), http.StatusNotFound)
}
