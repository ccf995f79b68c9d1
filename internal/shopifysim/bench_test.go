package shopifysim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// BenchmarkOrderLifecycle measures the demo's hot path over real HTTP:
// orderCreate, read the order, submit, accept, fulfillmentCreate, read
// back; with webhook subscribers. Run with -bench OrderLifecycle.
func BenchmarkOrderLifecycle(b *testing.B) {
	srv := New(Config{AccessToken: testToken, WebhookSecret: testSecret, BucketSize: 1e9, RestoreRate: 1e9})
	defer srv.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ps, _ := srv.AddProducts([]ProductInput{{Title: "Tee", Variants: []VariantInput{{SKU: "A"}, {SKU: "B"}}}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	call := func(q string, vars map[string]any) map[string]any {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, ts.URL+GraphQLPath, bytes.NewReader(body))
		req.Header.Set("X-Shopify-Access-Token", testToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
			b.Fatalf("%v %v", err, out.Errors)
		}
		return out.Data
	}
	for _, topic := range []string{"ORDERS_CREATE", "ORDERS_UPDATED", "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", "INVENTORY_LEVELS_UPDATE"} {
		call(`mutation($t: WebhookSubscriptionTopic!, $u: String!) { webhookSubscriptionCreate(topic: $t, webhookSubscription: {uri: $u}) { userErrors { message } } }`,
			map[string]any{"t": topic, "u": hook.URL})
	}
	loc := str(call(createFS, map[string]any{"name": "WMS"}), "fulfillmentServiceCreate", "fulfillmentService", "location", "id")
	_ = srv.SetInventory("A", loc, InventoryQuantities{Available: 1 << 30})
	lifecycle := func() {
		o := dig(call(createOrder, map[string]any{
			"order":   map[string]any{"email": "x@example.com", "lineItems": []any{map[string]any{"variantId": ps[0].Variants[0].ID, "quantity": 1}}, "shippingAddress": map[string]any{"firstName": "A", "countryCode": "US"}},
			"options": map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
		}), "orderCreate", "order")
		id := str(o, "id")
		data := call(`query($id: ID!) { order(id: $id) { id name email shippingAddress { name address1 city zip countryCodeV2 } lineItems(first: 50) { nodes { id sku quantity } }
		  fulfillmentOrders(first: 10) { nodes { id status requestStatus assignedLocation { location { id } } lineItems(first: 50) { nodes { id sku remainingQuantity } } } } } }`, map[string]any{"id": id})
		fo := str(data, "order", "fulfillmentOrders", "nodes", 0, "id")
		call(submitFO, map[string]any{"id": fo})
		call(acceptFO, map[string]any{"id": fo})
		call(createFulfillment, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo}}, "trackingInfo": map[string]any{"company": "UPS", "number": id}}})
		call(`query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillments { trackingInfo { number } } } }`, map[string]any{"id": id})
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range work {
				lifecycle()
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
}
