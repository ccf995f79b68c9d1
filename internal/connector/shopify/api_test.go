package shopify

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// roundTrip normalises a value to what it looks like after JSON decoding
// with UseNumber, to compare with the variables the server received.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func foNode(id string, lines []any, hasNext bool, cursor string) map[string]any {
	return map[string]any{
		"id": id, "orderId": "gid://shopify/Order/9007199254740993", "status": "OPEN", "requestStatus": "UNSUBMITTED", "updatedAt": "2026-11-02T09:00:00Z",
		"assignedLocation": map[string]any{"location": map[string]any{"id": "gid://shopify/Location/7"}},
		"destination": map[string]any{
			"firstName": "Steve", "lastName": "Shipper", "company": nil, "address1": "123 Shipping Street",
			"address2": nil, "city": "Shippington", "province": "Kentucky", "zip": "40003",
			"countryCode": "US", "phone": "555-555-SHIP", "email": "jon@example.com",
		},
		"lineItems": map[string]any{"nodes": lines, "pageInfo": map[string]any{"hasNextPage": hasNext, "endCursor": cursor}},
	}
}

func foLine(n int, variant bool) map[string]any {
	l := map[string]any{
		"id":  "gid://shopify/FulfillmentOrderLineItem/" + string(rune('0'+n)),
		"sku": "SKU-" + string(rune('0'+n)), "totalQuantity": 2, "remainingQuantity": 1,
		"inventoryItemId": "gid://shopify/InventoryItem/" + string(rune('0'+n)), "variant": nil,
	}
	if variant {
		l["variant"] = map[string]any{"id": "gid://shopify/ProductVariant/" + string(rune('0'+n))}
	}
	return l
}

func TestGetOrderReadsEveryPage(t *testing.T) {
	t.Parallel()
	const orderID = "gid://shopify/Order/9007199254740993"
	f := setup(t, func(n int, r seenRequest) reply {
		switch {
		case r.OperationName == "GetOrder" && r.Variables["fulfillmentOrdersAfter"] == nil:
			return answer(map[string]any{"order": map[string]any{
				"id": orderID, "legacyResourceId": "9007199254740993", "name": "#1001", "email": "jon@example.com",
				"createdAt": "2026-11-02T08:00:00Z", "updatedAt": "2026-11-02T09:00:00Z", "cancelledAt": nil,
				"displayFulfillmentStatus": "UNFULFILLED",
				"shippingAddress": map[string]any{
					"name": "Steve Shipper", "firstName": "Steve", "lastName": "Shipper", "company": "Shipping Company",
					"address1": "123 Shipping Street", "address2": nil, "city": "Shippington", "province": "Kentucky",
					"provinceCode": "KY", "zip": "40003", "countryCodeV2": "US", "phone": "555-555-SHIP",
				},
				"shippingLine": map[string]any{"title": "Standard", "code": "STD"},
				"fulfillmentOrders": map[string]any{
					"nodes":    []any{foNode("gid://shopify/FulfillmentOrder/1", []any{foLine(1, true)}, true, "L1")},
					"pageInfo": map[string]any{"hasNextPage": true, "endCursor": "F1"},
				},
			}}, status())
		case r.OperationName == "GetOrder" && r.Variables["fulfillmentOrdersAfter"] == "F1":
			return answer(map[string]any{"order": map[string]any{
				"id": orderID, "legacyResourceId": "9007199254740993", "name": "#1001",
				"createdAt": "2026-11-02T08:00:00Z", "updatedAt": "2026-11-02T09:00:00Z", "displayFulfillmentStatus": "UNFULFILLED",
				"fulfillmentOrders": map[string]any{
					"nodes":    []any{foNode("gid://shopify/FulfillmentOrder/2", []any{foLine(3, true)}, false, "")},
					"pageInfo": map[string]any{"hasNextPage": false, "endCursor": "F2"},
				},
			}}, status())
		case r.OperationName == "GetFulfillmentOrder" && r.Variables["lineItemsAfter"] == "L1":
			return answer(map[string]any{"fulfillmentOrder": foNode("gid://shopify/FulfillmentOrder/1", []any{foLine(2, false)}, false, "L2")}, status())
		}
		t.Errorf("unexpected request %s %v", r.OperationName, r.Variables)
		return reply{status: 400}
	})
	o, err := f.client.GetOrder(ctxT, orderID)
	if err != nil {
		t.Fatal(err)
	}
	ship := order.Address{
		Name: "Steve Shipper", Company: "Shipping Company", Address1: "123 Shipping Street", City: "Shippington",
		ProvinceCode: "KY", PostalCode: "40003", CountryCode: "US", Phone: "555-555-SHIP", Email: "jon@example.com",
	}
	dest := ship
	dest.Company = ""
	line := func(n int, variant bool) FulfillmentOrderLine {
		l := FulfillmentOrderLine{
			ID: "gid://shopify/FulfillmentOrderLineItem/" + string(rune('0'+n)), SKU: "SKU-" + string(rune('0'+n)),
			TotalQuantity: 2, RemainingQuantity: 1, InventoryItemID: "gid://shopify/InventoryItem/" + string(rune('0'+n)),
		}
		if variant {
			l.VariantID = "gid://shopify/ProductVariant/" + string(rune('0'+n))
		}
		return l
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	want := &Order{
		ID: orderID, LegacyID: 9007199254740993, Name: "#1001", Email: "jon@example.com",
		CreatedAt: at("2026-11-02T08:00:00Z"), UpdatedAt: at("2026-11-02T09:00:00Z"),
		DisplayFulfillmentStatus: "UNFULFILLED", ShippingAddress: ship, ShippingMethod: "Standard", ShippingCode: "STD",
		FulfillmentOrders: []FulfillmentOrder{
			{ID: "gid://shopify/FulfillmentOrder/1", OrderID: orderID, Status: "OPEN", RequestStatus: "UNSUBMITTED", UpdatedAt: at("2026-11-02T09:00:00Z"),
				LocationID: "gid://shopify/Location/7", Destination: dest, Lines: []FulfillmentOrderLine{line(1, true), line(2, false)}},
			{ID: "gid://shopify/FulfillmentOrder/2", OrderID: orderID, Status: "OPEN", RequestStatus: "UNSUBMITTED", UpdatedAt: at("2026-11-02T09:00:00Z"),
				LocationID: "gid://shopify/Location/7", Destination: dest, Lines: []FulfillmentOrderLine{line(3, true)}},
		},
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("GetOrder (-want +got):\n%s", diff)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestGetOrderNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply { return answer(map[string]any{"order": nil}, status()) })
	_, err := f.client.GetOrder(ctxT, "gid://shopify/Order/1")
	if !errors.Is(err, ErrNotFound) || !connector.IsPermanent(err) {
		t.Errorf("err = %v, want permanent ErrNotFound", err)
	}
}

func TestGetFulfillmentOrderKeepsProvince(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply {
		return answer(map[string]any{"fulfillmentOrder": foNode("gid://shopify/FulfillmentOrder/1", []any{foLine(1, true)}, false, "")}, status())
	})
	fo, err := f.client.GetFulfillmentOrder(ctxT, "gid://shopify/FulfillmentOrder/1")
	if err != nil {
		t.Fatal(err)
	}
	if fo.OrderID != "gid://shopify/Order/9007199254740993" || fo.Destination.ProvinceCode != "Kentucky" || fo.Destination.Name != "Steve Shipper" || len(fo.Lines) != 1 || fo.LocationID != "gid://shopify/Location/7" {
		t.Errorf("fulfillment order = %+v", fo)
	}
}

func TestOrdersUpdatedSince(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"orders": map[string]any{
			"nodes": []any{
				map[string]any{"id": "gid://shopify/Order/1", "name": "#1", "updatedAt": "2026-11-02T09:00:00Z", "cancelledAt": nil},
				map[string]any{"id": "gid://shopify/Order/2", "name": "#2", "updatedAt": "2026-11-02T09:01:00Z", "cancelledAt": "2026-11-02T09:01:00Z"},
			},
			"pageInfo": map[string]any{"hasNextPage": n == 0, "endCursor": "C1"},
		}}, status())
	})
	since := time.Date(2026, 11, 2, 10, 4, 5, 600, time.FixedZone("CET", 3600))
	page, err := f.client.OrdersUpdatedSince(ctxT, since, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 2 || page.EndCursor != "C1" || page.Orders[1].CancelledAt == nil || page.Orders[0].CancelledAt != nil {
		t.Errorf("page = %+v", page)
	}
	page, err = f.client.OrdersUpdatedSince(ctxT, since, "C1")
	if err != nil || page.EndCursor != "" {
		t.Errorf("last page: %+v, %v", page, err)
	}
	r := f.requests()
	if q := r[0].Variables["query"]; q != "updated_at:>'2026-11-02T09:04:05Z'" {
		t.Errorf("query = %v", q)
	}
	if r[0].Variables["after"] != nil || r[1].Variables["after"] != "C1" || !strings.Contains(r[0].Query, "sortKey: UPDATED_AT") {
		t.Errorf("variables = %v, %v", r[0].Variables, r[1].Variables)
	}
}

func TestSetInventorySendsCASAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"inventorySetQuantities": map[string]any{
			"inventoryAdjustmentGroup": map[string]any{"id": "gid://shopify/InventoryAdjustmentGroup/5"},
			"userErrors":               []any{},
		}}, status())
	})
	five := 5
	id, err := f.client.SetInventory(ctxT, "sync-42", "correction", "gid://crossdock/StockSync/42", []InventoryQuantity{
		{InventoryItemID: "gid://shopify/InventoryItem/1", LocationID: "gid://shopify/Location/7", Quantity: 8, ChangeFromQuantity: &five},
		{InventoryItemID: "gid://shopify/InventoryItem/2", LocationID: "gid://shopify/Location/7", Quantity: 0},
	})
	if err != nil || id != "gid://shopify/InventoryAdjustmentGroup/5" {
		t.Fatalf("SetInventory = %q, %v", id, err)
	}
	r := f.requests()[0]
	if !strings.Contains(r.Query, "@idempotent(key: $idempotencyKey)") || r.Variables["idempotencyKey"] != "sync-42" {
		t.Errorf("no @idempotent key: %v", r.Variables)
	}
	want := roundTrip(t, map[string]any{
		"name": "available", "reason": "correction", "referenceDocumentUri": "gid://crossdock/StockSync/42",
		"quantities": []any{
			map[string]any{"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": "gid://shopify/Location/7", "quantity": 8, "changeFromQuantity": 5},
			// changeFromQuantity must be present, as null, to skip the check.
			map[string]any{"inventoryItemId": "gid://shopify/InventoryItem/2", "locationId": "gid://shopify/Location/7", "quantity": 0, "changeFromQuantity": nil},
		},
	})
	if diff := cmp.Diff(want, r.Variables["input"]); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
}

func TestSetInventoryStaleListsItems(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		return answer(map[string]any{"inventorySetQuantities": map[string]any{
			"inventoryAdjustmentGroup": nil,
			"userErrors": []any{
				map[string]any{"field": []any{"input", "quantities", "1", "changeFromQuantity"}, "message": "The specified compare quantity does not match the current quantity.", "code": "CHANGE_FROM_QUANTITY_STALE"},
				map[string]any{"field": nil, "message": "Stale.", "code": "CHANGE_FROM_QUANTITY_STALE"},
			},
		}}, status())
	})
	three, four := 3, 4
	qs := []InventoryQuantity{
		{InventoryItemID: "gid://shopify/InventoryItem/1", LocationID: "gid://shopify/Location/7", Quantity: 8, ChangeFromQuantity: &three},
		{InventoryItemID: "gid://shopify/InventoryItem/2", LocationID: "gid://shopify/Location/7", Quantity: 9, ChangeFromQuantity: &four},
	}
	_, err := f.client.SetInventory(ctxT, "k", "correction", "", qs)
	var stale *StaleQuantityError
	if !connector.IsPermanent(err) || !errors.As(err, &stale) {
		t.Fatalf("err = %v, want permanent *StaleQuantityError", err)
	}
	want := []StaleItem{
		{Index: 1, InventoryItemID: "gid://shopify/InventoryItem/2", LocationID: "gid://shopify/Location/7", ChangeFromQuantity: &four,
			Message: "The specified compare quantity does not match the current quantity."},
		{Index: -1, Message: "Stale."},
	}
	if diff := cmp.Diff(want, stale.Items); diff != "" {
		t.Errorf("stale items (-want +got):\n%s", diff)
	}
	var uerr *UserErrorsError
	if !errors.As(err, &uerr) || !uerr.HasCode("CHANGE_FROM_QUANTITY_STALE") {
		t.Errorf("the userErrors must stay reachable: %v", err)
	}
	if r := f.requests()[0]; r.Variables["input"].(map[string]any)["referenceDocumentUri"] != nil {
		t.Errorf("empty refURI sent: %v", r.Variables["input"])
	}
}

func TestSetInventoryRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply { return answer(nil, nil) })
	q := InventoryQuantity{InventoryItemID: "gid://shopify/InventoryItem/1", LocationID: "gid://shopify/Location/1"}
	if _, err := f.client.SetInventory(ctxT, "  ", "correction", "", []InventoryQuantity{q}); !connector.IsPermanent(err) {
		t.Errorf("blank key: err = %v", err)
	}
	if _, err := f.client.SetInventory(ctxT, "k", "correction", "", make([]InventoryQuantity, MaxInputItems+1)); !connector.IsPermanent(err) {
		t.Errorf("251 quantities: err = %v", err)
	}
	if id, err := f.client.SetInventory(ctxT, "k", "correction", "", nil); id != "" || err != nil {
		t.Errorf("nothing to set: %q, %v", id, err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestAllInventoryLevelsPages(t *testing.T) {
	t.Parallel()
	f := setup(t, func(n int, r seenRequest) reply {
		level := func(i int) any {
			return map[string]any{
				"item":       map[string]any{"id": "gid://shopify/InventoryItem/" + string(rune('0'+i)), "sku": "S" + string(rune('0'+i))},
				"quantities": []any{map[string]any{"name": "available", "quantity": i * 10}},
			}
		}
		return answer(map[string]any{"location": map[string]any{
			"id":              "gid://shopify/Location/7",
			"inventoryLevels": map[string]any{"nodes": []any{level(2 * n), level(2*n + 1)}, "pageInfo": map[string]any{"hasNextPage": n == 0, "endCursor": "P" + string(rune('0'+n))}},
		}}, status())
	})
	levels, err := f.client.AllInventoryLevels(ctxT, "gid://shopify/Location/7")
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) != 4 || levels[3] != (InventoryLevel{InventoryItemID: "gid://shopify/InventoryItem/3", SKU: "S3", Available: 30}) {
		t.Errorf("levels = %+v", levels)
	}
	r := f.requests()
	if len(r) != 2 || r[1].Variables["after"] != "P0" || r[0].Variables["first"] != json.Number("250") {
		t.Errorf("paging variables: %v / %v", r[0].Variables, r[1].Variables)
	}
}

func TestPaginationWithoutCursorFails(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply {
		return answer(map[string]any{"productVariants": map[string]any{"nodes": []any{}, "pageInfo": map[string]any{"hasNextPage": true, "endCursor": nil}}}, status())
	})
	if _, err := f.client.AllVariants(ctxT); err == nil || !strings.Contains(err.Error(), "endCursor") {
		t.Errorf("err = %v, want an error instead of looping", err)
	}
}

func TestEnsureWebhooksCreatesOnlyMissing(t *testing.T) {
	t.Parallel()
	const uri = "https://hub.example/webhooks/shopify"
	f := setup(t, func(n int, r seenRequest) reply {
		if r.OperationName == "WebhookSubscriptions" {
			return answer(map[string]any{"webhookSubscriptions": map[string]any{
				"nodes": []any{
					map[string]any{"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": uri},
					map[string]any{"id": "gid://shopify/WebhookSubscription/2", "topic": "ORDERS_UPDATED", "uri": "https://old.example/hook"},
				},
				"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil},
			}}, status())
		}
		return answer(map[string]any{"webhookSubscriptionCreate": map[string]any{
			"webhookSubscription": map[string]any{"id": "gid://shopify/WebhookSubscription/9", "topic": r.Variables["topic"], "uri": uri},
			"userErrors":          []any{},
		}}, status())
	})
	created, err := f.client.EnsureWebhooks(ctxT, uri, HubTopics())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED", "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED", "INVENTORY_LEVELS_UPDATE", "RETURNS_APPROVE", "RETURNS_CLOSE"}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	for _, r := range f.requests()[1:] {
		if diff := cmp.Diff(roundTrip(t, map[string]any{"uri": uri, "format": "JSON"}), r.Variables["webhookSubscription"]); diff != "" {
			t.Errorf("subscription input (-want +got):\n%s", diff)
		}
	}
}

// TestMutationHelpers checks each remaining helper's variables and result.
func TestMutationHelpers(t *testing.T) {
	t.Parallel()
	fo := func(status, req string) map[string]any {
		return map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "status": status, "requestStatus": req}
	}
	payloads := map[string]map[string]any{
		"FulfillmentOrderSubmitRequest": {"fulfillmentOrderSubmitFulfillmentRequest": map[string]any{"submittedFulfillmentOrder": fo("OPEN", "SUBMITTED"), "unsubmittedFulfillmentOrder": nil, "userErrors": []any{}}},
		"FulfillmentOrderAcceptRequest": {"fulfillmentOrderAcceptFulfillmentRequest": map[string]any{"fulfillmentOrder": fo("IN_PROGRESS", "ACCEPTED"), "userErrors": []any{}}},
		"FulfillmentOrderRejectRequest": {"fulfillmentOrderRejectFulfillmentRequest": map[string]any{"fulfillmentOrder": fo("OPEN", "REJECTED"), "userErrors": []any{}}},
		"FulfillmentOrderMove": {"fulfillmentOrderMove": map[string]any{"movedFulfillmentOrder": map[string]any{
			"id": "gid://shopify/FulfillmentOrder/2", "status": "OPEN", "requestStatus": "UNSUBMITTED",
			"assignedLocation": map[string]any{"location": map[string]any{"id": "gid://shopify/Location/8"}},
		}, "userErrors": []any{}}},
		"FulfillmentOrderHold":        {"fulfillmentOrderHold": map[string]any{"fulfillmentHold": map[string]any{"id": "gid://shopify/FulfillmentHold/3"}, "fulfillmentOrder": fo("ON_HOLD", "UNSUBMITTED"), "userErrors": []any{}}},
		"FulfillmentOrderReleaseHold": {"fulfillmentOrderReleaseHold": map[string]any{"fulfillmentOrder": fo("OPEN", "UNSUBMITTED"), "userErrors": []any{}}},
		"FulfillmentCreate":           {"fulfillmentCreate": map[string]any{"fulfillment": map[string]any{"id": "gid://shopify/Fulfillment/4", "status": "SUCCESS"}, "userErrors": []any{}}},
		"FulfillmentServiceCreate": {"fulfillmentServiceCreate": map[string]any{"fulfillmentService": map[string]any{
			"id": "gid://shopify/FulfillmentService/5", "location": map[string]any{"id": "gid://shopify/Location/6"},
		}, "userErrors": []any{}}},
		"OrderCreate": {"orderCreate": map[string]any{"order": map[string]any{"id": "gid://shopify/Order/6", "name": "#1006"}, "userErrors": []any{}}},
		"Locations": {"locations": map[string]any{"nodes": []any{
			map[string]any{"id": "gid://shopify/Location/6", "name": "Hub", "isActive": true, "isFulfillmentService": true},
		}, "pageInfo": map[string]any{"hasNextPage": false}}},
		"ProductVariants": {"productVariants": map[string]any{"nodes": []any{
			map[string]any{"id": "gid://shopify/ProductVariant/1", "sku": "A", "barcode": nil, "inventoryItem": map[string]any{"id": "gid://shopify/InventoryItem/1", "tracked": true}},
		}, "pageInfo": map[string]any{"hasNextPage": false}}},
	}
	f := setup(t, func(n int, r seenRequest) reply {
		p, ok := payloads[r.OperationName]
		if !ok {
			t.Errorf("unexpected %s", r.OperationName)
		}
		return answer(p, status())
	})
	c := f.client
	type call struct {
		op   string
		run  func() (any, error)
		want any
		vars map[string]any
	}
	addr := order.Address{Name: "Mary Ann Smith", Address1: "1 Main St", City: "Ottawa", ProvinceCode: "ON", PostalCode: "K2H7A8", CountryCode: "ca"}
	calls := []call{
		{"FulfillmentOrderSubmitRequest", func() (any, error) {
			return c.SubmitFulfillmentRequest(ctxT, "gid://shopify/FulfillmentOrder/1", "", true)
		},
			FulfillmentOrderState{ID: "gid://shopify/FulfillmentOrder/1", Status: "OPEN", RequestStatus: "SUBMITTED"},
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "message": nil, "notifyCustomer": true}},
		{"FulfillmentOrderAcceptRequest", func() (any, error) { return c.AcceptFulfillmentRequest(ctxT, "gid://shopify/FulfillmentOrder/1", "ok") },
			FulfillmentOrderState{ID: "gid://shopify/FulfillmentOrder/1", Status: "IN_PROGRESS", RequestStatus: "ACCEPTED"},
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "message": "ok"}},
		{"FulfillmentOrderRejectRequest", func() (any, error) {
			return c.RejectFulfillmentRequest(ctxT, "gid://shopify/FulfillmentOrder/1", "INVENTORY_OUT_OF_STOCK", "no stock")
		},
			FulfillmentOrderState{ID: "gid://shopify/FulfillmentOrder/1", Status: "OPEN", RequestStatus: "REJECTED"},
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "reason": "INVENTORY_OUT_OF_STOCK", "message": "no stock"}},
		{"FulfillmentOrderMove", func() (any, error) {
			return c.MoveFulfillmentOrder(ctxT, "gid://shopify/FulfillmentOrder/1", "gid://shopify/Location/8")
		},
			FulfillmentOrderState{ID: "gid://shopify/FulfillmentOrder/2", Status: "OPEN", RequestStatus: "UNSUBMITTED", LocationID: "gid://shopify/Location/8"},
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "newLocationId": "gid://shopify/Location/8"}},
		{"FulfillmentOrderHold", func() (any, error) {
			return c.HoldFulfillmentOrder(ctxT, "gid://shopify/FulfillmentOrder/1", Hold{Reason: "INCORRECT_ADDRESS", Notes: "no zip", Handle: "crossdock-address"})
		},
			"gid://shopify/FulfillmentHold/3",
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1", "fulfillmentHold": map[string]any{"reason": "INCORRECT_ADDRESS", "reasonNotes": "no zip", "handle": "crossdock-address", "notifyMerchant": false}}},
		{"FulfillmentOrderReleaseHold", func() (any, error) { return c.ReleaseHold(ctxT, "gid://shopify/FulfillmentOrder/1") },
			FulfillmentOrderState{ID: "gid://shopify/FulfillmentOrder/1", Status: "OPEN", RequestStatus: "UNSUBMITTED"},
			map[string]any{"id": "gid://shopify/FulfillmentOrder/1"}},
		{"FulfillmentCreate", func() (any, error) {
			return c.CreateFulfillment(ctxT, FulfillmentInput{
				FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1",
				Lines:              []FulfillmentLine{{ID: "gid://shopify/FulfillmentOrderLineItem/1", Quantity: 2}},
				Company:            "UPS", Numbers: []string{"1Z999"}, URLs: []string{"https://ups.example/1Z999"}, NotifyCustomer: true,
			})
		},
			"gid://shopify/Fulfillment/4",
			map[string]any{"message": nil, "fulfillment": map[string]any{
				"lineItemsByFulfillmentOrder": []any{map[string]any{
					"fulfillmentOrderId":        "gid://shopify/FulfillmentOrder/1",
					"fulfillmentOrderLineItems": []any{map[string]any{"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 2}},
				}},
				"trackingInfo":   map[string]any{"company": "UPS", "numbers": []any{"1Z999"}, "urls": []any{"https://ups.example/1Z999"}},
				"notifyCustomer": true,
			}}},
		{"FulfillmentServiceCreate", func() (any, error) {
			s, l, err := c.CreateFulfillmentService(ctxT, "crossdock", "https://hub.example/fs")
			return [2]string{s, l}, err
		},
			[2]string{"gid://shopify/FulfillmentService/5", "gid://shopify/Location/6"},
			map[string]any{"name": "crossdock", "callbackUrl": "https://hub.example/fs", "inventoryManagement": false, "trackingSupport": false}},
		{"OrderCreate", func() (any, error) {
			id, name, err := c.CreateOrder(ctxT, OrderInput{
				Email: "jon@example.com", Lines: []OrderLineInput{{VariantID: "gid://shopify/ProductVariant/1", Quantity: 2}},
				ShippingAddress: addr, InventoryBehaviour: "DECREMENT_OBEYING_POLICY",
			})
			return [2]string{id, name}, err
		},
			[2]string{"gid://shopify/Order/6", "#1006"},
			map[string]any{
				"order": map[string]any{
					"email":     "jon@example.com",
					"lineItems": []any{map[string]any{"variantId": "gid://shopify/ProductVariant/1", "quantity": 2}},
					"shippingAddress": map[string]any{"firstName": "Mary Ann", "lastName": "Smith", "address1": "1 Main St", "city": "Ottawa",
						"provinceCode": "ON", "zip": "K2H7A8", "countryCode": "CA"},
				},
				"options": map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
			}},
		{"Locations", func() (any, error) { return c.Locations(ctxT) },
			[]Location{{ID: "gid://shopify/Location/6", Name: "Hub", IsActive: true, IsFulfillmentService: true}},
			map[string]any{"first": locationsPageSize, "after": nil}},
		{"ProductVariants", func() (any, error) { return c.AllVariants(ctxT) },
			[]Variant{{ID: "gid://shopify/ProductVariant/1", SKU: "A", InventoryItemID: "gid://shopify/InventoryItem/1", Tracked: true}},
			map[string]any{"first": variantsPageSize, "after": nil}},
	}
	for i, cl := range calls {
		got, err := cl.run()
		if err != nil {
			t.Errorf("%s: %v", cl.op, err)
			continue
		}
		if !reflect.DeepEqual(got, cl.want) {
			t.Errorf("%s = %#v, want %#v", cl.op, got, cl.want)
		}
		r := f.requests()[i]
		if r.OperationName != cl.op {
			t.Errorf("call %d sent %s, want %s", i, r.OperationName, cl.op)
		}
		if diff := cmp.Diff(roundTrip(t, cl.vars), roundTrip(t, r.Variables)); diff != "" {
			t.Errorf("%s variables (-want +got):\n%s", cl.op, diff)
		}
	}
}

func TestGIDs(t *testing.T) {
	t.Parallel()
	if g := GID("Order", 9007199254740993); g != "gid://shopify/Order/9007199254740993" {
		t.Errorf("GID = %q", g)
	}
	res, id, err := ParseGID("gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015")
	if err != nil || res != "InventoryLevel" || id != 24826418 {
		t.Errorf("ParseGID = %q %d %v", res, id, err)
	}
	for _, bad := range []string{"", "Order/1", "gid://shopify/Order", "gid://shopify/Order/x", "gid://shopify//1", "gid://shopify/Order/-1"} {
		if _, _, err := ParseGID(bad); err == nil {
			t.Errorf("ParseGID(%q) accepted", bad)
		}
	}
	if TopicEnum("fulfillment_orders/fulfillment_request_submitted") != "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED" || TopicEnum("ORDERS_CREATE") != "ORDERS_CREATE" {
		t.Error("TopicEnum")
	}
}

func TestFindFulfillmentByTracking(t *testing.T) {
	t.Parallel()
	f := setup(t, func(int, seenRequest) reply {
		return answer(map[string]any{"order": map[string]any{"id": "gid://shopify/Order/1", "fulfillments": []any{
			map[string]any{"id": "gid://shopify/Fulfillment/1", "status": "CANCELLED", "trackingInfo": []any{map[string]any{"number": "1Z1", "company": "UPS", "url": nil}}},
			map[string]any{"id": "gid://shopify/Fulfillment/2", "status": "SUCCESS", "trackingInfo": []any{map[string]any{"number": "1Z1", "company": "UPS", "url": nil}}},
			map[string]any{"id": "gid://shopify/Fulfillment/3", "status": "SUCCESS", "trackingInfo": []any{map[string]any{"number": "1Z3", "company": "UPS", "url": nil}}},
		}}}, status())
	})
	for _, tc := range []struct {
		numbers []string
		want    string
	}{
		{[]string{"1Z9", "1Z1"}, "gid://shopify/Fulfillment/2"}, // the cancelled one is skipped
		{[]string{"1Z3"}, "gid://shopify/Fulfillment/3"},
		{[]string{"1Z9"}, ""},
		{nil, ""},
	} {
		got, err := f.client.FindFulfillmentByTracking(ctxT, "gid://shopify/Order/1", tc.numbers)
		if err != nil || got != tc.want {
			t.Errorf("FindFulfillmentByTracking(%v) = %q, %v; want %q", tc.numbers, got, err, tc.want)
		}
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (none without numbers)", n)
	}
}
