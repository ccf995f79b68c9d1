package wmssim

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// TestOpenAPIMatchesCode keeps api/wms-openapi.yaml, the simulator's routes
// and the Go JSON types in step.
func TestOpenAPIMatchesCode(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../api/wms-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                    `yaml:"openapi"`
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required   []string       `yaml:"required"`
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}

	for _, route := range []string{
		"post /v1/orders", "get /v1/orders/{external_ref}", "post /v1/orders/{external_ref}/cancel",
		"get /v1/events", "get /v1/stock", "get /v1/health", "get /v1/items", "post /v1/returns",
	} {
		method, path, _ := strings.Cut(route, " ")
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("spec lacks %s", route)
		}
	}

	for name, v := range map[string]any{
		"Address": order.Address{}, "Line": order.Line{}, "WarehouseOrder": order.WarehouseOrder{},
		"ShipmentLine": order.ShipmentLine{}, "Package": order.Package{}, "Shipment": order.Shipment{},
		"Event": connector.Event{}, "StockItem": connector.StockItem{}, "StockSnapshot": connector.StockSnapshot{},
		"CreateOrderResult": createResponse{}, "OrderStatus": orderResponse{}, "CancelResult": cancelResponse{},
		"EventPage": eventsResponse{}, "Item": connector.Item{}, "ItemPage": itemsResponse{},
		"CarrierUpdate": connector.CarrierUpdate{}, "TrackingUpdate": connector.TrackingUpdate{},
		"Shortage":     connector.Shortage{},
		"ReturnNotice": connector.ReturnNotice{}, "ReturnLine": connector.ReturnLine{}, "ReturnResult": returnResponse{},
		"ReturnReceipt": connector.ReturnReceipt{}, "ReturnReceiptLine": connector.ReturnReceiptLine{},
	} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("spec lacks schema %s", name)
			continue
		}
		var inSpec []string
		for p := range s.Properties {
			inSpec = append(inSpec, p)
		}
		slices.Sort(inSpec)
		inGo := jsonNames(reflect.TypeOf(v))
		if !slices.Equal(inSpec, inGo) {
			t.Errorf("schema %s has %v, Go type %T has %v", name, inSpec, v, inGo)
		}
		for _, r := range s.Required {
			if !slices.Contains(inSpec, r) {
				t.Errorf("schema %s requires unknown property %s", name, r)
			}
		}
	}

	// Every $ref points at a defined component.
	for _, line := range strings.Split(string(raw), "\n") {
		_, ref, ok := strings.Cut(line, "$ref: '#/components/")
		if !ok {
			continue
		}
		kind, rest, _ := strings.Cut(ref, "/")
		target, _, _ := strings.Cut(rest, "'")
		if !strings.Contains(string(raw), "\n  "+kind+":\n") || !strings.Contains(string(raw), "\n    "+target+":") {
			t.Errorf("dangling $ref %s/%s", kind, target)
		}
	}
}

func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
