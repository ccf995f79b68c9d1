package shopifysim

import (
	"testing"

	"pgregory.net/rapid"
)

// TestFulfillmentInvariants drives random sequences of orders, requests,
// acceptances, moves, fulfilments and stock pushes and checks after every
// step that committed stock equals the unfulfilled quantity of claimed
// fulfillment orders, that fulfillment order lines partition the order
// lines, and that on_hand stays derived.
func TestFulfillmentInvariants(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		b := setup(rt, func(c *Config) { c.BucketSize = 1e9 }) // the fake clock never restores
		locs := []string{b.addFS(rt, "A"), b.addFS(rt, "B")}
		b.setStock(rt, "SKU-A", locs[0], 4)
		pick := func(rt *rapid.T, ok func(FulfillmentOrderState) bool) (FulfillmentOrderState, bool) {
			var fos []FulfillmentOrderState
			for _, o := range b.srv.Orders() {
				for _, fo := range o.FulfillmentOrders {
					if ok(fo) {
						fos = append(fos, fo)
					}
				}
			}
			if len(fos) == 0 {
				return FulfillmentOrderState{}, false
			}
			return fos[rapid.IntRange(0, len(fos)-1).Draw(rt, "fo")], true
		}
		rt.Repeat(map[string]func(*rapid.T){
			"order": func(rt *rapid.T) {
				behaviour := rapid.SampledFrom([]string{"BYPASS", "DECREMENT_IGNORING_POLICY"}).Draw(rt, "behaviour")
				lines := []any{map[string]any{"variantId": b.variant("SKU-A").ID, "quantity": rapid.IntRange(1, 3).Draw(rt, "qtyA")}}
				if rapid.Bool().Draw(rt, "withB") {
					lines = append(lines, map[string]any{"variantId": b.variant("SKU-B").ID, "quantity": rapid.IntRange(1, 2).Draw(rt, "qtyB")})
				}
				noUserErrors(rt, b.mustGQL(rt, createOrder, map[string]any{"order": map[string]any{"lineItems": lines}, "options": map[string]any{"inventoryBehaviour": behaviour}}), "orderCreate")
			},
			"submit": func(rt *rapid.T) {
				fo, ok := pick(rt, func(fo FulfillmentOrderState) bool { return fo.Status == "OPEN" && fo.RequestStatus == "UNSUBMITTED" })
				if !ok {
					rt.Skip("no unsubmitted fulfillment order")
				}
				var lines []any
				if rapid.Bool().Draw(rt, "partial") && fo.LineItems[0].RemainingQuantity > 1 {
					lines = []any{map[string]any{"id": fo.LineItems[0].ID, "quantity": 1}}
				}
				noUserErrors(rt, b.mustGQL(rt, `mutation($id: ID!, $lines: [FulfillmentOrderLineItemInput!]) {
				  fulfillmentOrderSubmitFulfillmentRequest(id: $id, fulfillmentOrderLineItems: $lines) { userErrors { message } } }`,
					map[string]any{"id": fo.ID, "lines": lines}), "fulfillmentOrderSubmitFulfillmentRequest")
			},
			"accept": func(rt *rapid.T) {
				fo, ok := pick(rt, func(fo FulfillmentOrderState) bool { return fo.RequestStatus == "SUBMITTED" })
				if !ok {
					rt.Skip("no submitted fulfillment order")
				}
				noUserErrors(rt, b.mustGQL(rt, acceptFO, map[string]any{"id": fo.ID}), "fulfillmentOrderAcceptFulfillmentRequest")
			},
			"move": func(rt *rapid.T) {
				fo, ok := pick(rt, func(fo FulfillmentOrderState) bool { return fo.Status == "OPEN" && fo.RequestStatus == "UNSUBMITTED" })
				if !ok {
					rt.Skip("no movable fulfillment order")
				}
				to := locs[0]
				if fo.LocationID == to {
					to = locs[1]
				}
				noUserErrors(rt, b.mustGQL(rt, `mutation($id: ID!, $to: ID!) { fulfillmentOrderMove(id: $id, newLocationId: $to) { userErrors { message } } }`,
					map[string]any{"id": fo.ID, "to": to}), "fulfillmentOrderMove")
			},
			"fulfil": func(rt *rapid.T) {
				fo, ok := pick(rt, func(fo FulfillmentOrderState) bool { return fo.Status == "IN_PROGRESS" })
				if !ok {
					rt.Skip("no accepted fulfillment order")
				}
				line := fo.LineItems[rapid.IntRange(0, len(fo.LineItems)-1).Draw(rt, "line")]
				qty := rapid.IntRange(1, 4).Draw(rt, "qty")
				data := b.mustGQL(rt, createFulfillment, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{
					"fulfillmentOrderId": fo.ID, "fulfillmentOrderLineItems": []any{map[string]any{"id": line.ID, "quantity": qty}}}}}})
				refused := str(data, "fulfillmentCreate", "userErrors", 0, "message") != ""
				if refused != (qty > line.RemainingQuantity) {
					rt.Fatalf("fulfil %d of %d remaining: refused=%v: %v", qty, line.RemainingQuantity, refused, data)
				}
			},
			"stock": func(rt *rapid.T) {
				loc := rapid.SampledFrom(locs).Draw(rt, "loc")
				noUserErrors(rt, b.mustGQL(rt, setQuantities, map[string]any{"key": rapid.StringMatching(`[a-z]{12}`).Draw(rt, "key"), "input": map[string]any{
					"name": "available", "reason": "correction",
					"quantities": []any{map[string]any{"inventoryItemId": b.variant("SKU-A").InventoryItemID, "locationId": loc,
						"quantity": rapid.IntRange(0, 6).Draw(rt, "available"), "changeFromQuantity": nil}},
				}}), "inventorySetQuantities")
			},
			"": func(rt *rapid.T) { checkInvariants(rt, b.srv) },
		})
	})
}

func checkInvariants(t tb, s *Server) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	want := map[*invLevel]int{}
	for _, o := range s.st.orders {
		assigned, remaining := map[*lineItem]int{}, map[*lineItem]int{}
		for _, fo := range o.fos {
			for _, l := range fo.lines {
				if l.remaining < 0 || l.remaining > l.total {
					t.Fatalf("%s: line remaining %d of %d", o.name, l.remaining, l.total)
				}
				assigned[l.li] += l.total
				remaining[l.li] += l.remaining
				if o.claimed && fo.status != "CANCELLED" && l.li.variant != nil {
					want[fo.loc.levelByItem[l.li.variant.item.id]] += l.remaining
				}
			}
			if (fo.remaining() == 0) != (fo.status == "CLOSED") {
				t.Fatalf("%s: fulfillment order status %s with %d remaining", o.name, fo.status, fo.remaining())
			}
		}
		for _, li := range o.lines {
			if assigned[li] != li.quantity || li.fulfilled != li.quantity-remaining[li] {
				t.Fatalf("%s %s: quantity %d, assigned %d, remaining %d, fulfilled %d", o.name, li.sku, li.quantity, assigned[li], remaining[li], li.fulfilled)
			}
		}
	}
	for _, l := range s.st.locations {
		for _, lv := range l.levels {
			if lv.q.committed != want[lv] {
				t.Fatalf("%s at %s: committed %d, want %d", lv.item.sku, l.name, lv.q.committed, want[lv])
			}
			if lv.q.onHand() != lv.q.available+lv.q.committed+lv.q.reserved+lv.q.damaged+lv.q.safetyStock+lv.q.qualityControl {
				t.Fatalf("on_hand not derived")
			}
		}
	}
}
