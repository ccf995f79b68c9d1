package restwms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// The calls FuzzWMSProtocol makes, chosen by the input's first argument
// (modulo wmsOpCount).
const (
	wmsSubmit = iota
	wmsCancel
	wmsAmend
	wmsEvents
	wmsStock
	wmsItems
	wmsOrder
	wmsHealth
	wmsOpCount
)

// fuzzEventLimit is the page size Events asks for.
const fuzzEventLimit = 50

// fuzzMaxRequests bounds the requests of one call; more means the client
// loops on an answer.
const fuzzMaxRequests = 100

// fuzzOrder is the warehouse order the write calls send.
func fuzzOrder() *order.WarehouseOrder {
	return &order.WarehouseOrder{
		ExternalRef: "CD-1001", Shop: "fuzz.myshopify.com", Warehouse: "paris",
		OrderID: "gid://shopify/Order/1", FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1",
		ShipTo: order.Address{Name: "Ada Lovelace", Address1: "1 Rue de Rivoli", City: "Paris", PostalCode: "75001", CountryCode: "FR"},
		Lines:  []order.Line{{LineNo: 1, SKU: "SKU-A", Quantity: 2}},
	}
}

// FuzzWMSProtocol feeds warehouse answers (status, Retry-After, body) to
// the REST connector's real calls through an http.RoundTripper: order
// create, get, cancel and amend, the event feed, stock and item pages, and
// error answers. Seeds are the simulator's real answers, errors included.
//
// Properties: no panic; the call ends (item pages must move forward);
// errors follow the package's classes (4xx permanent, 429/503 with
// Retry-After retry-after, 408/425/5xx transient, every one wrapping an
// *HTTPError with the status); what is returned is what the protocol
// requires (a wms_order_id, events with id, type, reference and time and no
// more than asked, a cursor that never rewinds, a snapshot time, item
// codes); every stock line sent is either in the snapshot's Items (a SKU,
// non-negative quantities, no SKU twice, in the order sent) or in its
// Rejected (with its index, SKU and a reason, and only when it is bad).
func FuzzWMSProtocol(f *testing.F) {
	for _, s := range wmsSeeds(f) {
		f.Add(s.op, s.status, s.retryAfter, s.body)
	}
	f.Fuzz(func(t *testing.T, op uint8, status uint16, retryAfter string, body []byte) {
		st := int(status)
		if st < 200 || st > 599 { // a final status
			st = 200 + st%400
		}
		tr := &connectortest.CannedTransport{Status: st, RetryAfter: retryAfter, Body: body, Max: fuzzMaxRequests}
		c, err := restwms.New(restwms.Config{BaseURL: "https://wms.fuzz.example/api", Token: "t", HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		kind := int(op) % wmsOpCount
		err = wmsCall(t, c, kind, body)
		if tr.Requests() > fuzzMaxRequests {
			t.Fatalf("op %d: more than %d requests for one call: the client loops on this answer", kind, fuzzMaxRequests)
		}
		if err != nil {
			checkWMSClass(t, kind, st, retryAfter, err)
		}
	})
}

// wmsCall runs call kind and checks what it returns; body is the
// warehouse's answer.
func wmsCall(t *testing.T, c *restwms.Client, kind int, body []byte) error {
	ctx := context.Background()
	switch kind {
	case wmsSubmit:
		res, err := c.SubmitOrder(ctx, fuzzOrder())
		if err == nil && res.WMSOrderID == "" {
			t.Fatalf("SubmitOrder succeeded without a wms_order_id: %+v", res)
		}
		return err
	case wmsCancel:
		_, err := c.CancelOrder(ctx, "CD-1001")
		return err
	case wmsAmend:
		_, err := c.Amend(ctx, fuzzOrder())
		return err
	case wmsEvents:
		const cursor = "41"
		evs, next, err := c.Events(ctx, cursor, fuzzEventLimit)
		if err != nil {
			if next != cursor {
				t.Fatalf("Events failed but moved the cursor from %q to %q", cursor, next)
			}
			return err
		}
		if next == "" {
			t.Fatal("Events rewound the cursor to the start")
		}
		if len(evs) > fuzzEventLimit {
			t.Fatalf("Events returned %d events for limit %d", len(evs), fuzzEventLimit)
		}
		// Every event has an id (the warehouse's, or one from its content:
		// an empty id would make the hub take the event for a repeat and
		// lose it). Events lacking a type, reference or time are passed on
		// for the hub to quarantine.
		for i, ev := range evs {
			if ev.ID == "" {
				t.Fatalf("event %d has no id: %+v", i, ev)
			}
		}
		return nil
	case wmsStock:
		snap, err := c.Stock(ctx)
		if err == nil {
			checkStock(t, body, snap)
		}
		return err
	case wmsItems:
		items, err := c.Items(ctx)
		if err == nil {
			for _, it := range items {
				if it.Code == "" {
					t.Fatalf("Items returned an item without code: %+v", items)
				}
			}
		}
		return err
	case wmsOrder:
		_, err := c.Order(ctx, "CD-1001")
		return err
	case wmsHealth:
		return c.Health(ctx)
	}
	t.Fatalf("unknown op %d", kind)
	return nil
}

// checkStock checks a snapshot Stock returned for the answer body: a
// snapshot time; every line sent either in Items (SKU, quantities ≥ 0, one
// line per SKU, the good lines in the order sent) or in Rejected (its
// index, its SKU, a reason, and only a line that is bad: no SKU, a negative
// quantity, or a SKU sent on several lines).
func checkStock(t *testing.T, body []byte, snap connector.StockSnapshot) {
	t.Helper()
	if snap.AsOf.IsZero() {
		t.Fatalf("Stock returned a snapshot without as_of: %+v", snap)
	}
	var in struct {
		Items []connector.StockItem `json:"items"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("Stock accepted an answer that does not decode: %v", err)
	}
	if len(snap.Items)+len(snap.Rejected) != len(in.Items) {
		t.Fatalf("Stock returned %d lines and rejected %d of %d sent: lines were lost or made up (%+v)", len(snap.Items), len(snap.Rejected), len(in.Items), snap)
	}
	lines := map[string]int{}
	for _, it := range in.Items {
		lines[it.SKU]++
	}
	rejected := map[int]bool{}
	for _, r := range snap.Rejected {
		if r.Index < 0 || r.Index >= len(in.Items) || rejected[r.Index] {
			t.Fatalf("Stock rejected line %d, which was not sent or is rejected twice: %+v", r.Index, snap.Rejected)
		}
		rejected[r.Index] = true
		sent := in.Items[r.Index]
		if r.SKU != sent.SKU || r.Reason == "" {
			t.Fatalf("rejected line %+v does not name the line sent (%+v) or has no reason", r, sent)
		}
		if sent.SKU != "" && sent.OnHand >= 0 && sent.Available >= 0 && lines[sent.SKU] == 1 {
			t.Fatalf("Stock rejected a good line %+v: %s", sent, r.Reason)
		}
	}
	seen := map[string]bool{}
	k := 0
	for i, sent := range in.Items {
		if rejected[i] {
			continue
		}
		it := snap.Items[k]
		k++
		if it != sent {
			t.Fatalf("Stock item %d is %+v, want line %d as sent, %+v", k-1, it, i, sent)
		}
		if it.SKU == "" || it.OnHand < 0 || it.Available < 0 || seen[it.SKU] {
			t.Fatalf("Stock returned an impossible line %+v (SKU required, quantities ≥ 0, one line per SKU)", it)
		}
		seen[it.SKU] = true
	}
}

// checkWMSClass checks that err follows the package's error classes for
// the answer's status.
func checkWMSClass(t *testing.T, kind, status int, retryAfter string, err error) {
	t.Helper()
	if errors.Is(err, connectortest.ErrTooManyRequests) {
		return
	}
	perm := connector.IsPermanent(err)
	_, ra := connector.RetryDelay(err)
	var he *restwms.HTTPError
	isHTTP := errors.As(err, &he)
	if kind == wmsAmend && status == http.StatusConflict {
		// too_late is an answer, not an error; any other 409 is permanent.
		if !perm || !isHTTP {
			t.Fatalf("amend: HTTP 409 must be a permanent *HTTPError: %v", err)
		}
		return
	}
	switch {
	case status >= 200 && status <= 299:
		// A 2xx the client cannot use: a defect of the answer. Its class
		// is not specified (a truncated body is transient), but it must
		// not claim to be a WMS error answer.
		if isHTTP {
			t.Fatalf("op %d: HTTP %d reported as an error answer: %v", kind, status, err)
		}
		return
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		if perm {
			t.Fatalf("op %d: HTTP %d must not be permanent: %v", kind, status, err)
		}
		if d, ok := connector.RetryDelay(err); ok {
			checkDelay(t, kind, retryAfter, d)
		}
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly || status >= 500:
		if perm || ra {
			t.Fatalf("op %d: HTTP %d must be transient: %v", kind, status, err)
		}
	case status >= 400:
		if !perm {
			t.Fatalf("op %d: HTTP %d must be permanent: %v", kind, status, err)
		}
	default: // 3xx
		if perm || ra {
			t.Fatalf("op %d: HTTP %d must be transient: %v", kind, status, err)
		}
	}
	if !isHTTP || he.StatusCode != status {
		t.Fatalf("op %d: HTTP %d error does not wrap an *HTTPError with the status: %v", kind, status, err)
	}
}

// checkDelay checks the retry delay of an answer whose Retry-After said
// retryAfter: never negative, and exactly the seconds given (or the
// longest delay when they do not fit).
func checkDelay(t *testing.T, kind int, retryAfter string, d time.Duration) {
	t.Helper()
	if d < 0 {
		t.Fatalf("op %d: negative retry delay %v for Retry-After %q", kind, d, retryAfter)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(retryAfter), 10, 64)
	if err != nil || n < 0 {
		return
	}
	if want := time.Duration(n) * time.Second; d != want && (want/time.Second == time.Duration(n) || d != math.MaxInt64) {
		t.Fatalf("op %d: Retry-After %q gave a delay of %v", kind, retryAfter, d)
	}
}

// wmsSeed is one seed input.
type wmsSeed struct {
	op         uint8
	status     uint16
	retryAfter string
	body       []byte
}

// wmsSeeds records the simulator's answers to a full run of the
// connector's calls: an order through every step with carrier events,
// tracking updates, several packages and a backorder; stock; items;
// amendments, cancellations and the error answers (unknown order, too
// late, bad cursor, outage, throttling, bad token).
func wmsSeeds(f *testing.F) []wmsSeed {
	f.Helper()
	clock := wmssim.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	sim := wmssim.New(wmssim.Config{
		Name: "paris", Token: "s3cret", Now: clock.Now, Seed: 7,
		MultiPackageRate: 1, CarrierEventRate: 1, TrackingUpdateRate: 1, PartialShipRate: 0.5,
	})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rec := &recorder{next: srv.Client().Transport}
	c, err := restwms.New(restwms.Config{BaseURL: srv.URL, Token: "s3cret", HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	sim.SetStock(map[string]int{"SKU-A": 40, "SKU-B": 3})
	if err := sim.SetItems([]connector.Item{{Code: "SKU-A", Description: "Tee", Barcodes: []string{"0123456789012"}, UOM: "EA", PackSize: 1, Active: true}, {Code: "SKU-B", Active: false}}); err != nil {
		f.Fatal(err)
	}
	_ = c.Health(ctx)
	for i := range 3 {
		o := fuzzOrder()
		o.ExternalRef = fmt.Sprintf("CD-%d", 1001+i)
		o.Lines = append(o.Lines, order.Line{LineNo: 2, SKU: "SKU-B", Quantity: 1 + i})
		_, _ = c.SubmitOrder(ctx, o)
		_, _ = c.SubmitOrder(ctx, o) // the replay
	}
	_, _ = c.Amend(ctx, func() *order.WarehouseOrder { o := fuzzOrder(); o.Lines[0].Quantity = 3; return o }())
	_, _ = c.CancelOrder(ctx, "CD-1003")
	for range 8 {
		clock.Advance(time.Minute)
		sim.Settle(clock)
	}
	_, _ = c.Amend(ctx, fuzzOrder()) // too late by now
	_, _ = c.CancelOrder(ctx, "CD-1001")
	_, _ = c.Order(ctx, "CD-1001")
	_, _ = c.Order(ctx, "CD-9999")
	cur := ""
	for range 10 {
		evs, next, err := c.Events(ctx, cur, 5)
		if err != nil || len(evs) == 0 {
			break
		}
		cur = next
	}
	_, _, _ = c.Events(ctx, "nope", 5)
	_, _ = c.Stock(ctx)
	_, _ = c.Items(ctx)
	sim.SetFaults(wmssim.Faults{Down: true, RetryAfter: 30 * time.Second})
	_, _ = c.Stock(ctx)
	sim.SetFaults(wmssim.Faults{Throttle: true, RetryAfter: 2 * time.Second})
	_, _, _ = c.Events(ctx, "", 5)
	sim.SetFaults(wmssim.Faults{})
	bad, _ := restwms.New(restwms.Config{BaseURL: srv.URL, Token: "wrong", HTTPClient: &http.Client{Transport: rec}})
	_, _ = bad.Stock(ctx)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	seeds := append([]wmsSeed(nil), rec.out...)
	// Answers a warehouse may give that the simulator does not.
	seeds = append(seeds,
		wmsSeed{wmsEvents, 200, "", []byte(`{"events":[{"id":"","type":"shipped","external_ref":"CD-1","at":"2026-03-02T09:00:00Z"}],"next_cursor":""}`)},
		wmsSeed{wmsStock, 200, "", []byte(`{"as_of":"2026-03-02T09:00:00Z","full":true,"items":[{"sku":"A","on_hand":-1,"available":2},{"sku":"A","on_hand":1,"available":1}]}`)},
		wmsSeed{wmsItems, 200, "", []byte(`{"items":[{"code":"A","active":true}],"next_cursor":"A"}`)},
		wmsSeed{wmsStock, 503, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`<html>maintenance</html>`)},
		wmsSeed{wmsSubmit, 200, "", []byte(`{"wms_order_id":"","created":true}`)},
		wmsSeed{wmsEvents, 429, "99999999999", []byte(`{"error":{"code":"rate_limited","message":"too many requests"}}`)},
	)
	return seeds
}

// recorder is an http.RoundTripper that keeps the simulator's answers,
// tagged with the call that decodes them.
type recorder struct {
	next http.RoundTripper

	mu  sync.Mutex
	out []wmsSeed
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
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
	var op int
	p := req.URL.Path
	switch {
	case req.Method == http.MethodPost && p == "/v1/orders":
		op = wmsSubmit
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/cancel"):
		op = wmsCancel
	case req.Method == http.MethodPut:
		op = wmsAmend
	case p == "/v1/events":
		op = wmsEvents
	case p == "/v1/stock":
		op = wmsStock
	case p == "/v1/items":
		op = wmsItems
	case strings.HasPrefix(p, "/v1/orders/"):
		op = wmsOrder
	default:
		op = wmsHealth
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out = append(r.out, wmsSeed{op: uint8(op), status: uint16(resp.StatusCode), retryAfter: resp.Header.Get("Retry-After"), body: body})
	return resp, nil
}
