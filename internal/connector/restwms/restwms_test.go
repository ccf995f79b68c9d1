package restwms_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/restwms"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
)

const token = "s3cret"

// env is a REST client wired to a simulator on a manual clock.
type env struct {
	sim    *wmssim.Server
	clock  *wmssim.ManualClock
	client *restwms.Client
	url    string
}

func setup(t *testing.T) env {
	t.Helper()
	clock := wmssim.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	sim := wmssim.New(wmssim.Config{Name: "paris", Token: token, Now: clock.Now, Seed: 7})
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	c, err := restwms.New(restwms.Config{BaseURL: ts.URL, Token: token, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return env{sim: sim, clock: clock, client: c, url: ts.URL}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Features{
		Cancel: true, Conflict: true, MultiPackage: true, DuplicateEvents: true, Outage: true, Stock: true,
	}, func(t *testing.T) connectortest.Harness {
		e := setup(t)
		return connectortest.Harness{
			WMS:                e.client,
			Settle:             func(*testing.T) { e.sim.Settle(e.clock) },
			SetStock:           func(_ *testing.T, m map[string]int) { e.sim.SetStock(m) },
			SetDown:            func(_ *testing.T, down bool) { e.sim.SetDown(down) },
			SetDuplicateEvents: func(_ *testing.T, r float64) { e.sim.SetDuplicateEventRate(r) },
			SetMultiPackage:    func(_ *testing.T, r float64) { e.sim.SetMultiPackageRate(r) },
		}
	})
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	info, ok := connector.Lookup("rest")
	if !ok {
		t.Fatal(`kind "rest" is not registered`)
	}
	e := setup(t)
	w, err := info.New(map[string]any{"base_url": e.url + "/", "token": token, "timeout": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	o := connectortest.NewOrder(connectortest.Ref("reg"), order.Line{SKU: "A", Quantity: 1})
	if res, err := w.SubmitOrder(t.Context(), o); err != nil || !res.Created {
		t.Fatalf("SubmitOrder = %+v, %v", res, err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]map[string]any{
		"missing base_url": {"token": "x"},
		"unknown key":      {"base_url": "http://wms", "tokn": "x"},
		"bad timeout":      {"base_url": "http://wms", "timeout": "soon"},
		"negative timeout": {"base_url": "http://wms", "timeout": "-1s"},
		"numeric timeout":  {"base_url": "http://wms", "timeout": 10},
		"token not string": {"base_url": "http://wms", "token": 42},
		"not a URL":        {"base_url": "wms.example.com"},
		"ftp URL":          {"base_url": "ftp://wms.example.com"},
	} {
		if _, err := restwms.NewFromMap(cfg); err == nil {
			t.Errorf("%s: NewFromMap(%v) succeeded", name, cfg)
		}
	}
	if _, err := restwms.NewFromMap(map[string]any{"base_url": "https://wms.example.com/api", "timeout": 3 * time.Second}); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// TestRequests checks the headers and paths the client sends.
func TestRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var mu sync.Mutex
	var seen []*http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c, err := restwms.New(restwms.Config{BaseURL: ts.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ref := "shop#1001/paris 1" // needs escaping in a path
	if _, err := c.SubmitOrder(t.Context(), connectortest.NewOrder(ref, order.Line{SKU: "A", Quantity: 1})); err != nil {
		t.Fatal(err)
	}
	st, err := c.Order(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExternalRef != ref || st.Status != "received" || st.WMSOrderID == "" {
		t.Errorf("Order = %+v", st)
	}
	if res, err := c.CancelOrder(t.Context(), ref); err != nil || !res.Cancelled {
		t.Errorf("CancelOrder = %+v, %v", res, err)
	}
	if err := c.Health(t.Context()); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 {
		t.Fatalf("%d requests, want 4", len(seen))
	}
	if got := seen[0].Header.Get("Idempotency-Key"); got != ref {
		t.Errorf("Idempotency-Key = %q, want %q", got, ref)
	}
	for _, r := range seen[:3] {
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.URL.Path, got)
		}
	}
	if got := seen[2].URL.EscapedPath(); got != "/v1/orders/shop%231001%2Fparis%201/cancel" {
		t.Errorf("cancel path = %s", got)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	type want struct {
		permanent bool
		delay     time.Duration // 0: no RetryAfter
	}
	cases := []struct {
		status     int
		retryAfter string
		want       want
	}{
		{400, "", want{permanent: true}},
		{401, "", want{permanent: true}},
		{403, "", want{permanent: true}},
		{404, "", want{permanent: true}},
		{409, "", want{permanent: true}},
		{422, "", want{permanent: true}},
		{429, "7", want{delay: 7 * time.Second}},
		{429, "", want{}},
		{503, "2", want{delay: 2 * time.Second}},
		{503, "", want{}},
		{500, "", want{}},
		{502, "3", want{}},
		{408, "", want{}},
	}
	for _, tc := range cases {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(`{"error":{"code":"c","message":"m","field":"f"}}`))
		}))
		c, err := restwms.New(restwms.Config{BaseURL: ts.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Stock(t.Context())
		ts.Close()
		if err == nil {
			t.Errorf("%d: no error", tc.status)
			continue
		}
		if connector.IsPermanent(err) != tc.want.permanent {
			t.Errorf("%d: IsPermanent = %v, want %v (%v)", tc.status, !tc.want.permanent, tc.want.permanent, err)
		}
		d, ok := connector.RetryDelay(err)
		if ok != (tc.want.delay > 0) || d != tc.want.delay {
			t.Errorf("%d Retry-After %q: RetryDelay = %v, %v; want %v", tc.status, tc.retryAfter, d, ok, tc.want.delay)
		}
		var he *restwms.HTTPError
		if !errors.As(err, &he) || he.StatusCode != tc.status || he.Code != "c" || he.Field != "f" {
			t.Errorf("%d: HTTPError = %+v", tc.status, he)
		}
	}
}

func TestRetryAfterDate(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(ts.Close)
	c, _ := restwms.New(restwms.Config{BaseURL: ts.URL})
	_, _, err := c.Events(t.Context(), "", 10)
	d, ok := connector.RetryDelay(err)
	if !ok || d < 80*time.Second || d > 91*time.Second {
		t.Fatalf("RetryDelay = %v, %v (%v)", d, ok, err)
	}
}

func TestTransportErrorsAreTransient(t *testing.T) {
	t.Parallel()
	// A closed port: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	refused, _ := restwms.New(restwms.Config{BaseURL: "http://" + addr})
	_, err = refused.Stock(t.Context())
	if err == nil || connector.IsPermanent(err) {
		t.Errorf("connection refused: err = %v, want transient", err)
	}

	// A slow warehouse: the client's timeout fires.
	e := setup(t)
	e.sim.SetLatency(5 * time.Second)
	slow, _ := restwms.New(restwms.Config{BaseURL: e.url, Token: token, Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err = slow.Stock(t.Context())
	if err == nil || connector.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err = %v, want transient deadline exceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("timeout took %v", el)
	}
}

func TestSimulatorErrorsThroughClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bad, _ := restwms.New(restwms.Config{BaseURL: e.url, Token: "wrong"})
	if _, err := bad.Stock(t.Context()); !connector.IsPermanent(err) {
		t.Errorf("bad token: %v, want permanent", err)
	}
	if _, err := e.client.CancelOrder(t.Context(), "nope"); !connector.IsPermanent(err) {
		t.Errorf("cancel unknown: %v, want permanent", err)
	}
	if _, err := e.client.SubmitOrder(t.Context(), &order.WarehouseOrder{}); !connector.IsPermanent(err) {
		t.Errorf("empty ref: %v, want permanent", err)
	}
	_, err := e.client.SubmitOrder(t.Context(), connectortest.NewOrder("neg", order.Line{SKU: "A", Quantity: -1}))
	var he *restwms.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 422 || !strings.Contains(he.Field, "quantity") {
		t.Errorf("invalid quantity: %v", err)
	}
	e.sim.SetThrottle(true)
	_, err = e.client.Stock(t.Context())
	if d, ok := connector.RetryDelay(err); !ok || d != time.Second {
		t.Errorf("throttled: RetryDelay = %v, %v (%v)", d, ok, err)
	}
	e.sim.SetFaults(wmssim.Faults{Down: true, RetryAfter: 3 * time.Second})
	_, err = e.client.Stock(t.Context())
	if d, ok := connector.RetryDelay(err); !ok || d != 3*time.Second || connector.IsPermanent(err) {
		t.Errorf("down: RetryDelay = %v, %v (%v)", d, ok, err)
	}
	e.sim.SetFaults(wmssim.Faults{})
	if _, _, err := e.client.Events(t.Context(), "999", 10); !connector.IsPermanent(err) {
		t.Errorf("cursor beyond the feed: %v, want permanent", err)
	}
}
