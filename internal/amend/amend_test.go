package amend

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/order"
)

var addr = order.Address{Name: "Camille Martin", Address1: "12 rue de Rivoli", City: "Paris", PostalCode: "75004", CountryCode: "FR", Email: "c@example.com"}

// sent returns a warehouse order as dispatch builds it from fo, and the
// order fo belongs to.
func sent(fo shopify.FulfillmentOrder) (*order.WarehouseOrder, *shopify.Order) {
	o := &shopify.Order{ID: "gid://shopify/Order/1", Email: addr.Email, ShippingAddress: addr, FulfillmentOrders: []shopify.FulfillmentOrder{fo}}
	wo := &order.WarehouseOrder{ExternalRef: "CD-1", FulfillmentOrderID: fo.ID, ShipTo: addr}
	for i, l := range fo.Lines {
		wo.Lines = append(wo.Lines, order.Line{LineNo: i + 1, SKU: l.SKU, Quantity: l.RemainingQuantity, FulfillmentOrderLineItemID: l.ID})
	}
	return wo, o
}

func TestRebuildFollowsTheFulfillmentOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "lines")
		fo := shopify.FulfillmentOrder{ID: "gid://shopify/FulfillmentOrder/9"}
		for i := range n {
			q := rapid.IntRange(1, 9).Draw(t, fmt.Sprintf("q%d", i))
			fo.Lines = append(fo.Lines, shopify.FulfillmentOrderLine{ID: fmt.Sprintf("gid://shopify/FulfillmentOrderLineItem/%d", i+1), SKU: fmt.Sprintf("SKU-%d", i), TotalQuantity: q, RemainingQuantity: q})
		}
		wo, o := sent(fo)
		if got := Rebuild(wo, o, &o.FulfillmentOrders[0]); !same(wo, got) {
			t.Fatalf("an unedited order rebuilds differently:\n%s", cmp.Diff(wo, got))
		}
		// An edit: new remaining quantities (0 = removed), maybe a new address.
		edited := o.FulfillmentOrders[0]
		edited.Lines = append([]shopify.FulfillmentOrderLine(nil), fo.Lines...)
		want := map[int]int{} // line no → quantity
		for i := range edited.Lines {
			q := rapid.IntRange(0, 9).Draw(t, fmt.Sprintf("new%d", i))
			edited.Lines[i].RemainingQuantity = q
			if q > 0 {
				want[i+1] = q
			}
		}
		o.FulfillmentOrders[0] = edited
		if rapid.Bool().Draw(t, "move") {
			o.ShippingAddress.Address1 = "3 place Bellecour"
		}
		got := Rebuild(wo, o, &o.FulfillmentOrders[0])
		gotQ := map[int]int{}
		for _, l := range got.Lines {
			gotQ[l.LineNo] = l.Quantity
			if l.FulfillmentOrderLineItemID != wo.Lines[l.LineNo-1].FulfillmentOrderLineItemID || l.SKU != wo.Lines[l.LineNo-1].SKU {
				t.Fatalf("line %d renumbered: %+v, was %+v", l.LineNo, l, wo.Lines[l.LineNo-1])
			}
		}
		if diff := cmp.Diff(want, gotQ); diff != "" {
			t.Fatalf("quantities by line (-want +got):\n%s", diff)
		}
		if got.ShipTo.Address1 != o.ShippingAddress.Address1 || got.ShipTo.Email != addr.Email {
			t.Fatalf("ship-to %+v, want the order's address %+v", got.ShipTo, o.ShippingAddress)
		}
		if wo.Lines[0].Quantity != fo.Lines[0].RemainingQuantity {
			t.Fatal("Rebuild changed the stored order")
		}
		changed := got.ShipTo != wo.ShipTo || !cmp.Equal(got.Lines, wo.Lines)
		if same(wo, got) == changed {
			t.Fatalf("same = %v for a change %v", same(wo, got), changed)
		}
		if changed && Fingerprint(got) == Fingerprint(wo) {
			t.Fatal("two contents share a fingerprint")
		}
	})
}

func TestRebuildNumbersANewLineAfterTheOthers(t *testing.T) {
	t.Parallel()
	fo := shopify.FulfillmentOrder{ID: "gid://shopify/FulfillmentOrder/9", Lines: []shopify.FulfillmentOrderLine{
		{ID: "L1", SKU: "A", RemainingQuantity: 2}, {ID: "L2", SKU: "B", RemainingQuantity: 1}}}
	wo, o := sent(fo)
	o.FulfillmentOrders[0].Lines = append(o.FulfillmentOrders[0].Lines, shopify.FulfillmentOrderLine{ID: "L3", SKU: " C ", RemainingQuantity: 4})
	o.FulfillmentOrders[0].Lines[0].RemainingQuantity = 0
	got := Rebuild(wo, o, &o.FulfillmentOrders[0])
	want := []order.Line{{LineNo: 2, SKU: "B", Quantity: 1, FulfillmentOrderLineItemID: "L2"}, {LineNo: 3, SKU: "C", Quantity: 4, FulfillmentOrderLineItemID: "L3"}}
	if diff := cmp.Diff(want, got.Lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
