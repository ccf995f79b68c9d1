package wmssim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// The requests FuzzHandler sends, chosen by the input's first argument
// (modulo simOpCount). ref is the path's external reference (or the raw
// query for the list calls), key the Idempotency-Key, body the body.
const (
	simCreate   = iota // POST /v1/orders
	simGet             // GET /v1/orders/{ref}
	simCancel          // POST /v1/orders/{ref}/cancel
	simAmend           // PUT /v1/orders/{ref}
	simEvents          // GET /v1/events?{ref}
	simItems           // GET /v1/items?{ref}
	simStock           // POST /_sim/stock
	simSetItems        // POST /_sim/items
	simReturn          // POST /v1/returns
	simRaw             // {key} {ref}: any method and path
	simOpCount
)

const simToken = "s3cret"

// simSetup is a simulator with stock, an item master and one order, on a
// manual clock.
func simSetup(t *testing.T) (*wmssim.Server, *wmssim.ManualClock) {
	t.Helper()
	clock := wmssim.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	sim := wmssim.New(wmssim.Config{
		Name: "paris", Token: simToken, Now: clock.Now, Seed: 7,
		MultiPackageRate: 0.5, PartialShipRate: 0.5, CarrierEventRate: 0.5, TrackingUpdateRate: 0.5,
	})
	sim.SetStock(map[string]int{"SKU-A": 10, "SKU-B": 1})
	if err := sim.SetItems([]connector.Item{{Code: "SKU-A", UOM: "EA", PackSize: 1, Active: true}, {Code: "SKU-B", Active: true}}); err != nil {
		t.Fatal(err)
	}
	rec := serve(sim, http.MethodPost, "/v1/orders", "CD-1", []byte(fuzzOrderJSON))
	if rec.Code != http.StatusCreated {
		t.Fatalf("setup order: %d %s", rec.Code, rec.Body)
	}
	return sim, clock
}

const fuzzOrderJSON = `{"external_ref":"CD-1","shop":"fuzz.myshopify.com","order_id":"gid://shopify/Order/1",` +
	`"fulfillment_order_id":"gid://shopify/FulfillmentOrder/1",` +
	`"ship_to":{"name":"Ada Lovelace","address1":"1 Rue de Rivoli","city":"Paris","postal_code":"75001","country_code":"FR"},` +
	`"lines":[{"line_no":1,"sku":"SKU-A","quantity":2},{"line_no":2,"sku":"SKU-B","quantity":1}]}`

// serve sends one request to the simulator in process.
func serve(sim *wmssim.Server, method, target, key string, body []byte) *httptest.ResponseRecorder {
	req, err := http.NewRequest(method, "http://wms.fuzz.example"+target, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+simToken)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	return rec
}

// FuzzHandler sends one fuzzed request to the WMS simulator (an order
// created, read, cancelled or amended; a feed, item or stock call; a
// return; any method and path), then lets two hours of warehouse time pass.
// Seeds are the protocol's requests as the hub sends them.
//
// Properties: no panic; never a 500; every answer of the API is JSON and
// every error answer is {"error": {"code", "message"}}; an order the
// simulator accepted can be read back under its wms_order_id; the events
// it publishes carry what the protocol requires (id, type, external_ref,
// at; a shipment with its reference and at least one package) with unique
// ids; stock stays consistent (available = max(0, on hand − allocated),
// nothing negative).
func FuzzHandler(f *testing.F) {
	order2 := strings.ReplaceAll(fuzzOrderJSON, "CD-1", "CD-2")
	amended := strings.Replace(fuzzOrderJSON, `"quantity":2`, `"quantity":3`, 1)
	seeds := []struct {
		op        uint8
		ref, key  string
		body      string
		rawMethod string
	}{
		{op: simCreate, key: "CD-2", body: order2},
		{op: simCreate, key: "CD-1", body: fuzzOrderJSON},
		{op: simCreate, key: "CD-1", body: amended},
		{op: simCreate, key: "CD-9", body: `{"external_ref":"CD-9","lines":[{"line_no":1,"sku":"","quantity":0}],"ship_to":{}}`},
		{op: simGet, ref: "CD-1"},
		{op: simGet, ref: "CD-404"},
		{op: simCancel, ref: "CD-1"},
		{op: simAmend, ref: "CD-1", body: amended},
		{op: simAmend, ref: "CD-1", body: order2},
		{op: simEvents, ref: "after=0&limit=5"},
		{op: simEvents, ref: "after=-1"},
		{op: simItems, ref: "limit=1&after=SKU-A"},
		{op: simStock, body: `{"SKU-A":0,"SKU-C":7}`},
		{op: simStock, body: `{"SKU-A":-3}`},
		{op: simSetItems, body: `[{"code":"SKU-A","active":true,"barcodes":["0123456789012"],"uom":"CS","pack_size":6}]`},
		{op: simReturn, body: `{"return_id":"gid://shopify/Return/1","name":"#1001-R1","external_ref":"CD-1","lines":[{"sku":"SKU-A","quantity":1}]}`},
		{op: simRaw, key: "GET", ref: "/v1/stock"},
		{op: simRaw, key: "GET", ref: "/_sim/state"},
		{op: simRaw, key: "POST", ref: "/_sim/faults", body: `{"latency":"1ms","duplicate_event_rate":0}`},
		{op: simRaw, key: "DELETE", ref: "/v1/orders/CD-1"},
	}
	for _, s := range seeds {
		f.Add(s.op, s.ref, s.key, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, ref, key string, body []byte) {
		sim, clock := simSetup(t)
		kind := int(op) % simOpCount
		var method, target string
		switch kind {
		case simCreate:
			method, target = http.MethodPost, "/v1/orders"
		case simGet:
			method, target = http.MethodGet, "/v1/orders/"+url.PathEscape(ref)
		case simCancel:
			method, target = http.MethodPost, "/v1/orders/"+url.PathEscape(ref)+"/cancel"
		case simAmend:
			method, target = http.MethodPut, "/v1/orders/"+url.PathEscape(ref)
		case simEvents:
			method, target = http.MethodGet, "/v1/events?"+ref
		case simItems:
			method, target = http.MethodGet, "/v1/items?"+ref
		case simStock:
			method, target = http.MethodPost, "/_sim/stock"
		case simSetItems:
			method, target = http.MethodPost, "/_sim/items"
		case simReturn:
			method, target = http.MethodPost, "/v1/returns"
		case simRaw:
			method, target = key, ref
			if !strings.HasPrefix(target, "/") || method == "" || method == http.MethodConnect {
				return
			}
			key = ""
		}
		rec := serve(sim, method, target, key, body)
		if rec == nil {
			return // not a request net/http can build
		}
		checkAnswer(t, method, target, rec)
		if kind == simCreate && (rec.Code == http.StatusCreated || rec.Code == http.StatusOK) {
			var created struct {
				ExternalRef string `json:"external_ref"`
				WMSOrderID  string `json:"wms_order_id"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.WMSOrderID == "" {
				t.Fatalf("create answered %d without a wms_order_id: %s", rec.Code, rec.Body)
			}
			got := serve(sim, http.MethodGet, "/v1/orders/"+url.PathEscape(created.ExternalRef), "", nil)
			var back struct {
				WMSOrderID string `json:"wms_order_id"`
			}
			if got.Code != http.StatusOK || json.Unmarshal(got.Body.Bytes(), &back) != nil || back.WMSOrderID != created.WMSOrderID {
				t.Fatalf("order %q accepted as %s reads back as %d %s", created.ExternalRef, created.WMSOrderID, got.Code, got.Body)
			}
		}
		for range 8 {
			clock.Advance(15 * time.Minute)
			sim.Settle(clock)
		}
		checkFeed(t, sim.Events())
		for sku, it := range sim.Stock() {
			if it.OnHand < 0 || it.Allocated < 0 || it.Available != max(0, it.OnHand-it.Allocated) {
				t.Fatalf("stock of %s is inconsistent: %+v", sku, it)
			}
		}
	})
}

// checkAnswer checks the shape of one answer.
func checkAnswer(t *testing.T, method, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		// Only the router's own answers (no route, wrong method) are text.
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusMovedPermanently && rec.Code != http.StatusTemporaryRedirect {
			t.Fatalf("%s %s: %d answered with %q: %s", method, target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		return
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s %s: %d answered invalid JSON: %s", method, target, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var e struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %s: error answer %d is not {\"error\": {code, message}}: %s", method, target, rec.Code, rec.Body)
		}
	}
}

// checkFeed checks that the published events carry what the protocol
// requires.
func checkFeed(t *testing.T, evs []connector.Event) {
	t.Helper()
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.ID == "" || ev.Type == "" || ev.ExternalRef == "" || ev.At.IsZero() {
			t.Fatalf("event lacks id, type, external_ref or at: %+v", ev)
		}
		if seen[ev.ID] {
			t.Fatalf("event id %s published twice", ev.ID)
		}
		seen[ev.ID] = true
		if ev.Type == connector.EventShipped {
			checkShipment(t, ev)
		}
	}
}

func checkShipment(t *testing.T, ev connector.Event) {
	t.Helper()
	s := ev.Shipment
	if s == nil || s.ID == "" || s.ExternalRef != ev.ExternalRef || len(s.Packages) == 0 {
		t.Fatalf("shipped event %s without a proper shipment: %+v", ev.ID, s)
	}
}
