package shopifysim

import (
	"fmt"
	"testing"
)

// TestSizePricedMutations checks the simulator's model of dynamic
// mutation pricing: inventorySetQuantities and inventoryAdjustQuantities
// cost 10 + 1 per input entry, requested and actual; other mutations 10.
func TestSizePricedMutations(t *testing.T) {
	t.Parallel()
	b, fs := bulkSetup(t)
	items := make([]InventorySeedItem, 250)
	for i := range items {
		items[i] = InventorySeedItem{SKU: fmt.Sprintf("P-%03d", i), Available: []int{0}}
	}
	vs, err := b.srv.SeedInventory([]string{fs}, items)
	if err != nil {
		t.Fatal(err)
	}
	entries := func(n int, adjust bool) []any {
		out := make([]any, n)
		for i := range out {
			e := map[string]any{"inventoryItemId": vs[i].InventoryItemID, "locationId": fs, "changeFromQuantity": nil}
			if adjust {
				e["delta"] = 1
			} else {
				e["quantity"] = 5
			}
			out[i] = e
		}
		return out
	}
	const set = `mutation($in: InventorySetQuantitiesInput!, $key: String!) {
	  inventorySetQuantities(input: $in) @idempotent(key: $key) { inventoryAdjustmentGroup { id } userErrors { code message } } }`
	const adjust = `mutation($in: InventoryAdjustQuantitiesInput!, $key: String!) {
	  inventoryAdjustQuantities(input: $in) @idempotent(key: $key) { inventoryAdjustmentGroup { id } userErrors { code message } } }`
	for _, tc := range []struct {
		name, query, key string
		vars             map[string]any
		want             int
	}{
		{"set 1", set, "inventorySetQuantities", map[string]any{"in": map[string]any{"name": "available", "reason": "correction", "quantities": entries(1, false)}}, 11},
		{"set 250", set, "inventorySetQuantities", map[string]any{"in": map[string]any{"name": "available", "reason": "correction", "quantities": entries(250, false)}}, 260},
		{"adjust 3", adjust, "inventoryAdjustQuantities", map[string]any{"in": map[string]any{"name": "available", "reason": "received", "changes": entries(3, true)}}, 13},
		{"other mutation", createFS, "fulfillmentServiceCreate", map[string]any{"name": "Other"}, 10},
	} {
		if tc.query != createFS {
			tc.vars["key"] = "price-" + tc.name
		}
		res := b.gql(t, tc.query, tc.vars)
		noUserErrors(t, res.Data, tc.key)
		c := res.Extensions.Cost
		if c.RequestedQueryCost != tc.want || c.ActualQueryCost == nil || *c.ActualQueryCost != tc.want {
			t.Errorf("%s: cost requested %d actual %v, want %d", tc.name, c.RequestedQueryCost, c.ActualQueryCost, tc.want)
		}
	}
}
