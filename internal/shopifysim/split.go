package shopifysim

// fulfillmentOrderSplit, as Shopify does it: each input moves the listed
// line items and quantities of a fulfillment order into a new fulfillment
// order at the same location (the result's remainingFulfillmentOrder); the
// original keeps the rest (fulfillmentOrder). Committed stock stays at the
// location. The simulator splits only fulfillment orders that are OPEN and
// not submitted (UNSUBMITTED or REJECTED); in any other state it answers a
// userError where Shopify would create a replacement fulfillment order.

import "strings"

func init() {
	register("Mutation", map[string]resolverFunc{
		"fulfillmentOrderSplit": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.foSplit(a) },
	})
	register("FulfillmentOrderSplitResult", map[string]resolverFunc{
		"fulfillmentOrder":            splitField("fulfillmentOrder"),
		"remainingFulfillmentOrder":   splitField("remainingFulfillmentOrder"),
		"replacementFulfillmentOrder": splitField("replacementFulfillmentOrder"),
	})
}

func splitField(name string) resolverFunc {
	return func(_ *execCtx, p any, _ map[string]any) (any, error) {
		v := p.(payload)[name]
		if fo, ok := v.(*fulfillmentOrder); ok && fo == nil {
			return nil, nil
		}
		return v, nil
	}
}

func (x *execCtx) foSplit(a map[string]any) (any, error) {
	fail := func(u ...*userError) (any, error) {
		return payload{"fulfillmentOrderSplits": nil, "userErrors": userErrs(u)}, nil
	}
	type plan struct {
		fo   *fulfillmentOrder
		take map[*foLine]int
	}
	var plans []plan
	seen := map[*fulfillmentOrder]bool{}
	for i, raw := range argList(a, "fulfillmentOrderSplits") {
		in, _ := raw.(map[string]any)
		f := path("fulfillmentOrderSplits", i)
		fo := x.st.foByGID(in["fulfillmentOrderId"])
		if fo == nil {
			return fail(ue(append(f, "fulfillmentOrderId"), "FULFILLMENT_ORDER_NOT_FOUND", "Fulfillment order does not exist."))
		}
		if seen[fo] {
			return fail(ue(append(f, "fulfillmentOrderId"), "", "Fulfillment order %s is listed more than once.", gid("FulfillmentOrder", fo.id)))
		}
		seen[fo] = true
		if fo.status != "OPEN" || (fo.requestStatus != "UNSUBMITTED" && fo.requestStatus != "REJECTED") {
			return fail(ue(append(f, "fulfillmentOrderId"), "", "Cannot split a fulfillment order with status %s and request status %s.", fo.status, fo.requestStatus))
		}
		lines := argList(in, "fulfillmentOrderLineItems")
		if len(lines) == 0 {
			return fail(ue(append(f, "fulfillmentOrderLineItems"), "NO_LINE_ITEMS_PROVIDED_TO_SPLIT", "The fulfillment order must have at least one line item input to split."))
		}
		take, ues := x.foLineQuantities(fo, lines, append(f, "fulfillmentOrderLineItems"),
			map[string]string{"zero": "GREATER_THAN", "tooMany": "INVALID_LINE_ITEM_QUANTITY"})
		if len(ues) > 0 {
			return fail(ues...)
		}
		if _, left := rest(fo, take); !left {
			return fail(ue(append(f, "fulfillmentOrderLineItems"), "INVALID_LINE_ITEM_QUANTITY", "Cannot split every remaining line item out of fulfillment order %s.", gid("FulfillmentOrder", fo.id)))
		}
		plans = append(plans, plan{fo, take})
	}
	var results []any
	for _, p := range plans {
		n := x.splitFO(p.fo, p.take)
		x.touch(p.fo.order, p.fo, n)
		original := p.fo
		x.emit("fulfillment_orders/split", func() any {
			var split []any
			for _, l := range n.lines {
				split = append(split, map[string]any{"id": gid("FulfillmentOrderLineItem", l.id), "quantity": l.total})
			}
			stub := func(fo *fulfillmentOrder) map[string]any {
				return map[string]any{"id": gid("FulfillmentOrder", fo.id), "status": strings.ToLower(fo.status), "assigned_location_id": gid("Location", fo.loc.id)}
			}
			return map[string]any{"split_line_items": split, "fulfillment_order": stub(original), "remaining_fulfillment_order": stub(n), "replacement_fulfillment_order": nil}
		})
		results = append(results, payload{"fulfillmentOrder": original, "remainingFulfillmentOrder": n, "replacementFulfillmentOrder": (*fulfillmentOrder)(nil)})
	}
	return payload{"fulfillmentOrderSplits": results, "userErrors": []any{}}, nil
}
