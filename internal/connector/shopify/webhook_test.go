package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// webhookFixtures maps each subscribed topic to its example payload.
var webhookFixtures = map[string]string{
	TopicOrdersCreate:                "testdata/webhooks/orders/create.json",
	TopicOrdersUpdated:               "testdata/webhooks/orders/updated.json",
	TopicOrdersCancelled:             "testdata/webhooks/orders/cancelled.json",
	TopicFulfillmentRequestSubmitted: "testdata/webhooks/fulfillment_orders/fulfillment_request_submitted.json",
	TopicInventoryLevelsUpdate:       "testdata/webhooks/inventory_levels/update.json",
}

// decodeNumbers decodes JSON keeping every number as json.Number.
func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// losslessCheck walks a decoded value beside the raw JSON (numbers as
// json.Number) and reports every modelled field whose value differs from
// the raw one. It counts the integers compared.
type losslessCheck struct {
	t        *testing.T
	file     string
	ints     int
	bigInts  int // integers ≥ 2^53, which float64 would corrupt
	timeType reflect.Type
}

func (c *losslessCheck) walk(path string, v reflect.Value, raw any) {
	if v.Type() == c.timeType {
		tm := v.Interface().(time.Time)
		if raw == nil {
			if !tm.IsZero() {
				c.t.Errorf("%s %s: raw null, decoded %v", c.file, path, tm)
			}
			return
		}
		want, err := time.Parse(time.RFC3339, raw.(string))
		if err != nil || !want.Equal(tm) {
			c.t.Errorf("%s %s: raw %v, decoded %v", c.file, path, raw, tm)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if raw == nil {
			if !v.IsNil() {
				c.t.Errorf("%s %s: raw null, decoded %v", c.file, path, v.Elem())
			}
			return
		}
		if v.IsNil() {
			c.t.Errorf("%s %s: raw %v, decoded nil", c.file, path, raw)
			return
		}
		c.walk(path, v.Elem(), raw)
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			c.t.Errorf("%s %s: raw %T, want an object", c.file, path, raw)
			return
		}
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			rv, present := obj[name]
			if !present {
				if !v.Field(i).IsZero() {
					c.t.Errorf("%s %s.%s: absent in raw, decoded %v", c.file, path, name, v.Field(i))
				}
				continue
			}
			c.walk(path+"."+name, v.Field(i), rv)
		}
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok || len(arr) != v.Len() {
			c.t.Errorf("%s %s: raw %v, decoded %d elements", c.file, path, raw, v.Len())
			return
		}
		for i := range arr {
			c.walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i), arr[i])
		}
	case reflect.Int, reflect.Int64:
		n, ok := raw.(json.Number)
		if !ok || n.String() != strconv.FormatInt(v.Int(), 10) {
			c.t.Errorf("%s %s: raw %v, decoded %d", c.file, path, raw, v.Int())
			return
		}
		c.ints++
		if v.Int() >= 1<<53 {
			c.bigInts++
		}
	case reflect.String:
		if raw == nil {
			if v.String() != "" {
				c.t.Errorf("%s %s: raw null, decoded %q", c.file, path, v.String())
			}
			return
		}
		if s, ok := raw.(string); !ok || s != v.String() {
			c.t.Errorf("%s %s: raw %v, decoded %q", c.file, path, raw, v.String())
		}
	case reflect.Bool:
		if b, ok := raw.(bool); !ok || b != v.Bool() {
			c.t.Errorf("%s %s: raw %v, decoded %v", c.file, path, raw, v.Bool())
		}
	default:
		c.t.Errorf("%s %s: unchecked kind %s", c.file, path, v.Kind())
	}
}

// subset reports every leaf of enc that differs from raw at the same path:
// re-encoding must give back the same numbers, strings and nulls.
func subset(t *testing.T, file, path string, enc, raw any) {
	t.Helper()
	switch e := enc.(type) {
	case map[string]any:
		r, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("%s %s: re-encoded an object, raw is %T", file, path, raw)
			return
		}
		for k, v := range e {
			rv, present := r[k]
			if !present {
				t.Errorf("%s %s.%s: re-encoded but absent from raw", file, path, k)
				continue
			}
			subset(t, file, path+"."+k, v, rv)
		}
	case []any:
		r, ok := raw.([]any)
		if !ok || len(r) != len(e) {
			t.Errorf("%s %s: re-encoded %d elements, raw %v", file, path, len(e), raw)
			return
		}
		for i := range e {
			subset(t, file, fmt.Sprintf("%s[%d]", path, i), e[i], r[i])
		}
	default:
		if enc != raw {
			t.Errorf("%s %s: re-encoded %#v, raw %#v", file, path, enc, raw)
		}
	}
}

func TestWebhookFixturesDecodeLosslessly(t *testing.T) {
	t.Parallel()
	for topic, file := range webhookFixtures {
		t.Run(topic, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v, err := DecodeWebhook(topic, body)
			if err != nil {
				t.Fatal(err)
			}
			raw := decodeNumbers(t, body)
			c := &losslessCheck{t: t, file: file, timeType: reflect.TypeFor[time.Time]()}
			c.walk("$", reflect.ValueOf(v), raw)

			enc, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			subset(t, file, "$", decodeNumbers(t, enc), raw)

			switch w := v.(type) {
			case *OrderWebhook:
				// Every line id, the order id and the shipping line id are
				// ≥ 2^53 in Shopify's examples.
				if c.bigInts < 1+len(w.LineItems)+len(w.ShippingLines) {
					t.Errorf("only %d integers ≥ 2^53 compared", c.bigInts)
				}
				if w.ID != 820982911946154500 || w.GID() != "gid://shopify/Order/820982911946154508" {
					t.Errorf("id %d, GID %s", w.ID, w.GID())
				}
				wantShip := order.Address{
					Name: "Steve Shipper", Company: "Shipping Company", Address1: "123 Shipping Street", City: "Shippington",
					ProvinceCode: "KY", PostalCode: "40003", CountryCode: "US", Phone: "555-555-SHIP",
				}
				if got := w.ShippingAddress.Address(); got != wantShip {
					t.Errorf("shipping address = %+v", got)
				}
				if len(w.LineItems) != 5 || w.LineItems[0].SKU != "SKU2006-001" || w.LineItems[0].Quantity != 1 || w.LineItems[0].VariantID != nil {
					t.Errorf("line items = %+v", w.LineItems)
				}
			case *FulfillmentOrderWebhook:
				if w.FulfillmentOrderID() != "gid://shopify/FulfillmentOrder/1" || w.MerchantRequest.Message != "Fragile" || w.SubmittedFulfillmentOrder.RequestStatus != "unsubmitted" {
					t.Errorf("payload = %+v", w)
				}
			case *InventoryLevelWebhook:
				if c.bigInts != 1 || w.InventoryItemID != 271878346596884000 || w.LocationGID() != "gid://shopify/Location/24826418" || *w.Available != 10 {
					t.Errorf("payload = %+v (%d big ints)", w, c.bigInts)
				}
			default:
				t.Fatalf("decoded %T", v)
			}
			if c.ints == 0 && topic != TopicFulfillmentRequestSubmitted {
				t.Error("no integer compared")
			}
		})
	}
}

// TestWebhookIDsAbove2To53 uses ids that float64 cannot represent.
func TestWebhookIDsAbove2To53(t *testing.T) {
	t.Parallel()
	const (
		orderID = 9007199254740993    // 2^53 + 1
		lineID  = 9007199254740995    // 2^53 + 3
		maxID   = 9223372036854775807 // int64 max
	)
	body := []byte(fmt.Sprintf(`{"id":%d,"admin_graphql_api_id":"gid://shopify/Order/%d","name":"#1",`+
		`"line_items":[{"id":%d,"variant_id":%d,"product_id":null,"sku":"A","quantity":2,"requires_shipping":true}],"shipping_address":null,"shipping_lines":[]}`,
		orderID, orderID, lineID, int64(maxID)))

	// float64 decoding, the encoding/json default for any, corrupts them.
	var naive map[string]any
	if err := json.Unmarshal(body, &naive); err != nil {
		t.Fatal(err)
	}
	if int64(naive["id"].(float64)) == orderID {
		t.Fatal("test ids must be ones float64 cannot hold")
	}

	v, err := DecodeWebhook("ORDERS_CREATE", body)
	if err != nil {
		t.Fatal(err)
	}
	w := v.(*OrderWebhook)
	if w.ID != orderID || w.LineItems[0].ID != lineID || *w.LineItems[0].VariantID != maxID {
		t.Errorf("decoded ids %d %d %d", w.ID, w.LineItems[0].ID, *w.LineItems[0].VariantID)
	}
	if _, gidID, err := ParseGID(w.GID()); err != nil || gidID != w.ID {
		t.Errorf("GID %s does not match id %d", w.GID(), w.ID)
	}
	enc, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"9007199254740993", "9007199254740995", "9223372036854775807"} {
		if !bytes.Contains(enc, []byte(n)) {
			t.Errorf("re-encoded payload lost %s: %s", n, enc)
		}
	}

	inv, err := DecodeWebhook(TopicInventoryLevelsUpdate, []byte(`{"inventory_item_id":271878346596884015,"location_id":9007199254740993,"available":-3,"updated_at":"2026-11-02T10:00:00+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	lvl := inv.(*InventoryLevelWebhook)
	if lvl.InventoryItemGID() != "gid://shopify/InventoryItem/271878346596884015" || lvl.LocationID != 9007199254740993 || *lvl.Available != -3 {
		t.Errorf("inventory level = %+v", lvl)
	}
}

func TestDecodeWebhookRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, topic, body, want string
	}{
		{"malformed", TopicOrdersCreate, `{"id": 1,`, "unexpected end"},
		{"trailing garbage", TopicOrdersCreate, `{"id": 1} x`, "invalid character"},
		{"not an object", TopicOrdersUpdated, `[1,2]`, "cannot unmarshal array"},
		{"id as string", TopicOrdersCreate, `{"id":"820982911946154508"}`, "cannot unmarshal string"},
		{"id as float", TopicOrdersCreate, `{"id":8.2e17}`, "cannot unmarshal number 8.2e17"},
		{"id beyond int64", TopicOrdersCreate, `{"id":18446744073709551616}`, "cannot unmarshal number"},
		{"missing id", TopicOrdersCancelled, `{"name":"#1"}`, "missing or invalid id"},
		{"null body", TopicOrdersCancelled, `null`, "missing or invalid id"},
		{"line without id", TopicOrdersCreate, `{"id":1,"line_items":[{"sku":"A"}]}`, "line_items[0]"},
		{"quantity as string", TopicOrdersCreate, `{"id":1,"line_items":[{"id":2,"quantity":"1"}]}`, "cannot unmarshal string"},
		{"bad timestamp", TopicOrdersUpdated, `{"id":1,"updated_at":"yesterday"}`, "cannot parse"},
		{"fo without id", TopicFulfillmentRequestSubmitted, `{"fulfillment_order_merchant_request":{"id":"gid://shopify/FulfillmentOrderMerchantRequest/1"}}`, "missing fulfillment order id"},
		{"fo id not a GID", TopicFulfillmentRequestSubmitted, `{"submitted_fulfillment_order":{"id":"1"}}`, "not a Shopify GID"},
		{"fo id a number", TopicFulfillmentRequestSubmitted, `{"submitted_fulfillment_order":{"id":1}}`, "cannot unmarshal number"},
		{"level without item", TopicInventoryLevelsUpdate, `{"location_id":1,"available":1}`, "inventory_item_id"},
		{"level without location", TopicInventoryLevelsUpdate, `{"inventory_item_id":1,"available":1}`, "location_id"},
		{"available as float", TopicInventoryLevelsUpdate, `{"inventory_item_id":1,"location_id":1,"available":1.5}`, "cannot unmarshal number"},
		{"unknown topic", "products/create", `{"id":1}`, "unknown webhook topic"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := DecodeWebhook(tc.topic, []byte(tc.body))
			if err == nil {
				t.Fatalf("decoded %+v, want an error", v)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.topic) {
				t.Errorf("err = %v, want it to name %s and contain %q", err, tc.topic, tc.want)
			}
			if !connector.IsPermanent(err) {
				t.Errorf("err = %v, want permanent", err)
			}
		})
	}
	if _, err := DecodeWebhook("products/create", []byte(`{}`)); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("unknown topic: %v", err)
	}
}
