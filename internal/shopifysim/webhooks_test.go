package shopifysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type receivedHook struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint; status decides the answer to the n-th
// delivery (0-based).
type receiver struct {
	url   string
	mu    sync.Mutex
	hooks []receivedHook
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.hooks)
		r.hooks = append(r.hooks, receivedHook{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(status(n))
	}))
	t.Cleanup(ts.Close)
	r.url = ts.URL + "/webhooks"
	return r
}

func ok200(int) int { return http.StatusOK }

func (r *receiver) received() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.hooks)
}

func (r *receiver) topic(topic string) []receivedHook {
	var out []receivedHook
	for _, h := range r.received() {
		if h.header.Get("X-Shopify-Topic") == topic {
			out = append(out, h)
		}
	}
	return out
}

func (b *testBundle) subscribe(t *testing.T, topic, uri string) string {
	t.Helper()
	p := noUserErrors(t, b.mustGQL(t, `mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
	  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) { webhookSubscription { id topic uri } userErrors { field message } } }`,
		map[string]any{"topic": topic, "uri": uri}), "webhookSubscriptionCreate")
	return str(p, "webhookSubscription", "id")
}

func (b *testBundle) waitHooks(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.srv.WaitWebhooks(ctx); err != nil {
		t.Fatalf("webhooks still pending: %v", err)
	}
}

func TestWebhookSignatureHeadersAndPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, ok200)
	for _, topic := range []string{"ORDERS_CREATE", "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE", "INVENTORY_LEVELS_UPDATE"} {
		b.subscribe(t, topic, rcv.url)
	}
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 10)
	o := b.order(t, map[string]int{"SKU-A": 2})
	b.waitHooks(t)

	hooks := rcv.topic("orders/create")
	if len(hooks) != 1 || len(rcv.received()) != 3 {
		t.Fatalf("deliveries: %d orders/create, %d total", len(hooks), len(rcv.received()))
	}
	h := hooks[0]
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(h.body)
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(h.header.Get("X-Shopify-Hmac-Sha256")), []byte(want)) {
		t.Fatalf("HMAC %q, want %q", h.header.Get("X-Shopify-Hmac-Sha256"), want)
	}
	if h.header.Get("X-Shopify-Shop-Domain") != "demo.myshopify.com" || h.header.Get("X-Shopify-API-Version") != "2026-07" ||
		h.header.Get("X-Shopify-Webhook-Id") == "" || h.header.Get("X-Shopify-Event-Id") == "" {
		t.Fatalf("headers = %v", h.header)
	}
	if _, err := time.Parse(time.RFC3339, h.header.Get("X-Shopify-Triggered-At")); err != nil {
		t.Fatalf("X-Shopify-Triggered-At: %v", err)
	}
	var body struct {
		ID        int64  `json:"id"`
		GID       string `json:"admin_graphql_api_id"`
		Name      string `json:"name"`
		Email     string `json:"email"`
		LineItems []struct {
			ID        int64  `json:"id"`
			SKU       string `json:"sku"`
			Quantity  int    `json:"quantity"`
			VariantID int64  `json:"variant_id"`
			GID       string `json:"admin_graphql_api_id"`
		} `json:"line_items"`
		ShippingAddress struct {
			FirstName   string `json:"first_name"`
			CountryCode string `json:"country_code"`
		} `json:"shipping_address"`
		FulfillmentStatus *string `json:"fulfillment_status"`
	}
	if err := json.Unmarshal(h.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.GID != o["id"] || "gid://shopify/Order/"+strconv.FormatInt(body.ID, 10) != body.GID || body.ID <= 1<<53 {
		t.Fatalf("id %d / %s, order %s", body.ID, body.GID, o["id"])
	}
	variant := b.variant("SKU-A").ID
	if len(body.LineItems) != 1 || body.LineItems[0].SKU != "SKU-A" || body.LineItems[0].Quantity != 2 ||
		"gid://shopify/ProductVariant/"+strconv.FormatInt(body.LineItems[0].VariantID, 10) != variant ||
		body.ShippingAddress.FirstName != "Ada" || body.ShippingAddress.CountryCode != "US" || body.FulfillmentStatus != nil || body.Name != "#1001" {
		t.Fatalf("payload = %s", h.body)
	}
	lv := rcv.topic("inventory_levels/update")
	var level map[string]json.RawMessage
	if len(lv) != 1 || json.Unmarshal(lv[0].body, &level) != nil {
		t.Fatalf("inventory_levels/update = %v", lv)
	}
	var keys []string
	for k := range level {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "admin_graphql_api_id,available,inventory_item_id,location_id,updated_at" || string(level["available"]) != "8" {
		t.Fatalf("inventory_levels/update body = %s", lv[0].body)
	}
}

func TestWebhookDuplicatesShareEventID(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.WebhookDuplicateRate = 1 })
	rcv := newReceiver(t, ok200)
	b.subscribe(t, "ORDERS_CREATE", rcv.url)
	for range 8 {
		b.order(t, map[string]int{"SKU-A": 1})
	}
	b.waitHooks(t)
	byEvent := map[string][]string{}
	for _, h := range rcv.received() {
		ev := h.header.Get("X-Shopify-Event-Id")
		byEvent[ev] = append(byEvent[ev], h.header.Get("X-Shopify-Webhook-Id"))
	}
	if len(byEvent) != 8 {
		t.Fatalf("%d distinct events, want 8", len(byEvent))
	}
	sameID, newID := 0, 0
	for ev, ids := range byEvent {
		if len(ids) != 2 {
			t.Fatalf("event %s delivered %d times", ev, len(ids))
		}
		if ids[0] == ids[1] {
			sameID++
		} else {
			newID++
		}
	}
	if sameID == 0 || newID == 0 {
		t.Fatalf("want both redeliveries (same webhook id: %d) and fan-out duplicates (new webhook id: %d)", sameID, newID)
	}
	if st := b.srv.Stats(); st.WebhooksDuplicated != 8 || st.WebhooksSent != 16 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestWebhookRetryAfterFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, func(n int) int {
		if n == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	b.subscribe(t, "ORDERS_CREATE", rcv.url)
	b.order(t, map[string]int{"SKU-B": 1})
	b.waitHooks(t)
	hooks := rcv.received()
	if len(hooks) != 2 {
		t.Fatalf("%d deliveries, want 2", len(hooks))
	}
	if !bytes.Equal(hooks[0].body, hooks[1].body) ||
		hooks[0].header.Get("X-Shopify-Webhook-Id") != hooks[1].header.Get("X-Shopify-Webhook-Id") ||
		hooks[0].header.Get("X-Shopify-Event-Id") != hooks[1].header.Get("X-Shopify-Event-Id") {
		t.Fatal("a retry must resend the original payload with the same webhook and event ids")
	}
	if st := b.srv.Stats(); st.WebhooksRetried != 1 || st.WebhooksSent != 1 || st.WebhookAttempts != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestWebhookPersistentFailureRemovesAPISubscription(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	b := setup(t, func(c *Config) {
		c.WebhookRetries = 2
		c.WebhookRetryBaseDelay = time.Millisecond
		c.Subscriptions = []SubscriptionConfig{{Topic: "orders/create", URI: rcv.url + "?static"}}
	})
	b.subscribe(t, "ORDERS_CREATE", rcv.url)
	b.order(t, map[string]int{"SKU-B": 1})
	b.waitHooks(t)
	if n := len(rcv.received()); n != 6 {
		t.Fatalf("%d attempts, want 2 subscriptions × (1 + 2 retries)", n)
	}
	subs := b.srv.WebhookSubscriptions()
	if len(subs) != 1 || subs[0].CreatedViaAPI {
		t.Fatalf("subscriptions = %+v, want only the app-configuration one", subs)
	}
	if st := b.srv.Stats(); st.WebhooksFailed != 2 || st.SubscriptionsRemoved != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestWebhookDropAndReorder(t *testing.T) {
	t.Parallel()
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.WebhookDropRate = 1 })
		rcv := newReceiver(t, ok200)
		b.subscribe(t, "ORDERS_CREATE", rcv.url)
		b.order(t, map[string]int{"SKU-B": 1})
		b.waitHooks(t)
		if n := len(rcv.received()); n != 0 {
			t.Fatalf("%d deliveries with drop rate 1", n)
		}
		if st := b.srv.Stats(); st.WebhooksDropped != 1 || st.WebhookEvents != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.WebhookReorderRate = 1 })
		rcv := newReceiver(t, ok200)
		b.subscribe(t, "ORDERS_CREATE", rcv.url)
		for range 3 {
			b.order(t, map[string]int{"SKU-B": 1})
		}
		b.waitHooks(t)
		if n := len(rcv.received()); n != 3 {
			t.Fatalf("%d deliveries, want 3", n)
		}
		if st := b.srv.Stats(); st.WebhooksDelayed != 3 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestWebhookTopicsAlongTheFulfillmentFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, ok200)
	for _, topic := range []string{"ORDERS_UPDATED", "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED",
		"FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_ACCEPTED", "FULFILLMENTS_CREATE"} {
		b.subscribe(t, topic, rcv.url)
	}
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 5)
	o := b.order(t, map[string]int{"SKU-A": 1})
	foID := str(o, "fulfillmentOrders", "nodes", 0, "id")
	b.mustGQL(t, submitFO, map[string]any{"id": foID})
	b.mustGQL(t, acceptFO, map[string]any{"id": foID})
	noUserErrors(t, b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}},
		"trackingInfo":                map[string]any{"company": "UPS", "number": "1Z42"},
	}}), "fulfillmentCreate")
	b.waitHooks(t)

	if n := len(rcv.topic("orders/updated")); n != 3 {
		t.Fatalf("orders/updated delivered %d times, want 3 (submit, accept, fulfil)", n)
	}
	var submitted struct {
		Submitted struct {
			ID            string `json:"id"`
			RequestStatus string `json:"request_status"`
		} `json:"submitted_fulfillment_order"`
		Request struct {
			Message string `json:"message"`
		} `json:"fulfillment_order_merchant_request"`
	}
	if hs := rcv.topic("fulfillment_orders/fulfillment_request_submitted"); len(hs) != 1 || json.Unmarshal(hs[0].body, &submitted) != nil ||
		submitted.Submitted.ID != foID || submitted.Submitted.RequestStatus != "submitted" || submitted.Request.Message != "please ship" {
		t.Fatalf("fulfillment_request_submitted = %+v", submitted)
	}
	if hs := rcv.topic("fulfillment_orders/fulfillment_request_accepted"); len(hs) != 1 || !bytes.Contains(hs[0].body, []byte(`"request_status":"accepted"`)) {
		t.Fatalf("fulfillment_request_accepted = %v", hs)
	}
	var f struct {
		OrderID         int64    `json:"order_id"`
		TrackingNumber  string   `json:"tracking_number"`
		TrackingNumbers []string `json:"tracking_numbers"`
		TrackingURL     string   `json:"tracking_url"`
		LineItems       []struct {
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		} `json:"line_items"`
	}
	hs := rcv.topic("fulfillments/create")
	if len(hs) != 1 || json.Unmarshal(hs[0].body, &f) != nil {
		t.Fatalf("fulfillments/create = %v", hs)
	}
	if "gid://shopify/Order/"+strconv.FormatInt(f.OrderID, 10) != o["id"] || f.TrackingNumber != "1Z42" || len(f.TrackingNumbers) != 1 ||
		!strings.Contains(f.TrackingURL, "1Z42") || len(f.LineItems) != 1 || f.LineItems[0].SKU != "SKU-A" || f.LineItems[0].Quantity != 1 {
		t.Fatalf("fulfillments/create body = %s", hs[0].body)
	}
	// Deliveries run concurrently, so look for the update rather than rely on order.
	if !slices.ContainsFunc(rcv.topic("orders/updated"), func(h receivedHook) bool {
		return bytes.Contains(h.body, []byte(`"fulfillment_status":"fulfilled"`))
	}) {
		t.Fatal("no orders/updated reports the order fulfilled")
	}
}
