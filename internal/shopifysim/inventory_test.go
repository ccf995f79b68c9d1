package shopifysim

import (
	"fmt"
	"slices"
	"testing"
)

const setQuantities = `mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}`

func TestInventorySetQuantities(t *testing.T) {
	t.Parallel()
	type bundle struct {
		*testBundle
		item, loc string
	}
	setupInv := func(t *testing.T) bundle {
		b := setup(t)
		loc := b.addFS(t, "WMS")
		b.setStock(t, "SKU-A", loc, 5)
		return bundle{testBundle: b, item: b.variant("SKU-A").InventoryItemID, loc: loc}
	}
	input := func(b bundle, qty int, changeFrom any, omit bool) map[string]any {
		q := map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": qty}
		if !omit {
			q["changeFromQuantity"] = changeFrom
		}
		return map[string]any{"name": "available", "reason": "correction", "referenceDocumentUri": "gid://crossdock/StockSync/1", "quantities": []any{q}}
	}
	available := func(t *testing.T, b bundle) int {
		q, ok := b.srv.InventoryLevel("SKU-A", b.loc)
		if !ok {
			t.Fatal("no level")
		}
		if q.OnHand != q.Available+q.Committed+q.Reserved+q.Damaged+q.SafetyStock+q.QualityControl {
			t.Fatalf("on_hand invariant broken: %+v", q)
		}
		return q.Available
	}

	t.Run("applies with compare-and-swap or null", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		p := noUserErrors(t, b.mustGQL(t, setQuantities, map[string]any{"input": input(b, 8, 5, false), "key": "k1"}), "inventorySetQuantities")
		if fmt.Sprint(dig(p, "inventoryAdjustmentGroup", "changes")) != "[map[delta:3 name:available quantityAfterChange:8] map[delta:3 name:on_hand quantityAfterChange:8]]" {
			t.Fatalf("changes = %v", dig(p, "inventoryAdjustmentGroup", "changes"))
		}
		noUserErrors(t, b.mustGQL(t, setQuantities, map[string]any{"input": input(b, 2, nil, false), "key": "k2"}), "inventorySetQuantities")
		if got := available(t, b); got != 2 {
			t.Fatalf("available = %d, want 2", got)
		}
	})
	t.Run("missing changeFromQuantity", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		res := b.gql(t, setQuantities, map[string]any{"input": input(b, 9, nil, true), "key": "k1"})
		if !slices.Equal(res.codes(), []string{"INVALID_FIELD_ARGUMENTS"}) || dig(res.Data, "inventorySetQuantities") != nil {
			t.Fatalf("omitted changeFromQuantity: %s", res.Raw)
		}
		if got := available(t, b); got != 5 {
			t.Fatalf("applied anyway: available = %d", got)
		}
	})
	t.Run("stale changeFromQuantity", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		data := b.mustGQL(t, setQuantities, map[string]any{"input": input(b, 9, 4, false), "key": "k1"})
		if str(data, "inventorySetQuantities", "userErrors", 0, "code") != "CHANGE_FROM_QUANTITY_STALE" ||
			fmt.Sprint(dig(data, "inventorySetQuantities", "userErrors", 0, "field")) != "[input quantities 0 changeFromQuantity]" {
			t.Fatalf("stale = %v", data)
		}
		if got := available(t, b); got != 5 {
			t.Fatalf("applied anyway: available = %d", got)
		}
	})
	t.Run("idempotent replay applies once", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		vars := map[string]any{"input": input(b, 9, 5, false), "key": "replay-1"}
		first := noUserErrors(t, b.mustGQL(t, setQuantities, vars), "inventorySetQuantities")
		// A second application would now fail the CAS check (9 ≠ 5); a replay returns the original.
		again := noUserErrors(t, b.mustGQL(t, setQuantities, vars), "inventorySetQuantities")
		if str(first, "inventoryAdjustmentGroup", "id") == "" || str(first, "inventoryAdjustmentGroup", "id") != str(again, "inventoryAdjustmentGroup", "id") {
			t.Fatalf("replay returned a different result: %v vs %v", first, again)
		}
		const adjust = `mutation($key: String!, $item: ID!, $loc: ID!) {
		  inventoryAdjustQuantities(input: {name: "available", reason: "received", changes: [{inventoryItemId: $item, locationId: $loc, delta: 4, changeFromQuantity: null}]}) @idempotent(key: $key) {
		    inventoryAdjustmentGroup { id } userErrors { code message } } }`
		for range 2 {
			noUserErrors(t, b.mustGQL(t, adjust, map[string]any{"key": "adj-1", "item": b.item, "loc": b.loc}), "inventoryAdjustQuantities")
		}
		if got := available(t, b); got != 13 {
			t.Fatalf("available = %d, want 13 (9 + one delta of 4)", got)
		}
	})
	t.Run("same key different input", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		noUserErrors(t, b.mustGQL(t, setQuantities, map[string]any{"input": input(b, 9, 5, false), "key": "k1"}), "inventorySetQuantities")
		data := b.mustGQL(t, setQuantities, map[string]any{"input": input(b, 10, 9, false), "key": "k1"})
		if str(data, "inventorySetQuantities", "userErrors", 0, "code") != "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" {
			t.Fatalf("mismatch = %v", data)
		}
		if got := available(t, b); got != 9 {
			t.Fatalf("available = %d, want 9", got)
		}
	})
	t.Run("missing idempotency directive", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		res := b.gql(t, `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`,
			map[string]any{"input": input(b, 9, 5, false)})
		if !slices.Equal(res.codes(), []string{"BAD_REQUEST"}) || available(t, b) != 5 {
			t.Fatalf("without @idempotent: %s", res.Raw)
		}
	})
	t.Run("251 quantities", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		in := input(b, 1, nil, false)
		q := in["quantities"].([]any)[0]
		var many []any
		for range 251 {
			many = append(many, q)
		}
		in["quantities"] = many
		res := b.gql(t, setQuantities, map[string]any{"input": in, "key": "k1"})
		if !slices.Equal(res.codes(), []string{"MAX_INPUT_SIZE_EXCEEDED"}) || res.Errors[0].Message != "The input array size of 251 is greater than the maximum allowed of 250." || res.Data != nil {
			t.Fatalf("251 items: %s", res.Raw)
		}
	})
	t.Run("validation errors", func(t *testing.T) {
		t.Parallel()
		b := setupInv(t)
		in := input(b, -1, nil, false)
		q := in["quantities"].([]any)[0].(map[string]any)
		in["quantities"] = []any{q, map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 1, "changeFromQuantity": nil},
			map[string]any{"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": b.loc, "quantity": 1, "changeFromQuantity": nil}}
		in["reason"] = "because"
		data := b.mustGQL(t, setQuantities, map[string]any{"input": in, "key": "k1"})
		var codes []string
		for _, u := range dig(data, "inventorySetQuantities", "userErrors").([]any) {
			codes = append(codes, str(u, "code"))
		}
		want := []string{"INVALID_REASON", "INVALID_QUANTITY_NEGATIVE", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", "INVALID_INVENTORY_ITEM"}
		if !slices.Equal(codes, want) || available(t, b) != 5 {
			t.Fatalf("codes = %v, want %v", codes, want)
		}
	})
}
