package shopifysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInvalidDocumentsAreRejectedWithoutExecuting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, query string
		vars        map[string]any
		code        string
		msg         string
	}{
		{
			name:  "unknown field",
			query: `mutation { orderCreate(order: {lineItems: [{title: "x", quantity: 1}]}) { order { id totalPriceNope } userErrors { message } } }`,
			code:  "undefinedField", msg: "totalPriceNope",
		},
		{
			name:  "missing required argument",
			query: `query { order { id } }`,
			code:  "missingRequiredArguments", msg: "id",
		},
		{
			name:  "wrong literal type",
			query: `query { orders(first: "ten") { nodes { id } } }`,
			code:  "argumentLiteralsIncompatible", msg: "Int",
		},
		{
			name:  "variable used in wrong position",
			query: `query($n: String) { orders(first: $n) { nodes { id } } }`,
			code:  "variableMismatch", msg: "$n",
		},
		{
			name:  "wrong variable value type",
			query: `mutation($order: OrderCreateOrderInput!) { orderCreate(order: $order) { order { id } } }`,
			vars:  map[string]any{"order": map[string]any{"lineItems": []any{map[string]any{"title": "x", "quantity": "lots"}}}},
			code:  "INVALID_VARIABLE", msg: "$order",
		},
		{
			name:  "syntax error",
			query: `query { shop { name }`,
			code:  "parseError", msg: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			res := b.gql(t, tc.query, tc.vars)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", res.Status, res.Raw)
			}
			if res.Data != nil {
				t.Fatalf("data present for an invalid document: %s", res.Raw)
			}
			if len(res.Errors) == 0 {
				t.Fatalf("no errors: %s", res.Raw)
			}
			e := res.Errors[0]
			if !strings.Contains(e.Message, tc.msg) || e.Extensions["code"] != tc.code {
				t.Fatalf("error = %q code %v, want message containing %q and code %s", e.Message, e.Extensions["code"], tc.msg, tc.code)
			}
			if len(e.Locations) == 0 || e.Locations[0]["line"] < 1 || e.Locations[0]["column"] < 1 {
				t.Fatalf("error has no locations: %s", res.Raw)
			}
			if n := len(b.srv.Orders()); n != 0 {
				t.Fatalf("an invalid request executed: %d orders", n)
			}
		})
	}
}

func TestAuthenticationAndRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := []byte(`{"query":"{ shop { name } }"}`)
	for _, tok := range []string{"", "wrong"} {
		w := b.do(t, http.MethodPost, GraphQLPath, tok, body)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d, want 401", tok, w.Code)
		}
		var got map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["errors"] != invalidTokenMessage {
			t.Fatalf("token %q: body %s", tok, w.Body)
		}
	}
	if w := b.do(t, http.MethodPost, "/admin/api/2026-04/graphql.json", testToken, body); w.Code != http.StatusNotFound {
		t.Fatalf("other API version: status %d, want 404", w.Code)
	}
	if w := b.do(t, http.MethodPost, GraphQLPath, testToken, []byte(`{"query": `)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"errors"`) {
		t.Fatalf("malformed JSON: %d %s", w.Code, w.Body)
	}
	data := b.mustGQL(t, `{ shop { name myshopifyDomain } }`, nil)
	if str(data, "shop", "myshopifyDomain") != "demo.myshopify.com" || str(data, "shop", "name") != "demo" {
		t.Fatalf("shop = %v", data)
	}
}

func TestExecutorSelectionFeatures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loc := b.addFS(t, "Main WMS")
	b.setStock(t, "SKU-A", loc, 10)
	o := b.order(t, map[string]int{"SKU-A": 1})
	q := `
query Q($id: ID!, $withName: Boolean!) {
  a: order(id: $id) { ...OrderBits kind: __typename }
  b: node(id: $id) { __typename id ... on Order { name @include(if: $withName) legacyResourceId } }
  s: shop { myshopifyDomain }
}
fragment OrderBits on Order { id displayFulfillmentStatus lineItems(first: 1) { edges { cursor node { sku } } } }`
	data := b.mustGQL(t, q, map[string]any{"id": o["id"], "withName": false})
	if str(data, "a", "kind") != "Order" || str(data, "b", "__typename") != "Order" || str(data, "a", "lineItems", "edges", 0, "node", "sku") != "SKU-A" {
		t.Fatalf("data = %v", data)
	}
	if _, has := dig(data, "b").(map[string]any)["name"]; has {
		t.Fatalf("@include(if: false) field present: %v", data)
	}
	if str(data, "a", "lineItems", "edges", 0, "cursor") == "" {
		t.Fatalf("no cursor: %v", data)
	}

	// Two aliased mutations in one document run in order.
	two := b.mustGQL(t, `mutation {
  one: fulfillmentServiceCreate(name: "East") { fulfillmentService { serviceName } userErrors { message } }
  two: fulfillmentServiceCreate(name: "East") { fulfillmentService { serviceName } userErrors { message } }
}`, nil)
	if str(two, "one", "fulfillmentService", "serviceName") != "East" || !strings.Contains(str(two, "two", "userErrors", 0, "message"), "taken") {
		t.Fatalf("aliased mutations = %v", two)
	}

	// A schema field the simulator does not implement answers null with an error.
	res := b.gql(t, `query($id: ID!) { order(id: $id) { id customer { id } } }`, map[string]any{"id": o["id"]})
	if dig(res.Data, "order", "customer") != nil || len(res.Errors) != 1 ||
		res.Errors[0].Message != "Order.customer is not implemented by the crossdock Shopify simulator" ||
		fmt.Sprint(res.Errors[0].Path) != "[order customer]" {
		t.Fatalf("unimplemented field: %s", res.Raw)
	}
}

func TestOrdersPaginationAndSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loc := b.addFS(t, "Main WMS")
	b.setStock(t, "SKU-A", loc, 100)
	var ids []string
	for range 5 {
		ids = append(ids, b.order(t, map[string]int{"SKU-A": 1})["id"].(string))
		b.clock.Advance(time.Minute)
	}
	const q = `query($after: String, $q: String) {
  orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) {
    nodes { id updatedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`
	var got []string
	var after any
	for page := 0; ; page++ {
		data := b.mustGQL(t, q, map[string]any{"after": after})
		for _, n := range dig(data, "orders", "nodes").([]any) {
			got = append(got, str(n, "id"))
		}
		if (page > 0) != dig(data, "orders", "pageInfo", "hasPreviousPage").(bool) {
			t.Fatalf("page %d: hasPreviousPage wrong: %v", page, data)
		}
		if !dig(data, "orders", "pageInfo", "hasNextPage").(bool) {
			break
		}
		after = str(data, "orders", "pageInfo", "endCursor")
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paged ids = %v, want %v", got, ids)
	}
	// Backwards: the last two before the last order's cursor.
	all := b.mustGQL(t, `{ orders(first: 10) { edges { cursor } } }`, nil)
	before := str(all, "orders", "edges", 4, "cursor")
	back := b.mustGQL(t, `query($before: String) { orders(last: 2, before: $before) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`, map[string]any{"before": before})
	if str(back, "orders", "nodes", 0, "id") != ids[2] || str(back, "orders", "nodes", 1, "id") != ids[3] ||
		dig(back, "orders", "pageInfo", "hasNextPage") != true || dig(back, "orders", "pageInfo", "hasPreviousPage") != true {
		t.Fatalf("last/before = %v", back)
	}
	if res := b.gql(t, `{ orders(first: 1, after: "not-a-cursor") { nodes { id } } }`, nil); len(res.Errors) != 1 || res.Data != nil {
		t.Fatalf("bad cursor: %s", res.Raw)
	}
	cutoff := time.Date(2026, 7, 1, 12, 2, 0, 0, time.UTC).Format(time.RFC3339)
	for op, want := range map[string]int{">": 2, ">=": 3} {
		data := b.mustGQL(t, `query($q: String) { orders(first: 50, query: $q) { nodes { id } } }`,
			map[string]any{"q": fmt.Sprintf("updated_at:%s'%s'", op, cutoff)})
		if n := len(dig(data, "orders", "nodes").([]any)); n != want {
			t.Fatalf("updated_at:%s: %d orders, want %d", op, n, want)
		}
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BucketSize = 50; c.RestoreRate = 10 })
	var vs []VariantInput
	for i := range 38 {
		vs = append(vs, VariantInput{SKU: fmt.Sprintf("BULK-%02d", i)})
	}
	if _, err := b.srv.AddProducts([]ProductInput{{Title: "Bulk", Variants: vs}}); err != nil {
		t.Fatal(err)
	}
	const q = `{ productVariants(first: 40) { nodes { id } } }` // 2 + 40×1 = 42
	first := b.gql(t, q, nil)
	if len(first.Errors) > 0 || first.Extensions.Cost.RequestedQueryCost != 42 || first.Extensions.Cost.ActualQueryCost == nil || *first.Extensions.Cost.ActualQueryCost != 42 {
		t.Fatalf("first request: %s", first.Raw)
	}
	second := b.gql(t, q, nil)
	if second.Status != http.StatusOK || !slices.Equal(second.codes(), []string{"THROTTLED"}) || second.Errors[0].Message != "Throttled" || second.Data != nil {
		t.Fatalf("second request not throttled: %d %s", second.Status, second.Raw)
	}
	ts := second.Extensions.Cost.ThrottleStatus
	if second.Extensions.Cost.ActualQueryCost != nil || fmt.Sprint(ts["maximumAvailable"]) != "50" || fmt.Sprint(ts["currentlyAvailable"]) != "8" || fmt.Sprint(ts["restoreRate"]) != "10" {
		t.Fatalf("throttle status = %s", second.Raw)
	}
	b.clock.Advance(4 * time.Second) // 8 + 40 = 48 ≥ 42
	if third := b.gql(t, q, nil); len(third.Errors) > 0 {
		t.Fatalf("after restore: %s", third.Raw)
	}
	if st := b.srv.Stats(); st.Throttled != 1 {
		t.Fatalf("throttled = %d", st.Throttled)
	}

	big := b.gql(t, `{ locations(first: 250) { nodes { inventoryLevels(first: 250) { nodes { id } } } } }`, nil)
	if !slices.Equal(big.codes(), []string{"MAX_COST_EXCEEDED"}) || big.Data != nil {
		t.Fatalf("huge query: %s", big.Raw)
	}
}

func TestInjectedHTTPFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.HTTP429Rate = 1 })
	body := []byte(`{"query":"{ shop { name } }"}`)
	w := b.do(t, http.MethodPost, GraphQLPath, testToken, body)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("429 fault: %d %v", w.Code, w.Header())
	}
	w = b.do(t, http.MethodPost, "/_sim/faults", "", []byte(`{"http429Rate": 0, "http5xxRate": 1}`))
	if w.Code != http.StatusOK {
		t.Fatalf("faults endpoint: %d %s", w.Code, w.Body)
	}
	if w = b.do(t, http.MethodPost, GraphQLPath, testToken, body); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("5xx fault: %d", w.Code)
	}
	if w = b.do(t, http.MethodPost, "/_sim/faults", "", []byte(`{"webhookDropRate": 2}`)); w.Code != http.StatusBadRequest {
		t.Fatalf("out-of-range rate accepted: %d", w.Code)
	}
	if st := b.srv.Stats(); st.Injected429 != 1 || st.Injected5xx != 1 || st.Requests != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, http.MethodPost, "/_sim/products", "", []byte(`[{"title":"Mug","variants":[{"sku":"MUG-1","barcode":"123","price":"7.50"}]}]`))
	if w.Code != http.StatusCreated {
		t.Fatalf("seed products: %d %s", w.Code, w.Body)
	}
	data := b.mustGQL(t, `{ productVariants(first: 10, query: "sku:MUG-1") { nodes { sku barcode price product { title } inventoryItem { id sku tracked } } } }`, nil)
	if str(data, "productVariants", "nodes", 0, "product", "title") != "Mug" || str(data, "productVariants", "nodes", 0, "price") != "7.50" ||
		dig(data, "productVariants", "nodes", 0, "inventoryItem", "tracked") != true {
		t.Fatalf("seeded variant = %v", data)
	}
	w = b.do(t, http.MethodGet, "/_sim/state", "", nil)
	var snap Snapshot
	if err := json.Unmarshal(w.Body.Bytes(), &snap); err != nil || w.Code != http.StatusOK {
		t.Fatalf("state: %d %v", w.Code, err)
	}
	if len(snap.Products) != 2 || len(snap.Locations) != 1 || snap.Locations[0].Name != "Shop location" || snap.Shop.Domain != "demo.myshopify.com" {
		t.Fatalf("snapshot = %+v", snap)
	}
}
