package shopifysim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

const (
	testToken  = "shpat_test"
	testSecret = "client-secret"
)

// fakeClock is an injectable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

type testBundle struct {
	srv      *Server
	clock    *fakeClock
	products []ProductState
	shopLoc  string
}

// setup builds a server with two products (SKU-A, SKU-B; 1000 available at
// the shop location) and a fake clock.
func setup(t interface {
	tb
	Cleanup(func())
}, mods ...func(*Config)) *testBundle {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	cfg := Config{
		ShopDomain:            "demo.myshopify.com",
		AccessToken:           testToken,
		WebhookSecret:         testSecret,
		Now:                   clock.Now,
		Seed:                  42,
		WebhookRetryBaseDelay: 5 * time.Millisecond,
	}
	for _, m := range mods {
		m(&cfg)
	}
	srv := New(cfg)
	t.Cleanup(srv.Close)
	ps, err := srv.AddProducts([]ProductInput{
		{Title: "Tee", Variants: []VariantInput{{SKU: "SKU-A", Price: "19.99", Available: 1000}, {SKU: "SKU-B", Price: "5", Available: 1000}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{srv: srv, clock: clock, products: ps, shopLoc: srv.Locations()[0].ID}
}

func (b *testBundle) variant(sku string) VariantState {
	for _, p := range b.products {
		for _, v := range p.Variants {
			if v.SKU == sku {
				return v
			}
		}
	}
	panic("no variant " + sku)
}

type respError struct {
	Message    string           `json:"message"`
	Locations  []map[string]int `json:"locations"`
	Path       []any            `json:"path"`
	Extensions map[string]any   `json:"extensions"`
}

type gqlResponse struct {
	Status     int
	Header     http.Header
	Raw        string
	Data       map[string]any `json:"data"`
	Errors     []respError    `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost int            `json:"requestedQueryCost"`
			ActualQueryCost    *int           `json:"actualQueryCost"`
			ThrottleStatus     map[string]any `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

func (r *gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// do sends a raw HTTP request to the simulator.
func (b *testBundle) do(t tb, method, path, token string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("X-Shopify-Access-Token", token)
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, r)
	return w
}

// gql runs a GraphQL request and decodes the answer.
func (b *testBundle) gql(t tb, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	w := b.do(t, http.MethodPost, GraphQLPath, testToken, body)
	res := &gqlResponse{Status: w.Code, Header: w.Header(), Raw: w.Body.String()}
	dec := json.NewDecoder(strings.NewReader(res.Raw))
	dec.UseNumber()
	if err := dec.Decode(res); err != nil {
		t.Fatalf("decode %q: %v", res.Raw, err)
	}
	return res
}

// mustGQL runs a request that must succeed without errors.
func (b *testBundle) mustGQL(t tb, query string, vars map[string]any) map[string]any {
	t.Helper()
	res := b.gql(t, query, vars)
	if res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("request failed: %d %s", res.Status, res.Raw)
	}
	return res.Data
}

// dig walks nested maps and lists: dig(m, "order", "lineItems", "nodes", 0, "id").
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	s, _ := dig(v, keys...).(string)
	return s
}

func num(v any, keys ...any) int64 {
	switch n := dig(v, keys...).(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case float64:
		return int64(n)
	}
	return -1
}

// noUserErrors fails when the mutation payload at key has userErrors.
func noUserErrors(t tb, data map[string]any, key string) map[string]any {
	t.Helper()
	p, _ := data[key].(map[string]any)
	if p == nil {
		t.Fatalf("%s: no payload", key)
	}
	if ues, _ := p["userErrors"].([]any); len(ues) > 0 {
		t.Fatalf("%s: userErrors %v", key, ues)
	}
	return p
}

const createFS = `mutation($name: String!) {
  fulfillmentServiceCreate(name: $name, inventoryManagement: true, trackingSupport: true) {
    fulfillmentService { id serviceName location { id name } }
    userErrors { field message }
  }
}`

// addFS creates a fulfillment service and returns its location GID.
func (b *testBundle) addFS(t tb, name string) string {
	t.Helper()
	p := noUserErrors(t, b.mustGQL(t, createFS, map[string]any{"name": name}), "fulfillmentServiceCreate")
	return str(p, "fulfillmentService", "location", "id")
}

const createOrder = `mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order {
      id name legacyResourceId displayFulfillmentStatus
      lineItems(first: 10) { nodes { id sku quantity } }
      fulfillmentOrders(first: 5) {
        nodes { id status requestStatus assignedLocation { name location { id } }
          lineItems(first: 10) { nodes { id sku totalQuantity remainingQuantity } } }
      }
    }
    userErrors { field message code }
  }
}`

// order creates an order for sku×qty lines with inventory decrement.
func (b *testBundle) order(t tb, lines map[string]int) map[string]any {
	t.Helper()
	var li []any
	for _, sku := range []string{"SKU-A", "SKU-B"} {
		if q := lines[sku]; q > 0 {
			li = append(li, map[string]any{"variantId": b.variant(sku).ID, "quantity": q})
		}
	}
	data := b.mustGQL(t, createOrder, map[string]any{
		"order": map[string]any{
			"email":     "buyer@example.com",
			"lineItems": li,
			"shippingAddress": map[string]any{"firstName": "Ada", "lastName": "Lovelace", "address1": "1 Main St",
				"city": "Springfield", "provinceCode": "IL", "zip": "62701", "countryCode": "US", "phone": "+15555550100"},
			"shippingLines": []any{map[string]any{"title": "Standard", "code": "STD", "priceSet": map[string]any{"shopMoney": map[string]any{"amount": "4.99", "currencyCode": "USD"}}}},
		},
		"options": map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
	})
	return dig(noUserErrors(t, data, "orderCreate"), "order").(map[string]any)
}

// setStock sets available for sku at loc through inventorySetQuantities.
func (b *testBundle) setStock(t tb, sku, loc string, available int) {
	t.Helper()
	if err := b.srv.SetInventory(sku, loc, InventoryQuantities{Available: available}); err != nil {
		t.Fatal(err)
	}
}
