package shopifysim

import "testing"

const splitFO = `mutation($splits: [FulfillmentOrderSplitInput!]!) { fulfillmentOrderSplit(fulfillmentOrderSplits: $splits) {
  fulfillmentOrderSplits {
    fulfillmentOrder { id status lineItems(first: 5) { nodes { id sku totalQuantity remainingQuantity } } }
    remainingFulfillmentOrder { id status requestStatus assignedLocation { location { id } } lineItems(first: 5) { nodes { sku totalQuantity remainingQuantity } } }
    replacementFulfillmentOrder { id }
  }
  userErrors { field message code } } }`

func splitVars(foID string, lines ...any) map[string]any {
	items := []any{}
	for i := 0; i+1 < len(lines); i += 2 {
		items = append(items, map[string]any{"id": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"splits": []any{map[string]any{"fulfillmentOrderId": foID, "fulfillmentOrderLineItems": items}}}
}

func TestFulfillmentOrderSplit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fs := b.addFS(t, "Paris WMS")
	o := dig(noUserErrors(t, b.mustGQL(t, createOrder, map[string]any{
		"order": map[string]any{"lineItems": []any{
			map[string]any{"variantId": b.variant("SKU-A").ID, "quantity": 2},
			map[string]any{"variantId": b.variant("SKU-B").ID, "quantity": 3},
		}},
		"options": map[string]any{"inventoryBehaviour": "BYPASS"},
	}), "orderCreate"), "order")
	fo := dig(o, "fulfillmentOrders", "nodes", 0)
	foID := str(fo, "id")
	lineA, lineB := str(fo, "lineItems", "nodes", 0, "id"), str(fo, "lineItems", "nodes", 1, "id")

	// Refusals: nothing listed, too many units, everything split out.
	for _, tc := range []struct {
		vars map[string]any
		code string
	}{
		{splitVars(foID), "NO_LINE_ITEMS_PROVIDED_TO_SPLIT"},
		{splitVars(foID, lineB, 4), "INVALID_LINE_ITEM_QUANTITY"},
		{splitVars(foID, lineB, 0), "GREATER_THAN"},
		{splitVars(foID, lineA, 2, lineB, 3), "INVALID_LINE_ITEM_QUANTITY"},
		{splitVars("gid://shopify/FulfillmentOrder/999999", lineB, 1), "FULFILLMENT_ORDER_NOT_FOUND"},
	} {
		res := b.mustGQL(t, splitFO, tc.vars)
		if got := str(res, "fulfillmentOrderSplit", "userErrors", 0, "code"); got != tc.code {
			t.Errorf("split %v: code %q, want %q (%v)", tc.vars, got, tc.code, res)
		}
	}

	// SKU-B (all of it) and one unit of SKU-A go to a new fulfillment order
	// at the same location; the original keeps one unit of SKU-A.
	p := noUserErrors(t, b.mustGQL(t, splitFO, splitVars(foID, lineB, 3, lineA, 1)), "fulfillmentOrderSplit")
	r := dig(p, "fulfillmentOrderSplits", 0)
	if str(r, "fulfillmentOrder", "id") != foID || dig(r, "replacementFulfillmentOrder") != nil {
		t.Fatalf("split result %v", r)
	}
	kept := dig(r, "fulfillmentOrder", "lineItems", "nodes").([]any)
	if len(kept) != 1 || str(kept[0], "sku") != "SKU-A" || num(kept[0], "totalQuantity") != 1 || num(kept[0], "remainingQuantity") != 1 {
		t.Errorf("original keeps %v", kept)
	}
	moved := dig(r, "remainingFulfillmentOrder", "lineItems", "nodes").([]any)
	got := map[string]int64{}
	for _, l := range moved {
		got[str(l, "sku")] = num(l, "totalQuantity")
	}
	if len(got) != 2 || got["SKU-A"] != 1 || got["SKU-B"] != 3 {
		t.Errorf("new fulfillment order has %v", moved)
	}
	newID := str(r, "remainingFulfillmentOrder", "id")
	if newID == foID || str(r, "remainingFulfillmentOrder", "status") != "OPEN" || str(r, "remainingFulfillmentOrder", "requestStatus") != "UNSUBMITTED" ||
		str(r, "remainingFulfillmentOrder", "assignedLocation", "location", "id") != fs {
		t.Errorf("new fulfillment order %v", dig(r, "remainingFulfillmentOrder"))
	}
	// The read-back shows both, with the order's units unchanged.
	st, ok := b.srv.Order(str(o, "id"))
	if !ok || len(st.FulfillmentOrders) != 2 {
		t.Fatalf("order after split: %+v", st)
	}
	total := 0
	for _, f := range st.FulfillmentOrders {
		for _, l := range f.LineItems {
			total += l.TotalQuantity
		}
	}
	if total != 5 {
		t.Errorf("%d units across the fulfillment orders, want 5", total)
	}
}
