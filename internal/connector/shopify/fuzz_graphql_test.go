package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

// The calls FuzzDecodeGraphQLResponse makes, chosen by the input's first
// argument (modulo fuzzOpCount).
const (
	fuzzGetOrder = iota
	fuzzGetFulfillmentOrder
	fuzzOrdersUpdatedSince
	fuzzInventoryLevels
	fuzzSetInventory
	fuzzCreateFulfillment
	fuzzSubmitRequest
	fuzzFulfillmentEvents
	fuzzBulkInventoryLevels
	fuzzParseBulkLevels
	fuzzParseBulkCatalog
	fuzzDoRaw
	fuzzWebhookSubscriptions
	fuzzOpCount
)

// fuzzOpByName maps an embedded operation to the call that decodes its
// answer, for the seeds recorded from the simulator.
var fuzzOpByName = map[string]int{
	"GetOrder":                      fuzzGetOrder,
	"GetFulfillmentOrder":           fuzzGetFulfillmentOrder,
	"OrdersUpdatedSince":            fuzzOrdersUpdatedSince,
	"LocationInventoryLevels":       fuzzInventoryLevels,
	"InventorySetQuantities":        fuzzSetInventory,
	"FulfillmentCreate":             fuzzCreateFulfillment,
	"FulfillmentOrderSubmitRequest": fuzzSubmitRequest,
	"FulfillmentEvents":             fuzzFulfillmentEvents,
	"BulkOperationRunQuery":         fuzzBulkInventoryLevels,
	"BulkOperation":                 fuzzBulkInventoryLevels,
	"WebhookSubscriptions":          fuzzWebhookSubscriptions,
}

// errFuzzBudget is returned by the fuzz clock's Sleep once the client has
// waited longer than any single call may.
var errFuzzBudget = errors.New("fuzz: the client waited more than a day")

// fuzzMaxRequests bounds the requests of one call; more means the client
// loops on an answer.
const fuzzMaxRequests = 500

// fuzzClock is a fake clock whose Sleep advances time and fails once a day
// has been slept in total.
type fuzzClock struct {
	mu    sync.Mutex
	start time.Time
	t     time.Time
}

func (c *fuzzClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fuzzClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	if c.t.Sub(c.start) > 24*time.Hour {
		return errFuzzBudget
	}
	return nil
}

// FuzzDecodeGraphQLResponse feeds GraphQL answers (status, Retry-After,
// body) to the client's real calls through an http.RoundTripper: the
// envelope (data, errors with extensions.code, extensions.cost), the typed
// decoding of the answers the hub reads and the bulk JSONL results. Seeds
// are the simulator's real answers and Shopify's documented error shapes.
//
// Properties: no panic; the call ends (bounded requests and waits); every
// error is classified by the envelope (permanent for 4xx and GraphQL
// errors, retry-after for 429 and throttling, transient for 5xx and
// answers that are not GraphQL); the values returned are consistent (IDs
// present, non-negative legacy IDs, a cursor only when there is a next
// page) and the throttle estimate stays within the reported bucket.
func FuzzDecodeGraphQLResponse(f *testing.F) {
	for _, s := range graphQLSeeds(f) {
		f.Add(s.op, s.status, s.retryAfter, s.body)
	}
	f.Fuzz(func(t *testing.T, op uint8, status uint16, retryAfter string, body []byte) {
		st := httpStatus(status)
		tr := &connectortest.CannedTransport{Status: st, RetryAfter: retryAfter, Body: body, Max: fuzzMaxRequests}
		start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		clock := &fuzzClock{start: start, t: start}
		c := NewClient(ClientConfig{
			BaseURL: "https://fuzz.myshopify.example", AccessToken: "shpat_fuzz",
			HTTPClient: &http.Client{Transport: tr}, Now: clock.Now, Sleep: clock.Sleep,
		})
		kind := int(op) % fuzzOpCount
		err := fuzzCall(t, c, kind, body)
		// A bulk operation RUNNING forever is polled until ctx ends, by
		// design; any other call must give up or ask to be rescheduled.
		if tr.Requests() > fuzzMaxRequests && kind != fuzzBulkInventoryLevels {
			t.Fatalf("op %d: more than %d requests for one call: the client loops on this answer", kind, fuzzMaxRequests)
		}
		if errors.Is(err, errFuzzBudget) && kind != fuzzBulkInventoryLevels {
			t.Fatalf("op %d: the client waited more than a day: %v", kind, err)
		}
		if kind != fuzzParseBulkLevels && kind != fuzzParseBulkCatalog && err != nil && !errors.Is(err, errFuzzBudget) && !errors.Is(err, connectortest.ErrTooManyRequests) {
			checkClass(t, kind, st, body, err)
		}
		if d, ok := connector.RetryDelay(err); ok && d < 0 {
			t.Fatalf("op %d: negative retry delay %v: %v", kind, d, err)
		}
		if ts := c.ThrottleStatus(); !ts.ReadAt.IsZero() {
			if !(ts.MaximumAvailable > 0) || !(ts.RestoreRate > 0) || math.IsInf(ts.MaximumAvailable, 0) ||
				math.IsInf(ts.RestoreRate, 0) || math.IsNaN(ts.CurrentlyAvailable) || ts.CurrentlyAvailable > ts.MaximumAvailable+epsilon {
				t.Fatalf("op %d: throttle estimate out of the bucket: %+v", kind, ts)
			}
		}
	})
}

// httpStatus maps the fuzzed status to a final HTTP status: 200–599 as
// given, anything else into that range.
func httpStatus(s uint16) int {
	if s >= 200 && s <= 599 {
		return int(s)
	}
	return 200 + int(s)%400
}

// fuzzCall runs call kind against c (or parses body directly for the bulk
// JSONL parsers) and checks the values it returns.
func fuzzCall(t *testing.T, c *Client, kind int, body []byte) error {
	ctx := context.Background()
	switch kind {
	case fuzzGetOrder:
		o, err := c.GetOrder(ctx, "gid://shopify/Order/1")
		if err == nil {
			if o.LegacyID < 0 {
				t.Fatalf("GetOrder: negative legacy id %d", o.LegacyID)
			}
		}
		return err
	case fuzzGetFulfillmentOrder:
		_, err := c.GetFulfillmentOrder(ctx, "gid://shopify/FulfillmentOrder/1")
		return err
	case fuzzOrdersUpdatedSince:
		page, err := c.OrdersUpdatedSince(ctx, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "")
		if err == nil {
			for _, o := range page.Orders {
				if o.ID == "" {
					t.Fatalf("OrdersUpdatedSince: an order without id: %+v", page)
				}
			}
		}
		return err
	case fuzzInventoryLevels:
		levels, err := c.AllInventoryLevels(ctx, "gid://shopify/Location/1")
		if err == nil {
			checkLevels(t, "AllInventoryLevels", levels)
		}
		return err
	case fuzzSetInventory:
		one := 1
		qs := []InventoryQuantity{
			{InventoryItemID: "gid://shopify/InventoryItem/1", LocationID: "gid://shopify/Location/1", Quantity: 5, ChangeFromQuantity: &one},
			{InventoryItemID: "gid://shopify/InventoryItem/2", LocationID: "gid://shopify/Location/1", Quantity: 0},
		}
		_, err := c.SetInventory(ctx, "fuzz-key", "correction", "", qs)
		var se *StaleQuantityError
		if errors.As(err, &se) {
			for _, it := range se.Items {
				if it.Index >= len(qs) || (it.Index >= 0 && it.InventoryItemID != qs[it.Index].InventoryItemID) {
					t.Fatalf("SetInventory: stale item %+v does not match the quantities sent", it)
				}
			}
		}
		return err
	case fuzzCreateFulfillment:
		id, err := c.CreateFulfillment(ctx, FulfillmentInput{
			FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1", Company: "UPS", Numbers: []string{"1Z999AA10123456784"},
		})
		if err == nil && id == "" {
			t.Fatal("CreateFulfillment succeeded without a fulfillment id")
		}
		return err
	case fuzzSubmitRequest:
		st, err := c.SubmitFulfillmentRequest(ctx, "gid://shopify/FulfillmentOrder/1", "", false)
		if err == nil && st.ID == "" {
			t.Fatalf("SubmitFulfillmentRequest succeeded without a fulfillment order id: %+v", st)
		}
		return err
	case fuzzFulfillmentEvents:
		_, err := c.FulfillmentEvents(ctx, "gid://shopify/Fulfillment/1")
		return err
	case fuzzBulkInventoryLevels:
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		levels, err := c.BulkInventoryLevels(ctx, "gid://shopify/Location/1")
		if err == nil {
			checkLevels(t, "BulkInventoryLevels", levels)
		}
		return err
	case fuzzParseBulkLevels:
		levels, err := parseBulkLevels(bytes.NewReader(body), "gid://shopify/Location/1")
		if err != nil && !connector.IsPermanent(err) {
			t.Fatalf("parseBulkLevels: a malformed line is not permanent: %v", err)
		}
		if err == nil {
			checkLevels(t, "parseBulkLevels", levels)
		}
		return err
	case fuzzParseBulkCatalog:
		read := -1
		vs, err := parseBulkCatalog(bytes.NewReader(body), func(n int) { read = n })
		if err != nil && !connector.IsPermanent(err) {
			t.Fatalf("parseBulkCatalog: a malformed line is not permanent: %v", err)
		}
		if err == nil {
			if read != len(vs) {
				t.Fatalf("parseBulkCatalog: progress %d, %d variants", read, len(vs))
			}
			for _, v := range vs {
				if v.ID == "" {
					t.Fatalf("parseBulkCatalog: a variant without id: %+v", v)
				}
			}
		}
		return err
	case fuzzDoRaw:
		var out map[string]any
		return c.Do(ctx, "GetOrder", map[string]any{"id": "gid://shopify/Order/1"}, &out)
	case fuzzWebhookSubscriptions:
		_, err := c.WebhookSubscriptions(ctx)
		return err
	}
	t.Fatalf("unknown op %d", kind)
	return nil
}

// checkLevels checks decoded inventory levels: each names its item.
func checkLevels(t *testing.T, call string, levels []InventoryLevel) {
	t.Helper()
	for _, l := range levels {
		if l.InventoryItemID == "" {
			t.Fatalf("%s: a level without inventory item id: %+v", call, levels)
		}
	}
}

// checkClass checks that err is classified as the envelope (status, body)
// says it must be.
func checkClass(t *testing.T, kind, status int, body []byte, err error) {
	t.Helper()
	perm := connector.IsPermanent(err)
	_, retryAfter := connector.RetryDelay(err)
	if errors.Is(err, connectortest.ErrTooManyRequests) {
		return
	}
	switch {
	case status == http.StatusTooManyRequests:
		// Retried, then a retry-after with Shopify's delay, or transient
		// when it said 0 (the queue's backoff then spaces the attempts).
		if perm {
			t.Fatalf("op %d: HTTP 429 must not be permanent: %v", kind, err)
		}
		return
	case status >= 500:
		if perm {
			t.Fatalf("op %d: HTTP %d must not be permanent: %v", kind, status, err)
		}
		return
	case status > 299:
		var herr *HTTPError
		if !perm || !errors.As(err, &herr) || herr.StatusCode != status {
			t.Fatalf("op %d: HTTP %d must be a permanent *HTTPError: %v", kind, status, err)
		}
		return
	}
	var gr gqlResponse
	if json.Unmarshal(body, &gr) != nil {
		if perm {
			t.Fatalf("op %d: an answer that is not GraphQL must be transient: %v", kind, err)
		}
		return
	}
	switch {
	case hasCode(gr.Errors, "THROTTLED"):
		if perm || !errors.Is(err, ErrThrottled) {
			t.Fatalf("op %d: THROTTLED must be retried, not permanent: %v", kind, err)
		}
	case hasCode(gr.Errors, "INTERNAL_SERVER_ERROR"):
		var rerr *ResponseError
		if perm || !errors.As(err, &rerr) {
			t.Fatalf("op %d: INTERNAL_SERVER_ERROR must be a transient *ResponseError: %v", kind, err)
		}
	case len(gr.Errors) > 0:
		var rerr *ResponseError
		if !perm || !errors.As(err, &rerr) {
			t.Fatalf("op %d: GraphQL errors must be a permanent *ResponseError: %v", kind, err)
		}
	default:
		var berr *BulkOperationError
		if errors.As(err, &berr) && ((berr.Status == "FAILED" && berr.ErrorCode == "INTERNAL_SERVER_ERROR") || berr.Status == "EXPIRED") {
			return // Shopify: intermittent, run the bulk query again
		}
		// A well-formed answer the call cannot use (bad data, userErrors,
		// a missing object, inconsistent paging) is permanent: the same
		// request gets the same answer. Only an idempotent request still
		// in progress asks to be retried later.
		if !perm && !retryAfter {
			t.Fatalf("op %d: an error on a well-formed answer must be permanent or retry-after: %v", kind, err)
		}
	}
}

// fuzzSeed is one seed input.
type fuzzSeed struct {
	op         uint8
	status     uint16
	retryAfter string
	body       []byte
}

// graphQLSeeds returns Shopify's documented error shapes and the answers
// the simulator gives to a full run of the hub's calls.
func graphQLSeeds(f *testing.F) []fuzzSeed {
	f.Helper()
	seeds := []fuzzSeed{
		// THROTTLED with the cost extension (shopify.dev, "API rate limits").
		{fuzzGetOrder, 200, "", []byte(`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],"extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":120,"restoreRate":100.0}}}}`)},
		{fuzzInventoryLevels, 200, "", []byte(`{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"abc"}}]}`)},
		{fuzzCreateFulfillment, 200, "", []byte(`{"errors":[{"message":"Field 'x' doesn't exist on type 'Fulfillment'","locations":[{"line":2,"column":3}],"path":["mutation","fulfillmentCreate","x"],"extensions":{"code":"undefinedField","typeName":"Fulfillment","fieldName":"x"}}]}`)},
		{fuzzCreateFulfillment, 200, "", []byte(`{"data":{"fulfillmentCreate":{"fulfillment":null,"userErrors":[{"field":["fulfillment","lineItemsByFulfillmentOrder","0","fulfillmentOrderLineItems","0","quantity"],"message":"Quantity must be less than or equal to the remaining quantity"}]}}}`)},
		{fuzzSetInventory, 200, "", []byte(`{"data":{"inventorySetQuantities":{"inventoryAdjustmentGroup":null,"userErrors":[{"field":["input","quantities","0","changeFromQuantity"],"message":"The specified compare quantity does not match the current quantity.","code":"CHANGE_FROM_QUANTITY_STALE"}]}}}`)},
		{fuzzSetInventory, 200, "", []byte(`{"data":{"inventorySetQuantities":{"inventoryAdjustmentGroup":null,"userErrors":[{"field":null,"message":"A request with this idempotency key is in progress.","code":"IDEMPOTENCY_CONCURRENT_REQUEST"}]}}}`)},
		{fuzzGetOrder, 429, "2.0", []byte(`{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`)},
		{fuzzGetOrder, 403, "", []byte(`{"errors":"[API] This action requires merchant approval for read_orders scope."}`)},
		{fuzzGetOrder, 502, "Wed, 21 Oct 2026 07:28:00 GMT", []byte(`<html>Bad gateway</html>`)},
		{fuzzGetOrder, 200, "", []byte(`{"data":{"order":null}}`)},
		{fuzzGetOrder, 200, "", []byte(`{"data":{"order":{"id":"gid://shopify/Order/1","legacyResourceId":"-1","fulfillmentOrders":{"nodes":[],"pageInfo":{"hasNextPage":true,"endCursor":null}}}}}`)},
		{fuzzGetOrder, 200, "", []byte(`{"data":{"order":{"id":"gid://shopify/Order/1","legacyResourceId":"-1","fulfillmentOrders":{"nodes":[{"id":"gid://shopify/FulfillmentOrder/1","lineItems":{"nodes":[{"id":"gid://shopify/FulfillmentOrderLineItem/1","sku":"A","totalQuantity":1,"remainingQuantity":1}],"pageInfo":{"hasNextPage":false}}}],"pageInfo":{"hasNextPage":false}}}}}`)},
		{fuzzInventoryLevels, 200, "", []byte(`{"data":{"location":{"inventoryLevels":{"nodes":[{"item":{"id":"","sku":"A"},"quantities":[]}],"pageInfo":{"hasNextPage":false}}}}}`)},
		{fuzzCreateFulfillment, 200, "", []byte(`{"data":{"fulfillmentCreate":{"fulfillment":{"id":""},"userErrors":[]}}}`)},
		{fuzzSubmitRequest, 200, "", []byte(`{"data":{"fulfillmentOrderSubmitFulfillmentRequest":{"submittedFulfillmentOrder":{"id":"","status":"OPEN","requestStatus":"SUBMITTED"},"userErrors":[]}}}`)},
		{fuzzWebhookSubscriptions, 200, "", []byte(`{"data":{"webhookSubscriptions":{"nodes":[],"pageInfo":{"hasNextPage":true,"endCursor":"c1"}}},"extensions":{"cost":{"requestedQueryCost":12,"actualQueryCost":12,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":0,"restoreRate":0.0001}}}}`)},
		{fuzzBulkInventoryLevels, 200, "", []byte(`{"data":{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"FAILED","errorCode":"INTERNAL_SERVER_ERROR","objectCount":"0","url":null,"partialDataUrl":null},"userErrors":[]},"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"FAILED","errorCode":"INTERNAL_SERVER_ERROR","objectCount":"0","url":null,"partialDataUrl":null}}}`)},
		{fuzzParseBulkLevels, 200, "", []byte("{\"item\":{\"id\":\"gid://shopify/InventoryItem/1\",\"sku\":\"A\"},\"quantities\":[{\"name\":\"available\",\"quantity\":3}],\"__parentId\":\"gid://shopify/Location/1\"}\n{\"item\":null}\n")},
	}
	sim := recordSimulator(f)
	for _, a := range sim {
		seeds = append(seeds, fuzzSeed{op: uint8(a.op), status: 200, body: a.body})
		if a.op != fuzzParseBulkLevels && a.op != fuzzParseBulkCatalog {
			seeds = append(seeds, fuzzSeed{op: fuzzDoRaw, status: 200, body: a.body})
		}
	}
	return seeds
}

// recordedAnswer is one simulator answer and the call that decodes it.
type recordedAnswer struct {
	op   int
	body []byte
}

// recorder is an http.RoundTripper that keeps the simulator's answers.
type recorder struct {
	next http.RoundTripper

	mu   sync.Mutex
	seen map[int]int
	out  []recordedAnswer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := fuzzParseBulkLevels // a GET is a bulk result download
	if req.Method == http.MethodPost && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		var g gqlRequest
		_ = json.Unmarshal(b, &g)
		var ok bool
		if op, ok = fuzzOpByName[g.OperationName]; !ok {
			op = fuzzDoRaw
		}
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[op] < 3 { // a few answers of each kind are enough
		r.seen[op]++
		r.out = append(r.out, recordedAnswer{op: op, body: body})
	}
	return resp, nil
}

// recordSimulator runs the hub's calls against the Shopify simulator and
// returns its answers.
func recordSimulator(f *testing.F) []recordedAnswer {
	f.Helper()
	sim := shopifysim.New(shopifysim.Config{AccessToken: "shpat_sim", WebhookSecret: "secret", Seed: 11, BucketSize: 1e9, RestoreRate: 1e9})
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rec := &recorder{next: srv.Client().Transport, seen: map[int]int{}}
	c := NewClient(ClientConfig{
		BaseURL: srv.URL, AccessToken: "shpat_sim", HTTPClient: &http.Client{Transport: rec},
		Sleep: func(ctx context.Context, d time.Duration) error { sim.WaitBulkQueries(); return ctx.Err() },
	})
	ctx := context.Background()
	must := func(what string, err error) {
		if err != nil {
			f.Fatalf("recording the simulator's answers: %s: %v", what, err)
		}
	}
	ps, err := sim.AddProducts([]shopifysim.ProductInput{{Title: "Tee", Variants: []shopifysim.VariantInput{
		{SKU: "SKU-A", Price: "19.99"}, {SKU: "SKU-B", Price: "5.00"},
	}}})
	must("products", err)
	_, loc, err := c.CreateFulfillmentService(ctx, "crossdock-fuzz", "")
	must("CreateFulfillmentService", err)
	a, b := ps[0].Variants[0], ps[0].Variants[1]
	levels, err := c.AllInventoryLevels(ctx, loc)
	must("AllInventoryLevels", err)
	avail := availableBySKU(levels)
	a0 := avail["SKU-A"]
	_, err = c.SetInventory(ctx, "fuzz-1", "correction", "", []InventoryQuantity{
		{InventoryItemID: a.InventoryItemID, LocationID: loc, Quantity: 10, ChangeFromQuantity: &a0},
		{InventoryItemID: b.InventoryItemID, LocationID: loc, Quantity: 5},
	})
	must("SetInventory", err)
	stale := a0 + 77
	_, err = c.SetInventory(ctx, "fuzz-2", "correction", "", []InventoryQuantity{
		{InventoryItemID: a.InventoryItemID, LocationID: loc, Quantity: 1, ChangeFromQuantity: &stale},
	})
	if err == nil {
		f.Fatal("recording the simulator's answers: a stale changeFromQuantity was accepted")
	}
	_, err = c.BulkInventoryLevels(ctx, loc)
	must("BulkInventoryLevels", err)
	_, err = c.CatalogBulk(ctx, time.Millisecond, nil)
	must("CatalogBulk", err)
	ship := order.Address{Name: "Steve Shipper", Address1: "123 Shipping Street", City: "Shippington", ProvinceCode: "KY", PostalCode: "40003", CountryCode: "US"}
	orderID, _, err := c.CreateOrder(ctx, OrderInput{
		Email: "jon@example.com", ShippingAddress: ship, InventoryBehaviour: "DECREMENT_OBEYING_POLICY",
		Lines: []OrderLineInput{{VariantID: a.ID, Quantity: 2}, {VariantID: b.ID, Quantity: 1}},
	})
	must("CreateOrder", err)
	o, err := c.GetOrder(ctx, orderID)
	must("GetOrder", err)
	fo := o.FulfillmentOrders[0]
	_, err = c.GetFulfillmentOrder(ctx, fo.ID)
	must("GetFulfillmentOrder", err)
	st, err := c.SubmitFulfillmentRequest(ctx, fo.ID, "please ship", false)
	must("SubmitFulfillmentRequest", err)
	_, err = c.AcceptFulfillmentRequest(ctx, st.ID, "accepted")
	must("AcceptFulfillmentRequest", err)
	in := FulfillmentInput{FulfillmentOrderID: fo.ID, Company: "UPS", Numbers: []string{"1Z999AA10123456784"}}
	for _, l := range fo.Lines {
		in.Lines = append(in.Lines, FulfillmentLine{ID: l.ID, Quantity: l.RemainingQuantity})
	}
	fid, err := c.CreateFulfillment(ctx, in)
	must("CreateFulfillment", err)
	if _, err := c.CreateFulfillment(ctx, in); err == nil {
		f.Fatal("recording the simulator's answers: shipping twice was accepted")
	}
	_, err = c.CreateFulfillmentEvent(ctx, fid, FulfillmentEventInput{Status: "IN_TRANSIT", HappenedAt: time.Now().Add(-time.Hour)})
	must("CreateFulfillmentEvent", err)
	_, err = c.FulfillmentEvents(ctx, fid)
	must("FulfillmentEvents", err)
	_, err = c.GetOrder(ctx, orderID)
	must("GetOrder after shipping", err)
	_, err = c.OrdersUpdatedSince(ctx, o.CreatedAt.Add(-time.Second), "")
	must("OrdersUpdatedSince", err)
	_, err = c.WebhookSubscriptions(ctx)
	must("WebhookSubscriptions", err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The catalogue's JSONL is recorded as a levels download; give it to
	// the catalogue parser too.
	out := rec.out
	for _, a := range rec.out {
		if a.op == fuzzParseBulkLevels && strings.Contains(string(a.body), "inventoryItem") {
			out = append(out, recordedAnswer{op: fuzzParseBulkCatalog, body: a.body})
		}
	}
	return out
}
