package shopifysim

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keysOf lists the keys of a JSON object, nested objects as "a.b".
func keysOf(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		out = append(out, prefix+k)
		if sub, ok := v.(map[string]any); ok {
			out = append(out, keysOf(sub, prefix+k+".")...)
		}
	}
	slices.Sort(out)
	return out
}

func TestEditOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, ok200)
	for _, topic := range []string{"ORDERS_EDITED", "ORDERS_UPDATED"} {
		b.subscribe(t, topic, rcv.url)
	}
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 10)
	b.setStock(t, "SKU-B", loc, 10)
	o := b.order(t, map[string]int{"SKU-A": 3})
	before, _ := b.srv.Order(o["id"].(string))
	lineA := before.LineItems[0].ID

	after, err := b.srv.EditOrder(before.ID, OrderEdit{
		Quantities:      map[string]int{lineA: 2},
		Add:             []EditLine{{SKU: "SKU-B", Quantity: 1}},
		ShippingAddress: &AddressState{FirstName: "Ada", LastName: "Byron", Address1: "2 Side St", City: "Springfield", ProvinceCode: "IL", Zip: "62702", CountryCode: "US"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.waitHooks(t)

	type foView struct {
		Status string
		Lines  map[string]int // SKU → remaining
	}
	var fos []foView
	for _, fo := range after.FulfillmentOrders {
		v := foView{Status: fo.Status, Lines: map[string]int{}}
		for _, l := range fo.LineItems {
			v.Lines[l.SKU] = l.RemainingQuantity
		}
		fos = append(fos, v)
	}
	want := []foView{{"OPEN", map[string]int{"SKU-A": 2}}, {"OPEN", map[string]int{"SKU-B": 1}}}
	if diff := cmp.Diff(want, fos); diff != "" {
		t.Errorf("fulfillment orders (-want +got):\n%s", diff)
	}
	if after.ShippingAddress == nil || after.ShippingAddress.Address1 != "2 Side St" {
		t.Errorf("shipping address %+v", after.ShippingAddress)
	}
	if lv, _ := b.srv.InventoryLevel("SKU-A", loc); lv.Committed != 2 || lv.Available != 8 {
		t.Errorf("SKU-A committed %d available %d, want 2 and 8", lv.Committed, lv.Available)
	}

	edited := rcv.topic("orders/edited")
	if len(edited) != 1 || len(rcv.topic("orders/updated")) == 0 {
		t.Fatalf("%d orders/edited, %d orders/updated", len(edited), len(rcv.topic("orders/updated")))
	}
	var got, ref map[string]any
	raw, err := os.ReadFile("testdata/orders_edited.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytesReader(edited[0].body))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keysOf(ref, ""), keysOf(got, "")); diff != "" {
		t.Errorf("orders/edited keys differ from Shopify's example (-want +got):\n%s", diff)
	}
	var body struct {
		OrderEdit struct {
			OrderID   int64 `json:"order_id"`
			LineItems struct {
				Additions []editDelta `json:"additions"`
				Removals  []editDelta `json:"removals"`
			} `json:"line_items"`
		} `json:"order_edit"`
	}
	if err := json.Unmarshal(edited[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if gid("Order", body.OrderEdit.OrderID) != before.ID {
		t.Errorf("order_id %d, want %s", body.OrderEdit.OrderID, before.ID)
	}
	var lineB string
	for _, li := range after.LineItems {
		if li.SKU == "SKU-B" {
			lineB = li.ID
		}
	}
	wantRem := []string{lineA + " -1"}
	wantAdd := []string{lineB + " +1"}
	var gotRem, gotAdd []string
	for _, d := range body.OrderEdit.LineItems.Removals {
		gotRem = append(gotRem, gid("LineItem", d.ID)+" -"+itoa(d.Delta))
	}
	for _, d := range body.OrderEdit.LineItems.Additions {
		gotAdd = append(gotAdd, gid("LineItem", d.ID)+" +"+itoa(d.Delta))
	}
	if diff := cmp.Diff([2][]string{wantRem, wantAdd}, [2][]string{gotRem, gotAdd}); diff != "" {
		t.Errorf("removals, additions (-want +got):\n%s", diff)
	}
}

func TestEditOrderRejectsWhatShopifyRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 10)
	o := b.order(t, map[string]int{"SKU-A": 3})
	st, _ := b.srv.Order(o["id"].(string))
	for name, e := range map[string]OrderEdit{
		"unknown line": {Quantities: map[string]int{"gid://shopify/LineItem/1": 1}},
		"negative":     {Quantities: map[string]int{st.LineItems[0].ID: -1}},
		"unknown SKU":  {Add: []EditLine{{SKU: "NOPE", Quantity: 1}}},
		"nothing":      {},
	} {
		if _, err := b.srv.EditOrder(st.ID, e); err == nil {
			t.Errorf("%s: edit accepted", name)
		}
	}
	if now, _ := b.srv.Order(st.ID); !cmp.Equal(st, now) {
		t.Errorf("a rejected edit changed the order:\n%s", cmp.Diff(st, now))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
