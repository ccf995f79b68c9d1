package shopifysim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// OrderEdit is a change a merchant makes to an order after it was placed,
// applied by EditOrder as Shopify applies a committed order edit
// (orderEditBegin … orderEditCommit) or an address change (orderUpdate).
// This is a test-level stand-in for those mutations, which the simulator
// does not serve.
type OrderEdit struct {
	// Quantities sets the quantity of existing line items, by line item
	// GID. A lower quantity takes the units off the order's open
	// fulfillment orders (never below what is fulfilled); a higher one puts
	// the extra units on a new fulfillment order, as Shopify does for an
	// order whose fulfillment is under way.
	Quantities map[string]int
	// Add adds line items for variants (by SKU); each goes on a new
	// fulfillment order at the location of the order's first one.
	Add []EditLine
	// ShippingAddress, when set, replaces the shipping address.
	ShippingAddress *AddressState
}

// EditLine is a line item added by an edit.
type EditLine struct {
	SKU      string
	Quantity int
}

// EditOrder applies e to the order orderGID and sends the webhooks Shopify
// sends: orders/edited (the order_edit payload, with line item additions
// and removals as deltas) when lines changed, fulfillment_orders/
// order_routing_complete for each new fulfillment order, inventory_levels/
// update for committed units moved, and orders/updated. Units are committed
// or released at the fulfillment order's location for orders created with
// an inventory behaviour other than BYPASS. Nothing changes when e is
// invalid (an unknown line or SKU, a quantity below 0 or below what is
// fulfilled, a cancelled order).
func (s *Server) EditOrder(orderGID string, e OrderEdit) (OrderState, error) {
	s.mu.Lock()
	x := &execCtx{s: s, st: s.st, now: s.now().UTC()}
	os, err := x.editOrder(orderGID, e)
	s.mu.Unlock()
	if err != nil {
		return OrderState{}, err
	}
	s.emit(x.events)
	return os, nil
}

type editDelta struct {
	ID    int64 `json:"id"`
	Delta int   `json:"delta"`
}

func (x *execCtx) editOrder(orderGID string, e OrderEdit) (OrderState, error) {
	st := x.st
	o := st.orderByGID(orderGID)
	if o == nil {
		return OrderState{}, fmt.Errorf("shopifysim: edit: no order %s", orderGID)
	}
	if o.cancelledAt != nil {
		return OrderState{}, fmt.Errorf("shopifysim: edit: order %s is cancelled", o.name)
	}
	if len(o.fos) == 0 {
		return OrderState{}, fmt.Errorf("shopifysim: edit: order %s has no fulfillment order", o.name)
	}
	// Validate everything before changing anything.
	type change struct {
		li    *lineItem
		delta int
	}
	var changes []change
	ids := make([]string, 0, len(e.Quantities))
	for id := range e.Quantities {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		q := e.Quantities[id]
		n, ok := idOf(id, "LineItem")
		li := st.lineItems[n]
		if !ok || li == nil || li.order != o {
			return OrderState{}, fmt.Errorf("shopifysim: edit: %s is not a line item of %s", id, o.name)
		}
		if q < li.fulfilled || q < 0 {
			return OrderState{}, fmt.Errorf("shopifysim: edit: %s cannot go to %d: %d fulfilled", id, q, li.fulfilled)
		}
		if q < li.quantity {
			open := 0
			for _, fo := range o.fos {
				if fo.status == "CLOSED" || fo.status == "CANCELLED" {
					continue
				}
				for _, l := range fo.lines {
					if l.li == li {
						open += l.remaining
					}
				}
			}
			if li.quantity-q > open {
				return OrderState{}, fmt.Errorf("shopifysim: edit: %s cannot lose %d units: %d are open", id, li.quantity-q, open)
			}
		}
		if q != li.quantity {
			changes = append(changes, change{li, q - li.quantity})
		}
	}
	var adds []*variant
	for i, a := range e.Add {
		v := st.variantBySKU[a.SKU]
		if v == nil || a.Quantity <= 0 {
			return OrderState{}, fmt.Errorf("shopifysim: edit: added line %d: unknown SKU %q or quantity %d", i, a.SKU, a.Quantity)
		}
		adds = append(adds, v)
	}

	var additions, removals []editDelta
	var levels []*invLevel
	commit := func(loc *location, li *lineItem, n int) { // n > 0 commits, n < 0 releases
		if !o.claimed || li.variant == nil || !li.variant.item.tracked {
			return
		}
		if lv := loc.levelByItem[li.variant.item.id]; lv != nil {
			lv.q.available -= n
			lv.q.committed += n
			lv.updatedAt = x.now
			levels = append(levels, lv)
		}
	}
	newFO := func(loc *location) *fulfillmentOrder {
		fo := &fulfillmentOrder{id: st.newID(), order: o, loc: loc, status: "OPEN", requestStatus: "UNSUBMITTED", createdAt: x.now, updatedAt: x.now}
		o.fos = append(o.fos, fo)
		st.fos[fo.id] = fo
		return fo
	}
	addLine := func(fo *fulfillmentOrder, li *lineItem, n int) {
		l := &foLine{id: st.newID(), fo: fo, li: li, total: n, remaining: n}
		fo.lines = append(fo.lines, l)
		st.foLines[l.id] = l
		commit(fo.loc, li, n)
	}
	var created []*fulfillmentOrder
	for _, c := range changes {
		li := c.li
		li.quantity += c.delta
		if c.delta > 0 {
			loc := o.fos[0].loc
			for _, fo := range o.fos {
				for _, l := range fo.lines {
					if l.li == li {
						loc = fo.loc
					}
				}
			}
			fo := newFO(loc)
			addLine(fo, li, c.delta)
			created = append(created, fo)
			additions = append(additions, editDelta{li.id, c.delta})
			continue
		}
		take := -c.delta
		removals = append(removals, editDelta{li.id, take})
		for i := len(o.fos) - 1; i >= 0 && take > 0; i-- {
			fo := o.fos[i]
			if fo.status == "CLOSED" || fo.status == "CANCELLED" {
				continue
			}
			for _, l := range fo.lines {
				if l.li != li || l.remaining == 0 {
					continue
				}
				n := min(l.remaining, take)
				l.remaining -= n
				l.total -= n
				take -= n
				commit(fo.loc, li, -n)
			}
			fo.updatedAt = x.now
			if fo.remaining() == 0 {
				fo.status = "CLOSED"
			}
		}
	}
	for i, v := range adds {
		li := &lineItem{id: st.newID(), order: o, variant: v, sku: v.sku, title: v.product.title, variantTitle: v.title,
			price: v.price, quantity: e.Add[i].Quantity, requiresShipping: true}
		if li.price == "" {
			li.price = "0.00"
		}
		o.lines = append(o.lines, li)
		st.lineItems[li.id] = li
		fo := newFO(o.fos[0].loc)
		addLine(fo, li, li.quantity)
		created = append(created, fo)
		additions = append(additions, editDelta{li.id, li.quantity})
	}
	if a := e.ShippingAddress; a != nil {
		o.shipping = &address{firstName: a.FirstName, lastName: a.LastName, company: a.Company, address1: a.Address1,
			address2: a.Address2, city: a.City, province: a.ProvinceCode, provinceCode: a.ProvinceCode, zip: a.Zip,
			countryCode: a.CountryCode, country: countryNames[a.CountryCode], phone: a.Phone}
		if o.shipping.country == "" {
			o.shipping.country = a.CountryCode
		}
	}
	if len(additions)+len(removals) == 0 && e.ShippingAddress == nil {
		return OrderState{}, errors.New("shopifysim: edit: nothing to change")
	}
	if len(additions)+len(removals) > 0 {
		editID := st.newID()
		x.emit("orders/edited", func() any {
			empty := map[string]any{"additions": []any{}, "removals": []any{}}
			return map[string]any{"order_edit": map[string]any{
				"id": editID, "app_id": nil, "created_at": restTime(x.now), "committed_at": restTime(x.now),
				"notify_customer": false, "order_id": o.id, "staff_note": "", "user_id": nil,
				"line_items":     map[string]any{"additions": orEmpty(additions), "removals": orEmpty(removals)},
				"discounts":      map[string]any{"line_item": empty},
				"shipping_lines": empty,
			}}
		})
	}
	for _, fo := range created {
		x.emit("fulfillment_orders/order_routing_complete", func() any {
			return map[string]any{"fulfillment_order": map[string]any{"id": gid("FulfillmentOrder", fo.id), "status": strings.ToLower(fo.status)}}
		})
	}
	for _, lv := range levels {
		x.emitLevel(lv)
	}
	x.touch(o, created...)
	return orderState(o), nil
}

func orEmpty(d []editDelta) []editDelta {
	if d == nil {
		return []editDelta{}
	}
	return d
}
