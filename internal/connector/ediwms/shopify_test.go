package ediwms_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"testing"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/fulfil"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

const simToken = "shpat_ediwms_test"

const simCreateOrder = `mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name fulfillmentOrders(first: 5) { nodes { id } } }
    userErrors { field message }
  }
}`

// simOrder places an order in the simulator through its GraphQL API and
// returns the order and fulfillment order GIDs.
func simOrder(t *testing.T, url string, lines []map[string]any) (orderID, foID string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": simCreateOrder, "variables": map[string]any{
		"order": map[string]any{
			"email": "remi@example.fr", "lineItems": lines,
			"shippingAddress": map[string]any{"firstName": "Rémi", "lastName": "Lefèvre", "address1": "1 place du Parvis Notre-Dame",
				"address2": "Hôtel-Dieu", "city": "Paris", "zip": "75004", "countryCode": "FR"},
		},
		"options": map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
	}})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/admin/api/2026-07/graphql.json", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", simToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			OrderCreate struct {
				Order struct {
					ID                string
					FulfillmentOrders struct{ Nodes []struct{ ID string } }
				}
				UserErrors []struct{ Message string }
			}
		}
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	oc := out.Data.OrderCreate
	if len(out.Errors) > 0 || len(oc.UserErrors) > 0 || len(oc.Order.FulfillmentOrders.Nodes) != 1 {
		t.Fatalf("orderCreate: %+v", out)
	}
	return oc.Order.ID, oc.Order.FulfillmentOrders.Nodes[0].ID
}

// Test945FulfilsInShopifySimulator: an order placed in the Shopify
// simulator and routed to the EDI warehouse's location goes out as our 940;
// the partner's 945 for it (two parcels) comes back through Events and,
// mapped by the hub's fulfil.Input, becomes one Shopify fulfillment in the
// simulator with every line fulfilled and both tracking numbers.
func Test945FulfilsInShopifySimulator(t *testing.T) {
	t.Parallel()
	sim := shopifysim.New(shopifysim.Config{ShopDomain: "edi.myshopify.com", AccessToken: simToken, WebhookSecret: "s", Seed: 7})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client := shopify.NewClient(shopify.ClientConfig{BaseURL: srv.URL, AccessToken: simToken})
	ctx := t.Context()

	ps, err := sim.AddProducts([]shopifysim.ProductInput{{Title: "Thé", Variants: []shopifysim.VariantInput{{SKU: "THE-01", Price: "9.90"}, {SKU: "TASSE-02", Price: "4.50"}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, loc, err := client.CreateFulfillmentService(ctx, "ACME 3PL (EDI)", srv.URL+"/callback")
	if err != nil {
		t.Fatal(err)
	}
	for _, sku := range []string{"THE-01", "TASSE-02"} {
		if err := sim.SetInventory(sku, loc, shopifysim.InventoryQuantities{Available: 50}); err != nil {
			t.Fatal(err)
		}
	}
	orderID, foID := simOrder(t, srv.URL, []map[string]any{
		{"variantId": ps[0].Variants[0].ID, "quantity": 2}, {"variantId": ps[0].Variants[1].ID, "quantity": 1},
	})
	fo, err := client.GetFulfillmentOrder(ctx, foID)
	if err != nil {
		t.Fatal(err)
	}
	if fo.LocationID != loc {
		t.Fatalf("fulfillment order at %s, want the EDI warehouse's location %s", fo.LocationID, loc)
	}
	if _, err := client.SubmitFulfillmentRequest(ctx, foID, "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AcceptFulfillmentRequest(ctx, foID, "accepted by the hub"); err != nil {
		t.Fatal(err)
	}

	wo := connectortest.NewOrder("CD-"+path.Base(foID), order.Line{})
	wo.Lines, wo.OrderID, wo.FulfillmentOrderID, wo.ShipTo = nil, orderID, foID, fo.Destination
	for i, l := range fo.Lines {
		wo.Lines = append(wo.Lines, order.Line{LineNo: i + 1, SKU: l.SKU, Quantity: l.RemainingQuantity, FulfillmentOrderLineItemID: l.ID})
	}
	e := setup(t)
	e.wh.multi = 1 // two parcels
	submit(t, e.conn, wo)
	_, sent := parse940(t, readFile(t, e.root, ediwms.DefaultOut+"/940_"+wo.ExternalRef+".edi"))
	if a := sent.Order.ShipTo; a.Name != "Remi Lefevre" || a.Address2 != "Hotel-Dieu" || a.PostalCode != "75004" {
		t.Errorf("ship-to in the 940 = %+v, want the simulator's address transliterated", a)
	}
	e.wh.settle()
	evs, _ := connectortest.Drain(t, e.conn, "", 10)
	if len(evs) != 1 || evs[0].Type != connector.EventShipped {
		t.Fatalf("events = %+v", evs)
	}
	in, err := fulfil.Input(wo, evs[0].Shipment)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateFulfillment(ctx, in); err != nil {
		t.Fatal(err)
	}

	got, ok := sim.Order(orderID)
	if !ok || got.DisplayFulfillmentStatus != "FULFILLED" || len(got.Fulfillments) != 1 {
		t.Fatalf("simulator order = %+v", got)
	}
	var numbers []string
	for _, tr := range got.Fulfillments[0].Tracking {
		numbers = append(numbers, tr.Number)
	}
	var want []string
	for _, p := range evs[0].Shipment.Packages {
		want = append(want, p.TrackingNumber)
	}
	if len(want) != 2 || !slices.Equal(numbers, want) {
		t.Errorf("tracking in Shopify %q, want the 945's two parcels %q", numbers, want)
	}
	for _, li := range got.LineItems {
		if li.FulfilledQuantity != li.Quantity {
			t.Errorf("line %s fulfilled %d of %d", li.SKU, li.FulfilledQuantity, li.Quantity)
		}
	}
}
