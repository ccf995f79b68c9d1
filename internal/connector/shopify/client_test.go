package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

var ctxT = context.Background()

func TestDoSendsOperationAndKeepsLargeIDs(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"locations": map[string]any{
			"nodes":    []any{map[string]any{"id": "gid://shopify/Location/1", "name": "A", "legacy": json.Number("9007199254740993")}},
			"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil},
		}}, status())
	})
	var out map[string]any
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 5}, &out); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/admin/api/2026-07/graphql.json" {
		t.Errorf("path = %q", r.Path)
	}
	if got := r.Header.Get("X-Shopify-Access-Token"); got != "shpat_test" {
		t.Errorf("token header = %q", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type = %q", ct)
	}
	text, _ := OperationText("Locations")
	if r.OperationName != "Locations" || r.Query != text {
		t.Errorf("sent %q with a different text than the embedded file", r.OperationName)
	}
	if r.Variables["first"] != json.Number("5") {
		t.Errorf("variables = %v", r.Variables)
	}
	node := out["locations"].(map[string]any)["nodes"].([]any)[0].(map[string]any)
	if node["legacy"] != json.Number("9007199254740993") {
		t.Errorf("large number decoded as %#v, want json.Number with every digit", node["legacy"])
	}
	if ts := f.client.ThrottleStatus(); ts.MaximumAvailable != 2000 || ts.CurrentlyAvailable != 1999 || ts.RestoreRate != 100 || !ts.ReadAt.Equal(f.clock.Now()) {
		t.Errorf("ThrottleStatus = %+v", ts)
	}
}

func TestUnknownOperationIsPermanent(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply { return answer(nil, nil) })
	err := f.client.Do(ctxT, "DropAllTables", nil, nil)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "DropAllTables") {
		t.Errorf("err = %v, want permanent naming the operation", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestThrottleWaitsInsteadOfOverdrawing runs sequential calls against a
// small bucket: the client must wait exactly until the points are restored
// and never be throttled.
func TestThrottleWaitsInsteadOfOverdrawing(t *testing.T) {
	t.Parallel()
	var shop *shopBucket
	f := setup(t, func(n int, r seenRequest) reply { return shop.charge(40, map[string]any{}) })
	shop = newShopBucket(f.clock, 100, 10)
	for i := range 6 {
		if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// 100 → 60 → 20; then each call waits for 40 − available points at
	// 10 points/s: 2 s, then 4 s each time.
	want := []time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	if got := f.clock.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
	if throttled, _ := shop.stats(); throttled != 0 {
		t.Errorf("server throttled %d requests: the client overdrew the bucket", throttled)
	}
	if ts := f.client.ThrottleStatus(); ts.CurrentlyAvailable != 0 || ts.MaximumAvailable != 100 || ts.RestoreRate != 10 {
		t.Errorf("ThrottleStatus = %+v", ts)
	}
}

func TestThrottledThenSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		if n == 0 {
			return reply{body: map[string]any{
				"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
				"extensions": map[string]any{"cost": map[string]any{
					"requestedQueryCost": 50, "actualQueryCost": nil,
					"throttleStatus": map[string]any{"maximumAvailable": 100.0, "currentlyAvailable": 20.0, "restoreRate": 10.0},
				}},
			}}
		}
		return answer(map[string]any{"locations": map[string]any{"nodes": []any{}}}, status())
	})
	var out struct {
		Locations struct{ Nodes []any } `json:"locations"`
	}
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, &out); err != nil {
		t.Fatal(err)
	}
	// (requested 50 − available 20) / 10 per second.
	if got, want := f.clock.Sleeps(), []time.Duration{3 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].At.Sub(reqs[0].At) != 3*time.Second {
		t.Errorf("%d requests; retry sent %v after the first", len(reqs), reqs[len(reqs)-1].At.Sub(reqs[0].At))
	}
}

func TestThrottledUntilRetriesRunOut(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{body: `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":30,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":100,"currentlyAvailable":0,"restoreRate":10}}}}`}
	}, func(c *ClientConfig) { c.MaxRetries = 2 })
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	if !errors.Is(err, ErrThrottled) || connector.IsPermanent(err) {
		t.Fatalf("err = %v, want transient ErrThrottled", err)
	}
	if d, ok := connector.RetryDelay(err); !ok || d != 3*time.Second {
		t.Errorf("RetryDelay = %v, %v; want 3s", d, ok)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (1 + MaxRetries)", n)
	}
}

func Test429HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		if n == 0 {
			return reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "2"}, body: `{"errors":"Too many requests"}`}
		}
		return answer(map[string]any{}, status())
	})
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := f.clock.Sleeps(), []time.Duration{2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func Test429ExhaustedReturnsRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "7"}}
	}, func(c *ClientConfig) { c.MaxRetries = 1 })
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	var herr *HTTPError
	if d, ok := connector.RetryDelay(err); !ok || d != 7*time.Second || !errors.As(err, &herr) || herr.StatusCode != 429 {
		t.Errorf("err = %v, want RetryAfter 7s wrapping HTTP 429", err)
	}
	if connector.IsPermanent(err) {
		t.Error("429 must not be permanent")
	}
}

func TestLongRetryAfterIsNotSlept(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "3600"}}
	})
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	if d, ok := connector.RetryDelay(err); !ok || d != time.Hour {
		t.Errorf("err = %v, want RetryAfter 1h", err)
	}
	if s := f.clock.Sleeps(); len(s) != 0 || len(f.requests()) != 1 {
		t.Errorf("slept %v over %d requests; an hour must be left to the job system", s, len(f.requests()))
	}
}

func Test503ThenSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		if n < 2 {
			return reply{status: http.StatusServiceUnavailable, body: "<html>unavailable</html>"}
		}
		return answer(map[string]any{}, status())
	})
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
		t.Fatal(err)
	}
	s := f.clock.Sleeps()
	if len(s) != 2 {
		t.Fatalf("sleeps = %v, want 2 backoffs", s)
	}
	// Jittered exponential: [250ms, 500ms], then [500ms, 1s].
	if s[0] < 250*time.Millisecond || s[0] > 500*time.Millisecond || s[1] < 500*time.Millisecond || s[1] > time.Second {
		t.Errorf("backoffs %v outside [250ms,500ms], [500ms,1s]", s)
	}
}

func Test5xxExhaustedIsTransient(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{status: http.StatusBadGateway, body: "bad gateway"}
	})
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	var herr *HTTPError
	if err == nil || connector.IsPermanent(err) || !errors.As(err, &herr) || herr.StatusCode != 502 {
		t.Fatalf("err = %v, want transient HTTP 502", err)
	}
	if _, ok := connector.RetryDelay(err); ok {
		t.Error("no Retry-After was given, so no RetryAfter error")
	}
	if n := len(f.requests()); n != 1+DefaultMaxRetries {
		t.Errorf("%d requests, want %d", n, 1+DefaultMaxRetries)
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	var f *fixture
	f = setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{}, status())
	}, func(c *ClientConfig) {
		c.HTTPClient = &http.Client{Transport: &flakyTransport{fails: 2}}
	})
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if s := f.clock.Sleeps(); len(s) != 2 {
		t.Errorf("sleeps = %v, want 2 backoffs", s)
	}
}

// flakyTransport fails the first fails requests with a network error, then
// uses the default transport.
type flakyTransport struct {
	mu    sync.Mutex
	fails int
}

func (t *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	fail := t.fails > 0
	t.fails--
	t.mu.Unlock()
	if fail {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestNonRetryableStatusIsPermanent(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{status: http.StatusUnauthorized, body: `{"errors":"[API] Invalid API key or access token"}`}
	})
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	var herr *HTTPError
	if !connector.IsPermanent(err) || !errors.As(err, &herr) || herr.StatusCode != 401 || !strings.Contains(herr.Body, "Invalid API key") {
		t.Errorf("err = %v, want permanent HTTP 401 with the body", err)
	}
}

func TestGraphQLErrorsArePermanent(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return reply{body: map[string]any{
			"data":   nil,
			"errors": []any{map[string]any{"message": "Access denied for locations field.", "extensions": map[string]any{"code": "ACCESS_DENIED"}}},
		}}
	})
	err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil)
	var rerr *ResponseError
	if !connector.IsPermanent(err) || !errors.As(err, &rerr) || rerr.Errors[0].Extensions.Code != "ACCESS_DENIED" {
		t.Fatalf("err = %v, want permanent *ResponseError", err)
	}
	if !strings.Contains(err.Error(), "Access denied for locations field.") {
		t.Errorf("message lost: %v", err)
	}
}

func TestInternalGraphQLErrorRetried(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		if n == 0 {
			return reply{body: `{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`}
		}
		return answer(map[string]any{}, status())
	})
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestUserErrorsArePermanentAndTyped(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"fulfillmentCreate": map[string]any{
			"fulfillment": nil,
			"userErrors": []any{map[string]any{
				"field":   []any{"fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", "0", "quantity"},
				"message": "Quantity exceeds the remaining quantity",
			}},
		}}, status())
	})
	_, err := f.client.CreateFulfillment(ctxT, FulfillmentInput{
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1",
		Lines:              []FulfillmentLine{{ID: "gid://shopify/FulfillmentOrderLineItem/1", Quantity: 9}},
	})
	var uerr *UserErrorsError
	if !connector.IsPermanent(err) || !errors.As(err, &uerr) {
		t.Fatalf("err = %v, want permanent *UserErrorsError", err)
	}
	if uerr.Operation != "FulfillmentCreate" || uerr.Mutation != "fulfillmentCreate" || len(uerr.Errors) != 1 ||
		uerr.Errors[0].Message != "Quantity exceeds the remaining quantity" || uerr.Errors[0].Field[5] != "quantity" {
		t.Errorf("user errors = %+v", uerr)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests: userErrors must not be retried", n)
	}
}

func TestIdempotencyInProgressIsRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"inventorySetQuantities": map[string]any{
			"inventoryAdjustmentGroup": nil,
			"userErrors":               []any{map[string]any{"field": nil, "message": "in progress", "code": "IDEMPOTENCY_CONCURRENT_REQUEST"}},
		}}, status())
	})
	_, err := f.client.SetInventory(ctxT, "k1", "correction", "", []InventoryQuantity{{InventoryItemID: "gid://shopify/InventoryItem/1", LocationID: "gid://shopify/Location/1", Quantity: 1}})
	if _, ok := connector.RetryDelay(err); !ok || connector.IsPermanent(err) {
		t.Errorf("err = %v, want RetryAfter", err)
	}
}

func TestContextCancelledWhileWaitingForBucket(t *testing.T) {
	t.Parallel()
	var shop *shopBucket
	f := setup(t, func(n int, r seenRequest) reply { return shop.charge(100, map[string]any{}) })
	shop = newShopBucket(f.clock, 100, 1)
	if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxT)
	cancel()
	err := f.client.Do(ctx, "Locations", map[string]any{"first": 1}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1: the empty bucket must be waited for, not overdrawn", n)
	}
}

// runConcurrently calls Do from callers goroutines at once, alternating
// between ops, and reports any error.
func runConcurrently(t *testing.T, f *fixture, callers int, ops ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range callers {
		op := ops[i%len(ops)]
		wg.Go(func() {
			if err := f.client.Do(ctxT, op, map[string]any{"first": 1}, nil); err != nil {
				t.Errorf("%s: %v", op, err)
			}
		})
	}
	wg.Wait()
}

// TestConcurrentCallersShareTheBucket starts many goroutines at once on a
// fresh client: reservations must keep them from spending the same points,
// so the server never throttles.
func TestConcurrentCallersShareTheBucket(t *testing.T) {
	t.Parallel()
	var shop *shopBucket
	f := setup(t, func(n int, r seenRequest) reply { return shop.charge(30, map[string]any{}) })
	shop = newShopBucket(f.clock, 100, 10)
	const callers = 24
	runConcurrently(t, f, callers, "Locations")
	throttled, charged := shop.stats()
	if throttled != 0 {
		t.Errorf("server throttled %d of %d requests: concurrent callers overdrew the bucket", throttled, callers)
	}
	if charged != callers*30 {
		t.Errorf("charged %v points, want %d", charged, callers*30)
	}
	if n := len(f.requests()); n != callers {
		t.Errorf("%d requests, want %d", n, callers)
	}
}

// TestConcurrentCallersOfUnmeasuredOperations: the server's costs are far
// above the client's static estimates (3 and 4 points). Only one request
// per operation is sent before its cost is known, so at most that one can
// be throttled; everyone else waits for the measured cost.
func TestConcurrentCallersOfUnmeasuredOperations(t *testing.T) {
	t.Parallel()
	var shop *shopBucket
	costs := map[string]float64{"Locations": 30, "ProductVariants": 45}
	f := setup(t, func(n int, r seenRequest) reply { return shop.charge(costs[r.OperationName], map[string]any{}) })
	shop = newShopBucket(f.clock, 100, 10)
	const callers = 24
	runConcurrently(t, f, callers, "Locations", "ProductVariants")
	throttled, charged := shop.stats()
	// The guarantee: at most one request per operation not measured yet
	// (its first, sent on the static estimate) can be throttled; which ones
	// depends on scheduling.
	if throttled > 2 {
		t.Errorf("server throttled %d requests, want at most one per unmeasured operation (2)", throttled)
	}
	if want := callers / 2 * (30 + 45); charged != float64(want) {
		t.Errorf("charged %v points, want %d", charged, want)
	}
	if n := len(f.requests()); n != callers+throttled {
		t.Errorf("%d requests, want %d", n, callers+throttled)
	}
}

// TestUnmeteredServerIsNotSerialised: a server that reports no cost (such
// as a simulator that does not model it) must not block concurrent callers
// behind a measuring request forever.
func TestUnmeteredServerIsNotSerialised(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply { return answer(map[string]any{}, nil) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := f.client.Do(ctxT, "Locations", map[string]any{"first": 1}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(f.requests()); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
	if ts := f.client.ThrottleStatus(); ts != (ThrottleStatus{}) || len(f.clock.Sleeps()) != 0 {
		t.Errorf("status %+v, sleeps %v: nothing to pace by", ts, f.clock.Sleeps())
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for n := range 20 {
		d := min(backoffMax, backoffBase<<min(n, 16))
		for range 50 {
			if b := backoff(n); b < d/2 || b > d {
				t.Fatalf("backoff(%d) = %v outside [%v, %v]", n, b, d/2, d)
			}
		}
	}
}

func ExampleClient_Do() {
	c := NewClient(ClientConfig{BaseURL: "https://example.myshopify.com", AccessToken: "shpat_…"})
	fmt.Println(c.Endpoint())
	// Output: https://example.myshopify.com/admin/api/2026-07/graphql.json
}
