package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/validator"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// fakeClock is the client's injected clock: Sleep advances it instead of
// waiting, and records every wait.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// seenRequest is one request the fake server received.
type seenRequest struct {
	Path          string
	Header        http.Header
	Query         string
	OperationName string
	Variables     map[string]any // numbers as json.Number
	At            time.Time
}

// reply is the fake server's answer. A string body is sent verbatim; any
// other body is JSON-encoded.
type reply struct {
	status int
	header map[string]string
	body   any
}

// answer builds a 200 GraphQL answer with data and an optional cost.
func answer(data any, cost *costJSON) reply {
	b := map[string]any{"data": data}
	if cost != nil {
		b["extensions"] = map[string]any{"cost": cost}
	}
	return reply{status: http.StatusOK, body: b}
}

// costJSON is extensions.cost as the fake server sends it.
type costJSON struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// fixture is a fake Shopify endpoint and a client pointed at it.
type fixture struct {
	t      *testing.T
	clock  *fakeClock
	client *Client
	srv    *httptest.Server

	mu      sync.Mutex
	reqs    []seenRequest
	handler func(n int, r seenRequest) reply
}

// setup starts a fake Shopify that validates every request against the
// embedded schema (document and variables) and answers with handler. n
// counts requests from 0.
func setup(t *testing.T, handler func(n int, r seenRequest) reply, cfg ...func(*ClientConfig)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newFakeClock(), handler: handler}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	c := ClientConfig{
		BaseURL:     f.srv.URL + "/",
		AccessToken: "shpat_test",
		HTTPClient:  f.srv.Client(),
		Now:         f.clock.Now,
		Sleep:       f.clock.Sleep,
	}
	for _, fn := range cfg {
		fn(&c)
	}
	f.client = NewClient(c)
	return f
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request: %v", err)
		return
	}
	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		f.t.Errorf("decode request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, errs := shopifyschema.Validate(req.Query)
	if errs != nil {
		f.t.Errorf("%s: invalid document: %v", req.OperationName, errs)
		http.Error(w, errs.Error(), http.StatusBadRequest)
		return
	}
	schema, _ := shopifyschema.Load()
	if op := doc.Operations.ForName(req.OperationName); op == nil {
		f.t.Errorf("operationName %q not in the document", req.OperationName)
	} else if _, err := validator.VariableValues(schema, op, req.Variables); err != nil {
		f.t.Errorf("%s: invalid variables %v: %v", req.OperationName, req.Variables, err)
	}
	seen := seenRequest{
		Path: r.URL.Path, Header: r.Header.Clone(), Query: req.Query,
		OperationName: req.OperationName, Variables: req.Variables, At: f.clock.Now(),
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, seen)
	f.mu.Unlock()

	rep := f.handler(n, seen)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	switch b := rep.body.(type) {
	case string:
		_, _ = io.WriteString(w, b)
	case nil:
	default:
		_ = json.NewEncoder(w).Encode(b)
	}
}

// requests returns what the server received so far.
func (f *fixture) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.reqs...)
}

// shopBucket is the fake server's leaky bucket, on the fixture's clock.
// It throttles exactly as Shopify does: a query whose requested cost
// exceeds the available points is refused with THROTTLED.
type shopBucket struct {
	clock *fakeClock
	mu    sync.Mutex
	max   float64
	rate  float64
	avail float64
	at    time.Time
	// throttled counts refusals; charged the points spent.
	throttled int
	charged   float64
}

func newShopBucket(clock *fakeClock, max, rate float64) *shopBucket {
	return &shopBucket{clock: clock, max: max, rate: rate, avail: max, at: clock.Now()}
}

// charge spends cost points or throttles, and returns the answer to send.
func (b *shopBucket) charge(cost float64, data any) reply {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	b.avail = min(b.max, b.avail+b.rate*now.Sub(b.at).Seconds())
	b.at = now
	if cost > b.avail+1e-9 {
		b.throttled++
		return reply{status: http.StatusOK, body: map[string]any{
			"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
			"extensions": map[string]any{"cost": costJSON{
				RequestedQueryCost: cost,
				ThrottleStatus:     throttleStatus{b.max, b.avail, b.rate},
			}},
		}}
	}
	b.avail -= cost
	b.charged += cost
	return answer(data, &costJSON{
		RequestedQueryCost: cost,
		ActualQueryCost:    &cost,
		ThrottleStatus:     throttleStatus{b.max, b.avail, b.rate},
	})
}

func (b *shopBucket) stats() (throttled int, charged float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.throttled, b.charged
}

// status is a cost extension reporting a bucket with plenty of room.
func status() *costJSON {
	one := 1.0
	return &costJSON{RequestedQueryCost: 1, ActualQueryCost: &one, ThrottleStatus: throttleStatus{2000, 1999, 100}}
}
