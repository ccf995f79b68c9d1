package shopifysim

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const readReturn = `query($id: ID!) {
  return(id: $id) {
    id name status totalQuantity order { id }
    returnLineItems(first: 10) { nodes { id quantity ... on ReturnLineItem { fulfillmentLineItem { id lineItem { sku } } } } }
    reverseFulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) { nodes {
      id totalQuantity fulfillmentLineItem { id lineItem { sku } }
      dispositions { type quantity location { id } }
    } } } }
  }
}`

const disposeRFO = `mutation($in: [ReverseFulfillmentOrderDisposeInput!]!) {
  reverseFulfillmentOrderDispose(dispositionInputs: $in) {
    reverseFulfillmentOrderLineItems { id dispositions { type quantity } }
    userErrors { field message code }
  }
}`

const returnCreateMutation = `mutation($in: ReturnInput!) {
  returnCreate(returnInput: $in) {
    return { id status reverseFulfillmentOrders(first: 2) { nodes { id } } }
    userErrors { field message code }
  }
}`

func TestCreateReturnAndDispose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, ok200)
	b.subscribe(t, "RETURNS_APPROVE", rcv.url)
	b.subscribe(t, "REVERSE_FULFILLMENT_ORDERS_DISPOSE", rcv.url)
	b.subscribe(t, "RETURNS_CLOSE", rcv.url)
	orderID, _ := b.shipped(t) // 2 × SKU-A from the "WMS" location
	loc := b.srv.Locations()[1].ID
	before, _ := b.srv.InventoryLevel("SKU-A", loc)

	if _, err := b.srv.CreateReturn(orderID, []ReturnLineInput{{SKU: "SKU-A", Quantity: 3}}); err == nil {
		t.Fatal("a return of 3 units of a 2-unit fulfillment was accepted")
	}
	ret, err := b.srv.CreateReturn(orderID, []ReturnLineInput{{SKU: "SKU-A", Quantity: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if ret.Status != "OPEN" || len(ret.Lines) != 1 || ret.Lines[0].Quantity != 2 || len(ret.ReverseFulfillmentOrders) != 1 {
		t.Fatalf("return %+v", ret)
	}
	if _, err := b.srv.CreateReturn(orderID, []ReturnLineInput{{SKU: "SKU-A", Quantity: 1}}); err == nil {
		t.Fatal("units already on a return were returned again")
	}
	b.waitHooks(t)

	// The webhook has the shape of Shopify's published example.
	hooks := rcv.topic("returns/approve")
	if len(hooks) != 1 {
		t.Fatalf("%d returns/approve webhooks, want 1", len(hooks))
	}
	var got, ref map[string]any
	raw, err := os.ReadFile("testdata/returns_approve.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(hooks[0].body, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keysOf(ref, ""), keysOf(got, "")); diff != "" {
		t.Errorf("returns/approve keys differ from Shopify's example (-want +got):\n%s", diff)
	}
	if got["admin_graphql_api_id"] != ret.ID || got["status"] != "open" {
		t.Errorf("payload id %v status %v", got["admin_graphql_api_id"], got["status"])
	}

	// The return reads back through GraphQL.
	data := b.mustGQL(t, readReturn, map[string]any{"id": ret.ID})
	if str(data, "return", "status") != "OPEN" || num(data, "return", "totalQuantity") != 2 || str(data, "return", "order", "id") != orderID {
		t.Fatalf("return %v", data)
	}
	if str(data, "return", "returnLineItems", "nodes", 0, "fulfillmentLineItem", "lineItem", "sku") != "SKU-A" {
		t.Errorf("return line %v", dig(data, "return", "returnLineItems"))
	}
	rfoLine := str(data, "return", "reverseFulfillmentOrders", "nodes", 0, "lineItems", "nodes", 0, "id")

	dispose := func(in ...map[string]any) map[string]any {
		list := make([]any, len(in))
		for i, m := range in {
			list[i] = m
		}
		return b.mustGQL(t, disposeRFO, map[string]any{"in": list})
	}
	// RESTOCKED needs a location; more than returned is refused.
	if msg := str(dispose(map[string]any{"reverseFulfillmentOrderLineItemId": rfoLine, "quantity": 1, "dispositionType": "RESTOCKED"}),
		"reverseFulfillmentOrderDispose", "userErrors", 0, "message"); !strings.Contains(msg, "location") {
		t.Errorf("restock without a location: %q", msg)
	}
	if msg := str(dispose(map[string]any{"reverseFulfillmentOrderLineItemId": rfoLine, "quantity": 3, "dispositionType": "NOT_RESTOCKED"}),
		"reverseFulfillmentOrderDispose", "userErrors", 0, "message"); msg == "" {
		t.Error("disposing 3 of 2 units was accepted")
	}
	noUserErrors(t, dispose(
		map[string]any{"reverseFulfillmentOrderLineItemId": rfoLine, "quantity": 1, "dispositionType": "RESTOCKED", "locationId": loc},
		map[string]any{"reverseFulfillmentOrderLineItemId": rfoLine, "quantity": 1, "dispositionType": "NOT_RESTOCKED"},
	), "reverseFulfillmentOrderDispose")

	after, _ := b.srv.InventoryLevel("SKU-A", loc)
	if after.Available != before.Available+1 {
		t.Errorf("available %d → %d, want +1 (one unit restocked, one not)", before.Available, after.Available)
	}
	rs := b.srv.Returns()
	if len(rs) != 1 {
		t.Fatalf("%d returns", len(rs))
	}
	rfo := rs[0].ReverseFulfillmentOrders[0]
	want := []DispositionState{{Type: "RESTOCKED", Quantity: 1, LocationID: loc}, {Type: "NOT_RESTOCKED", Quantity: 1}}
	if diff := cmp.Diff(want, rfo.Lines[0].Dispositions); diff != "" {
		t.Errorf("dispositions (-want +got):\n%s", diff)
	}
	if rfo.Status != "CLOSED" {
		t.Errorf("reverse fulfillment order %s after every unit was disposed, want CLOSED", rfo.Status)
	}
	if err := b.srv.CloseReturn(ret.ID); err != nil {
		t.Fatal(err)
	}
	if st := b.srv.Returns()[0].Status; st != "CLOSED" {
		t.Errorf("return %s after CloseReturn", st)
	}
	b.waitHooks(t)
	if n := len(rcv.topic("reverse_fulfillment_orders/dispose")); n != 1 {
		t.Errorf("%d reverse_fulfillment_orders/dispose webhooks, want 1", n)
	}
	closed := rcv.topic("returns/close")
	if len(closed) != 1 {
		t.Fatalf("%d returns/close webhooks, want 1", len(closed))
	}
	var ref2, got2 map[string]any
	raw, err = os.ReadFile("testdata/returns_close.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref2); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(closed[0].body, &got2); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keysOf(ref2, ""), keysOf(got2, "")); diff != "" {
		t.Errorf("returns/close keys differ from Shopify's example (-want +got):\n%s", diff)
	}
}

func TestReturnCreateMutation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, fulfillmentID := b.shipped(t)
	flID := str(b.mustGQL(t, `query($id: ID!) { fulfillment(id: $id) { fulfillmentLineItems(first: 5) { nodes { id } } } }`,
		map[string]any{"id": fulfillmentID}), "fulfillment", "fulfillmentLineItems", "nodes", 0, "id")
	if flID == "" {
		t.Fatal("no fulfillment line item")
	}
	in := func(q int) map[string]any {
		return map[string]any{"in": map[string]any{"orderId": orderID,
			"returnLineItems": []any{map[string]any{"fulfillmentLineItemId": flID, "quantity": q}}}}
	}
	if code := str(b.mustGQL(t, returnCreateMutation, in(5)), "returnCreate", "userErrors", 0, "code"); code != "LESS_THAN_OR_EQUAL_TO" {
		t.Errorf("over-return code %q", code)
	}
	p := noUserErrors(t, b.mustGQL(t, returnCreateMutation, in(1)), "returnCreate")
	if str(p, "return", "status") != "OPEN" || str(p, "return", "reverseFulfillmentOrders", "nodes", 0, "id") == "" {
		t.Errorf("returnCreate answered %v", p)
	}
	if rs := b.srv.Returns(); len(rs) != 1 || rs[0].Lines[0].SKU != "SKU-A" || rs[0].Lines[0].Quantity != 1 {
		t.Errorf("returns %+v", rs)
	}
}
