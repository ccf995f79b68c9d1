package shopifysim

import (
	"strings"
	"testing"
)

const submitFO = `mutation($id: ID!) {
  fulfillmentOrderSubmitFulfillmentRequest(id: $id, message: "please ship", notifyCustomer: true) {
    submittedFulfillmentOrder { id requestStatus merchantRequests(first: 5) { nodes { kind message requestOptions } } }
    unsubmittedFulfillmentOrder { id }
    userErrors { field message }
  }
}`

const acceptFO = `mutation($id: ID!) {
  fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: "on it") {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}`

const createFulfillment = `mutation($f: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $f) {
    fulfillment { id name status trackingInfo { company number url } fulfillmentLineItems(first: 10) { nodes { quantity lineItem { sku } } } }
    userErrors { field message }
  }
}`

func TestOrderToFulfillmentFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	empty := b.addFS(t, "Empty WMS")
	full := b.addFS(t, "Stocked WMS")
	b.setStock(t, "SKU-A", full, 10)
	b.setStock(t, "SKU-B", full, 10)

	o := b.order(t, map[string]int{"SKU-A": 3, "SKU-B": 1})
	fo := dig(o, "fulfillmentOrders", "nodes", 0)
	if got := str(fo, "assignedLocation", "location", "id"); got != full {
		t.Fatalf("routed to %s, want the first location with stock %s (not %s)", got, full, empty)
	}
	if str(fo, "status") != "OPEN" || str(fo, "requestStatus") != "UNSUBMITTED" {
		t.Fatalf("new FO = %v", fo)
	}
	if q, _ := b.srv.InventoryLevel("SKU-A", full); q.Available != 7 || q.Committed != 3 || q.OnHand != 10 {
		t.Fatalf("after order: %+v", q)
	}
	foID := str(fo, "id")

	p := noUserErrors(t, b.mustGQL(t, submitFO, map[string]any{"id": foID}), "fulfillmentOrderSubmitFulfillmentRequest")
	if str(p, "submittedFulfillmentOrder", "requestStatus") != "SUBMITTED" ||
		str(p, "submittedFulfillmentOrder", "merchantRequests", "nodes", 0, "kind") != "FULFILLMENT_REQUEST" {
		t.Fatalf("submit = %v", p)
	}
	// Not accepted yet: a fulfillment must be refused.
	lineA := str(fo, "lineItems", "nodes", 0, "id")
	early := b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}}}})
	if !strings.Contains(str(early, "fulfillmentCreate", "userErrors", 0, "message"), "not been accepted") {
		t.Fatalf("fulfillment before acceptance = %v", early)
	}
	p = noUserErrors(t, b.mustGQL(t, acceptFO, map[string]any{"id": foID}), "fulfillmentOrderAcceptFulfillmentRequest")
	if str(p, "fulfillmentOrder", "status") != "IN_PROGRESS" || str(p, "fulfillmentOrder", "requestStatus") != "ACCEPTED" {
		t.Fatalf("accept = %v", p)
	}

	ship := func(qty int, number string) map[string]any {
		return b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
			"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID,
				"fulfillmentOrderLineItems": []any{map[string]any{"id": lineA, "quantity": qty}}}},
			"trackingInfo": map[string]any{"company": "UPS", "number": number},
		}})
	}
	// Over-fulfilment is refused with a userError.
	over := ship(4, "1Z999")
	if str(over, "fulfillmentCreate", "userErrors", 0, "message") == "" || dig(over, "fulfillmentCreate", "fulfillment") != nil {
		t.Fatalf("over-fulfilment accepted: %v", over)
	}
	first := noUserErrors(t, ship(2, "1Z001"), "fulfillmentCreate")
	if str(first, "fulfillment", "trackingInfo", 0, "url") == "" || str(first, "fulfillment", "status") != "SUCCESS" {
		t.Fatalf("fulfillment = %v", first)
	}

	const readBack = `query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillments { name trackingInfo { number } }
	  fulfillmentOrders(first: 5) { nodes { status lineItems(first: 5) { nodes { sku remainingQuantity } } } } } }`
	data := b.mustGQL(t, readBack, map[string]any{"id": o["id"]})
	if str(data, "order", "displayFulfillmentStatus") != "PARTIALLY_FULFILLED" ||
		str(data, "order", "fulfillments", 0, "trackingInfo", 0, "number") != "1Z001" {
		t.Fatalf("after partial fulfilment: %v", data)
	}

	// Empty line list fulfils everything that remains; mixing number and numbers is refused.
	mixed := b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}},
		"trackingInfo":                map[string]any{"number": "A", "numbers": []any{"B"}},
	}})
	if str(mixed, "fulfillmentCreate", "userErrors", 0, "message") == "" {
		t.Fatalf("number+numbers accepted: %v", mixed)
	}
	noUserErrors(t, b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID, "fulfillmentOrderLineItems": []any{}}},
		"trackingInfo":                map[string]any{"company": "UPS", "numbers": []any{"1Z001", "1Z002"}},
	}}), "fulfillmentCreate")
	data = b.mustGQL(t, readBack, map[string]any{"id": o["id"]})
	if str(data, "order", "displayFulfillmentStatus") != "FULFILLED" || str(data, "order", "fulfillmentOrders", "nodes", 0, "status") != "CLOSED" ||
		str(data, "order", "fulfillments", 1, "trackingInfo", 1, "number") != "1Z002" {
		t.Fatalf("after full fulfilment: %v", data)
	}
	// Shipping the closed fulfillment order again is an over-fulfilment too.
	again := b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}}}})
	if !strings.Contains(str(again, "fulfillmentCreate", "userErrors", 0, "message"), "closed") {
		t.Fatalf("second full fulfilment = %v", again)
	}
	if q, _ := b.srv.InventoryLevel("SKU-A", full); q.Available != 7 || q.Committed != 0 || q.OnHand != 7 {
		t.Fatalf("inventory after shipping: %+v", q)
	}
	st := b.srv.Stats()
	if st.RejectedOverfulfillments != 2 || st.DuplicateTracking != 1 {
		t.Fatalf("stats = %+v", st)
	}
	os := b.srv.Orders()
	if len(os) != 1 || len(os[0].Fulfillments) != 2 || os[0].Fulfillments[1].Tracking[0].Number != "1Z001" {
		t.Fatalf("read-back = %+v", os)
	}
}

func TestRoutingFallbackMoveHoldRejectSplit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.addFS(t, "First WMS")
	second := b.addFS(t, "Second WMS")
	vars := func(behaviour string, qty int) map[string]any {
		return map[string]any{
			"order":   map[string]any{"lineItems": []any{map[string]any{"variantId": b.variant("SKU-A").ID, "quantity": qty}}},
			"options": map[string]any{"inventoryBehaviour": behaviour},
		}
	}
	// No stock anywhere: DECREMENT_OBEYING_POLICY refuses ...
	res := b.mustGQL(t, createOrder, vars("DECREMENT_OBEYING_POLICY", 1))
	if str(res, "orderCreate", "userErrors", 0, "code") != "INVENTORY_CLAIM_FAILED" || dig(res, "orderCreate", "order") != nil {
		t.Fatalf("claim without stock = %v", res)
	}
	// ... and BYPASS routes to the first fulfillment-service location.
	o := dig(noUserErrors(t, b.mustGQL(t, createOrder, vars("BYPASS", 4)), "orderCreate"), "order")
	fo := dig(o, "fulfillmentOrders", "nodes", 0)
	foID, line := str(fo, "id"), str(fo, "lineItems", "nodes", 0, "id")
	if str(fo, "assignedLocation", "location", "id") != first {
		t.Fatalf("fallback routing = %v", fo)
	}

	// Partial request splits the fulfillment order.
	p := noUserErrors(t, b.mustGQL(t, `mutation($id: ID!, $line: ID!) {
	  fulfillmentOrderSubmitFulfillmentRequest(id: $id, fulfillmentOrderLineItems: [{id: $line, quantity: 3}]) {
	    submittedFulfillmentOrder { id lineItems(first: 5) { nodes { totalQuantity } } }
	    unsubmittedFulfillmentOrder { id requestStatus lineItems(first: 5) { nodes { totalQuantity } } }
	    userErrors { field message } } }`, map[string]any{"id": foID, "line": line}), "fulfillmentOrderSubmitFulfillmentRequest")
	if num(p, "submittedFulfillmentOrder", "lineItems", "nodes", 0, "totalQuantity") != 3 ||
		num(p, "unsubmittedFulfillmentOrder", "lineItems", "nodes", 0, "totalQuantity") != 1 ||
		str(p, "unsubmittedFulfillmentOrder", "requestStatus") != "UNSUBMITTED" {
		t.Fatalf("split = %v", p)
	}
	rest := str(p, "unsubmittedFulfillmentOrder", "id")

	const move = `mutation($id: ID!, $to: ID!) { fulfillmentOrderMove(id: $id, newLocationId: $to) {
	  movedFulfillmentOrder { id requestStatus assignedLocation { location { id } } } userErrors { field message code } } }`
	if res := b.mustGQL(t, move, map[string]any{"id": foID, "to": second}); str(res, "fulfillmentOrderMove", "userErrors", 0, "message") == "" {
		t.Fatalf("moved a SUBMITTED fulfillment order: %v", res)
	}
	rej := b.mustGQL(t, `mutation($id: ID!) { fulfillmentOrderRejectFulfillmentRequest(id: $id, reason: INVENTORY_OUT_OF_STOCK, message: "none") {
	  fulfillmentOrder { status requestStatus } userErrors { message } } }`, map[string]any{"id": foID})
	if str(rej, "fulfillmentOrderRejectFulfillmentRequest", "fulfillmentOrder", "requestStatus") != "REJECTED" {
		t.Fatalf("reject = %v", rej)
	}
	mv := noUserErrors(t, b.mustGQL(t, move, map[string]any{"id": foID, "to": second}), "fulfillmentOrderMove")
	if str(mv, "movedFulfillmentOrder", "id") != foID || str(mv, "movedFulfillmentOrder", "assignedLocation", "location", "id") != second ||
		str(mv, "movedFulfillmentOrder", "requestStatus") != "UNSUBMITTED" {
		t.Fatalf("move = %v", mv)
	}

	// Hold and release the other part.
	h := noUserErrors(t, b.mustGQL(t, `mutation($id: ID!) { fulfillmentOrderHold(id: $id, fulfillmentHold: {reason: INCORRECT_ADDRESS, reasonNotes: "check", handle: "addr"}) {
	  fulfillmentHold { id reason handle } fulfillmentOrder { status fulfillmentHolds { reason reasonNotes } } userErrors { field message code } } }`,
		map[string]any{"id": rest}), "fulfillmentOrderHold")
	if str(h, "fulfillmentOrder", "status") != "ON_HOLD" || str(h, "fulfillmentOrder", "fulfillmentHolds", 0, "reason") != "INCORRECT_ADDRESS" {
		t.Fatalf("hold = %v", h)
	}
	dup := b.mustGQL(t, `mutation($id: ID!) { fulfillmentOrderHold(id: $id, fulfillmentHold: {reason: OTHER, handle: "addr"}) { userErrors { code } } }`, map[string]any{"id": rest})
	if str(dup, "fulfillmentOrderHold", "userErrors", 0, "code") != "DUPLICATE_FULFILLMENT_HOLD_HANDLE" {
		t.Fatalf("duplicate handle = %v", dup)
	}
	rel := noUserErrors(t, b.mustGQL(t, `mutation($id: ID!) { fulfillmentOrderReleaseHold(id: $id) { fulfillmentOrder { status fulfillmentHolds { id } } userErrors { code message } } }`,
		map[string]any{"id": rest}), "fulfillmentOrderReleaseHold")
	if str(rel, "fulfillmentOrder", "status") != "OPEN" || len(dig(rel, "fulfillmentOrder", "fulfillmentHolds").([]any)) != 0 {
		t.Fatalf("release = %v", rel)
	}
}

// TestContractFields reads every field docs/shopify-operations.md relies on
// and fails on any error (an unimplemented field would report one).
func TestContractFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 10)
	b.subscribe(t, "ORDERS_CREATE", "https://hub.example.com/webhooks")
	o := b.order(t, map[string]int{"SKU-A": 2})
	foID := str(o, "fulfillmentOrders", "nodes", 0, "id")
	b.mustGQL(t, submitFO, map[string]any{"id": foID})
	b.mustGQL(t, acceptFO, map[string]any{"id": foID})
	noUserErrors(t, b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}},
		"trackingInfo":                map[string]any{"company": "DHL", "number": "JD0001", "url": "https://track.example.com/JD0001"},
	}}), "fulfillmentCreate")
	const q = `query($order: ID!, $fo: ID!, $loc: ID!, $item: ID!) {
  shop { name myshopifyDomain }
  order(id: $order) {
    id legacyResourceId name email createdAt updatedAt cancelledAt closed displayFulfillmentStatus
    shippingAddress { name firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone }
    lineItems(first: 10) { nodes { id sku name quantity variant { id } } }
    fulfillmentOrders(first: 10) { nodes { id status } }
    fulfillments { id status createdAt trackingInfo { company number url }
      fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id sku } } } }
    shippingLine { title code }
  }
  fulfillmentOrder(id: $fo) {
    id status requestStatus createdAt updatedAt order { id name legacyResourceId }
    assignedLocation { name location { id } }
    destination { firstName lastName company address1 address2 city province countryCode zip phone email }
    lineItems(first: 10) { nodes { id sku totalQuantity remainingQuantity inventoryItemId variant { id } lineItem { id sku quantity } } }
    fulfillmentHolds { id reason reasonNotes handle }
    merchantRequests(first: 5) { nodes { kind message } }
  }
  orders(first: 5, query: "updated_at:>'2026-01-01T00:00:00Z'", sortKey: UPDATED_AT, reverse: true) {
    edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
  location(id: $loc) {
    id name isActive fulfillmentService { id serviceName }
    inventoryLevels(first: 10) { nodes { id item { id sku } quantities(names: ["available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control"]) { name quantity } } }
    inventoryLevel(inventoryItemId: $item) { id quantities(names: ["available"]) { quantity } }
  }
  locations(first: 10) { nodes { id name } }
  productVariants(first: 10, query: "sku:SKU-A") { nodes { id sku barcode title product { id title } inventoryItem { id sku tracked } } }
  inventoryItem(id: $item) { id sku tracked inventoryLevels(first: 5) { nodes { id } } inventoryLevel(locationId: $loc) { id } }
  webhookSubscriptions(first: 10) { nodes { id topic uri format createdAt } }
}`
	data := b.mustGQL(t, q, map[string]any{"order": o["id"], "fo": foID, "loc": loc, "item": b.variant("SKU-A").InventoryItemID})
	if str(data, "order", "fulfillments", 0, "trackingInfo", 0, "url") != "https://track.example.com/JD0001" ||
		str(data, "fulfillmentOrder", "destination", "email") != "buyer@example.com" ||
		str(data, "order", "shippingAddress", "name") != "Ada Lovelace" ||
		str(data, "order", "shippingLine", "code") != "STD" ||
		str(data, "webhookSubscriptions", "nodes", 0, "topic") != "ORDERS_CREATE" ||
		num(data, "location", "inventoryLevel", "quantities", 0, "quantity") != 8 {
		t.Fatalf("data = %v", data)
	}
	for _, qn := range dig(data, "location", "inventoryLevels", "nodes", 0, "quantities").([]any) {
		if str(qn, "name") == "on_hand" && num(qn, "quantity") != 8 {
			t.Fatalf("on_hand after shipping 2 of 10 = %v", qn)
		}
	}
}
