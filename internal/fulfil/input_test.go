package fulfil_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/fulfil"
	"github.com/crossdock/crossdock/internal/order"
)

// setup returns a warehouse order of three lines (2 × A, 1 × B, 3 × C),
// each from its own fulfillment order line item.
func setup(t *testing.T) *order.WarehouseOrder {
	t.Helper()
	return &order.WarehouseOrder{
		ExternalRef:        "CD-1",
		Shop:               "a.myshopify.com",
		Warehouse:          "paris",
		OrderID:            "gid://shopify/Order/1",
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/10",
		Lines: []order.Line{
			{LineNo: 1, SKU: "A", Quantity: 2, FulfillmentOrderLineItemID: "gid://shopify/FulfillmentOrderLineItem/101"},
			{LineNo: 2, SKU: "B", Quantity: 1, FulfillmentOrderLineItemID: "gid://shopify/FulfillmentOrderLineItem/102"},
			{LineNo: 3, SKU: "C", Quantity: 3, FulfillmentOrderLineItemID: "gid://shopify/FulfillmentOrderLineItem/103"},
		},
	}
}

func pkg(id, carrier, number, url string) order.Package {
	return order.Package{ID: id, Carrier: carrier, TrackingNumber: number, TrackingURL: url}
}

func TestInputMapsLinesAndTracking(t *testing.T) {
	t.Parallel()
	wo := setup(t)
	s := &order.Shipment{
		ID: "S1", ExternalRef: "CD-1",
		// Line 3 is reported in two parts (two packages), line 2 not at all.
		Lines: []order.ShipmentLine{{LineNo: 3, SKU: "C", Quantity: 1}, {LineNo: 1, SKU: "A", Quantity: 2}, {LineNo: 3, SKU: "C", Quantity: 2}},
		Packages: []order.Package{
			pkg("P1", "UPS", "1Z001", "https://ups.example/1Z001"),
			pkg("P2", "UPS", "1Z002", "https://ups.example/1Z002"),
			pkg("P3", "UPS", "1Z003", "https://ups.example/1Z003"),
		},
	}
	in, err := fulfil.Input(wo, s)
	if err != nil {
		t.Fatal(err)
	}
	want := shopify.FulfillmentInput{
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/10",
		Lines: []shopify.FulfillmentLine{
			{ID: "gid://shopify/FulfillmentOrderLineItem/103", Quantity: 3},
			{ID: "gid://shopify/FulfillmentOrderLineItem/101", Quantity: 2},
		},
		Company: "UPS",
		Numbers: []string{"1Z001", "1Z002", "1Z003"},
		URLs:    []string{"https://ups.example/1Z001", "https://ups.example/1Z002", "https://ups.example/1Z003"},
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("Input (-want +got):\n%s", d)
	}
}

func TestInputDropsPartialURLs(t *testing.T) {
	t.Parallel()
	wo := setup(t)
	s := &order.Shipment{
		ID: "S1", ExternalRef: "CD-1",
		Lines: []order.ShipmentLine{{LineNo: 2, SKU: "B", Quantity: 1}},
		Packages: []order.Package{
			pkg("P1", "DHL", "JD01", "https://dhl.example/JD01"),
			pkg("P2", "DHL", "JD02", ""), // no URL: positions would no longer pair
			pkg("P3", "DHL", "", ""),     // no tracking at all: not reported
		},
	}
	in, err := fulfil.Input(wo, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Numbers, []string{"JD01", "JD02"}) {
		t.Errorf("Numbers = %q, want [JD01 JD02]", in.Numbers)
	}
	if in.URLs != nil {
		t.Errorf("URLs = %q, want none (one package has no URL)", in.URLs)
	}
	if in.Company != "DHL" {
		t.Errorf("Company = %q, want DHL", in.Company)
	}
}

func TestInputRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		lines []order.ShipmentLine
		want  string // in the error
	}{
		{"more than ordered", []order.ShipmentLine{{LineNo: 2, Quantity: 2}}, "ordered"},
		{"more than ordered in parts", []order.ShipmentLine{{LineNo: 1, Quantity: 1}, {LineNo: 1, Quantity: 2}}, "ordered"},
		{"unknown line", []order.ShipmentLine{{LineNo: 1, Quantity: 1}, {LineNo: 9, Quantity: 1}}, "line 9"},
		{"no lines", nil, "ships nothing"},
		{"only zero quantities", []order.ShipmentLine{{LineNo: 1, Quantity: 0}}, "ships nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &order.Shipment{ID: "S1", ExternalRef: "CD-1", Lines: tc.lines, Packages: []order.Package{pkg("P1", "UPS", "1Z1", "")}}
			in, err := fulfil.Input(setup(t), s)
			if err == nil {
				t.Fatalf("Input accepted the shipment: %+v", in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// For any order and any shipment within the ordered quantities, the
// fulfillment quantity of each line item is the sum shipped for it, never
// above what was ordered, listed once in order of first appearance; a
// shipment of nothing is refused.
func TestInputProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		wo := &order.WarehouseOrder{ExternalRef: "CD-9", FulfillmentOrderID: "gid://shopify/FulfillmentOrder/9"}
		n := rapid.IntRange(1, 6).Draw(t, "lines")
		for i := 1; i <= n; i++ {
			wo.Lines = append(wo.Lines, order.Line{LineNo: i, SKU: fmt.Sprintf("S%d", i),
				Quantity: rapid.IntRange(1, 9).Draw(t, "ordered"), FulfillmentOrderLineItemID: fmt.Sprintf("foli-%d", i)})
		}
		// Ship up to the ordered quantity of each line, in parts, shuffled.
		var sl []order.ShipmentLine
		shipped := map[string]int{}
		for _, l := range wo.Lines {
			left := rapid.IntRange(0, l.Quantity).Draw(t, "shipped")
			for left > 0 {
				part := rapid.IntRange(1, left).Draw(t, "part")
				sl = append(sl, order.ShipmentLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: part})
				shipped[l.FulfillmentOrderLineItemID] += part
				left -= part
			}
		}
		sl = rapid.Permutation(sl).Draw(t, "order")
		var firstSeen []string
		for _, x := range sl {
			id := fmt.Sprintf("foli-%d", x.LineNo)
			if !slices.Contains(firstSeen, id) {
				firstSeen = append(firstSeen, id)
			}
		}
		in, err := fulfil.Input(wo, &order.Shipment{ID: "S", ExternalRef: "CD-9", Lines: sl})
		if len(sl) == 0 {
			if err == nil {
				t.Fatalf("empty shipment accepted: %+v", in)
			}
			return
		}
		if err != nil {
			t.Fatalf("Input: %v", err)
		}
		var ids []string
		for _, fl := range in.Lines {
			ids = append(ids, fl.ID)
			if fl.Quantity != shipped[fl.ID] {
				t.Fatalf("%s: quantity %d, shipped %d", fl.ID, fl.Quantity, shipped[fl.ID])
			}
			var ordered int
			for _, l := range wo.Lines {
				if l.FulfillmentOrderLineItemID == fl.ID {
					ordered = l.Quantity
				}
			}
			if fl.Quantity <= 0 || fl.Quantity > ordered {
				t.Fatalf("%s: quantity %d outside 1..%d", fl.ID, fl.Quantity, ordered)
			}
		}
		if !slices.Equal(ids, firstSeen) {
			t.Fatalf("line items %v, want %v", ids, firstSeen)
		}
		// One unit more than ordered on any line is refused.
		l := wo.Lines[rapid.IntRange(0, n-1).Draw(t, "over")]
		over := append(slices.Clone(sl), order.ShipmentLine{LineNo: l.LineNo, Quantity: l.Quantity - shipped[l.FulfillmentOrderLineItemID] + 1})
		if in, err := fulfil.Input(wo, &order.Shipment{ID: "S", ExternalRef: "CD-9", Lines: over}); err == nil {
			t.Fatalf("over-shipment of line %d accepted: %+v", l.LineNo, in)
		}
	})
}
