package wmssim

import (
	"net/http"
	"os"
	"reflect"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/order"
)

// TestAmendInSpec keeps PUT /v1/orders/{external_ref} and AmendResult of
// api/wms-openapi.yaml in step with the simulator.
func TestAmendInSpec(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../api/wms-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/v1/orders/{external_ref}"]["put"]; !ok {
		t.Error("spec lacks put /v1/orders/{external_ref}")
	}
	var inSpec []string
	for p := range doc.Components.Schemas["AmendResult"].Properties {
		inSpec = append(inSpec, p)
	}
	slices.Sort(inSpec)
	if inGo := jsonNames(reflect.TypeOf(amendResponse{})); !slices.Equal(inSpec, inGo) {
		t.Errorf("schema AmendResult has %v, Go has %v", inSpec, inGo)
	}
}

// stepTo runs steps one at a time until ref is in state want.
func (f fixture) stepTo(t *testing.T, ref string, want State) {
	t.Helper()
	for range 10 {
		if f.state(t, ref).State == want {
			return
		}
		next, ok := f.s.NextDue()
		if !ok {
			break
		}
		f.clock.Set(next)
		f.s.Tick()
	}
	t.Fatalf("%s is %s, want %s", ref, f.state(t, ref).State, want)
}

func amendOrder(ref string, lines ...order.Line) *order.WarehouseOrder {
	for i := range lines {
		lines[i].LineNo = i + 1
	}
	return &order.WarehouseOrder{ExternalRef: ref, Lines: lines,
		ShipTo: order.Address{Name: "A B", Address1: "1 rue", City: "Paris", PostalCode: "75001", CountryCode: "FR"}}
}

func TestAmendBeyondStockWaitsAsBackorder(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 3} })
	o := amendOrder("R1", line("A", 2))
	f.create(t, o)
	f.stepTo(t, "R1", StateAcknowledged)
	more := amendOrder("R1", line("A", 5))
	wantStatus(t, f.do(t, "PUT", "/v1/orders/R1", more), http.StatusOK)
	if st := f.state(t, "R1"); !st.Backordered {
		t.Fatalf("amended beyond stock: %+v, want backordered", st)
	}
	f.s.Settle(f.clock)
	if st := f.state(t, "R1"); st.State != StateAcknowledged {
		t.Fatalf("backordered order moved on to %s without stock", st.State)
	}
	f.s.SetStock(map[string]int{"A": 5})
	f.s.Settle(f.clock)
	st := f.state(t, "R1")
	shipped := 0
	for _, sh := range st.Shipments {
		for _, l := range sh.Lines {
			shipped += l.Quantity
		}
	}
	if st.State != StateShipped || shipped != 5 {
		t.Errorf("state %s, %d shipped; want shipped with the amended 5", st.State, shipped)
	}
}

func TestAmendErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 3} })
	f.create(t, amendOrder("R1", line("A", 1)))
	for name, tc := range map[string]struct {
		path   string
		body   any
		status int
		code   string
	}{
		"unknown":     {"/v1/orders/R9", amendOrder("R9", line("A", 1)), http.StatusNotFound, "not_found"},
		"other ref":   {"/v1/orders/R1", amendOrder("R2", line("A", 1)), http.StatusConflict, "conflict"},
		"no lines":    {"/v1/orders/R1", amendOrder("R1"), http.StatusUnprocessableEntity, "invalid"},
		"bad json":    {"/v1/orders/R1", "{", http.StatusBadRequest, "bad_request"},
		"zero amount": {"/v1/orders/R1", amendOrder("R1", line("A", 0)), http.StatusUnprocessableEntity, "invalid"},
	} {
		w := f.do(t, "PUT", tc.path, tc.body)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", name, w.Code, tc.status, w.Body.String())
			continue
		}
		if got := decode[map[string]apiError](t, w)["error"].Code; got != tc.code {
			t.Errorf("%s: code %q, want %q", name, got, tc.code)
		}
	}
	if st := f.state(t, "R1"); st.Lines[0].Quantity != 1 {
		t.Errorf("a refused amendment changed the order: %+v", st.Lines)
	}
}
