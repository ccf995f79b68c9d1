package wmssim

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
)

// TestPartialShipments: with PartialShipRate 1 every order of two units or
// more ships in two shipments, ShipDelay apart, each with its own id and
// tracking; together they ship exactly what was ordered, stock follows each
// shipment, and the protocol reads packed until the last unit ships.
func TestPartialShipments(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) {
		c.Stock = map[string]int{"A": 100, "B": 100}
		c.PartialShipRate = 1
		c.MultiPackageRate = 0.5
	})
	f.create(t, connectortest.NewOrder("TWO", line("A", 3), line("B", 2)))
	f.create(t, connectortest.NewOrder("ONE-UNIT", line("A", 1)))
	for _, d := range []time.Duration{DefaultAckDelay, DefaultPickDelay, DefaultPackDelay} {
		f.clock.Advance(d)
		f.s.Tick()
	}
	if st := f.state(t, "TWO"); st.State != StatePacked {
		t.Fatalf("state %s before shipping", st.State)
	}
	f.clock.Advance(DefaultShipDelay)
	f.s.Tick()

	st := f.state(t, "TWO")
	if st.State != StatePartiallyShipped || len(st.Shipments) != 1 || st.Times.PartiallyShippedAt.IsZero() || !st.Times.ShippedAt.IsZero() {
		t.Fatalf("after the first shipment: %s, %d shipments, times %+v", st.State, len(st.Shipments), st.Times)
	}
	first := 0
	for _, l := range st.Shipments[0].Lines {
		first += l.Quantity
	}
	if first < 1 || first > 4 {
		t.Fatalf("first shipment carries %d of 5 units", first)
	}
	stock := f.s.Stock()
	if got := stock["A"].OnHand + stock["B"].OnHand; got != 200-first-1 { // ONE-UNIT shipped whole
		t.Fatalf("on hand %d after shipping %d+1 units", got, first)
	}
	if got := stock["A"].Allocated + stock["B"].Allocated; got != 5-first {
		t.Fatalf("allocated %d, want the %d units still to ship", got, 5-first)
	}
	if one := f.state(t, "ONE-UNIT"); one.State != StateShipped || len(one.Shipments) != 1 {
		t.Fatalf("a one-unit order: %s with %d shipments", one.State, len(one.Shipments))
	}
	w := f.do(t, "GET", "/v1/orders/TWO", nil)
	wantStatus(t, w, http.StatusOK)
	if got := decode[orderResponse](t, w); got.Status != StatePacked || len(got.Shipments) != 1 {
		t.Fatalf("protocol view after the first shipment: %s with %d shipments", got.Status, len(got.Shipments))
	}
	if res := decode[cancelResponse](t, f.do(t, "POST", "/v1/orders/TWO/cancel", nil)); res.Cancelled || res.Reason != "already partially shipped" {
		t.Fatalf("cancel = %+v", res)
	}

	f.clock.Advance(DefaultShipDelay)
	f.s.Tick()
	st = f.state(t, "TWO")
	if st.State != StateShipped || len(st.Shipments) != 2 || st.Times.ShippedAt.Sub(st.Times.PartiallyShippedAt) != DefaultShipDelay {
		t.Fatalf("after the second shipment: %s, %d shipments, times %+v", st.State, len(st.Shipments), st.Times)
	}
	shipped := map[int]int{}
	tracking := map[string]bool{}
	for _, sh := range st.Shipments {
		inPkgs := 0
		for _, p := range sh.Packages {
			if tracking[p.TrackingNumber] || p.TrackingNumber == "" {
				t.Fatalf("tracking %q repeated or empty", p.TrackingNumber)
			}
			tracking[p.TrackingNumber] = true
			for _, l := range p.Lines {
				inPkgs += l.Quantity
			}
		}
		units := 0
		for _, l := range sh.Lines {
			shipped[l.LineNo] += l.Quantity
			units += l.Quantity
			if l.Quantity <= 0 {
				t.Fatalf("shipment %s has an empty line %+v", sh.ID, l)
			}
		}
		if inPkgs != units || len(sh.Packages) == 0 {
			t.Fatalf("shipment %s: %d units in packages, %d in lines", sh.ID, inPkgs, units)
		}
	}
	if st.Shipments[0].ID == st.Shipments[1].ID {
		t.Fatal("both shipments have the same id")
	}
	for _, l := range st.Lines {
		if shipped[l.LineNo] != l.Quantity {
			t.Fatalf("line %d: shipped %d of %d", l.LineNo, shipped[l.LineNo], l.Quantity)
		}
	}
	for sku, it := range f.s.Stock() {
		if it.OnHand != 100-map[string]int{"A": 4, "B": 2}[sku] || it.Allocated != 0 {
			t.Fatalf("stock %s = %+v", sku, it)
		}
	}
	var kinds []connector.EventType
	var ships []string
	for _, e := range f.s.Events() {
		if e.ExternalRef == "TWO" {
			kinds = append(kinds, e.Type)
			if e.Shipment != nil {
				ships = append(ships, e.Shipment.ID)
			}
		}
	}
	want := []connector.EventType{connector.EventAcknowledged, connector.EventPicking, connector.EventPacked, connector.EventShipped, connector.EventCancelRejected, connector.EventShipped}
	if fmt.Sprint(kinds) != fmt.Sprint(want) || len(ships) != 2 || ships[0] == ships[1] {
		t.Fatalf("events %v with shipments %v", kinds, ships)
	}
	if s := f.s.Stats(); s.Shipped != 2 || s.PartiallyShipped != 1 || s.Shipments != 3 {
		t.Fatalf("stats %+v", s)
	}
	w = f.do(t, "GET", "/v1/orders/TWO", nil)
	if got := decode[orderResponse](t, w); got.Status != StateShipped || len(got.Shipments) != 2 {
		t.Fatalf("protocol view at the end: %s with %d shipments", got.Status, len(got.Shipments))
	}
}

// TestPartialShipRateKnob: the rate is set through POST /_sim/faults, is
// validated, and splits many orders with their quantities intact.
func TestPartialShipRateKnob(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.Stock = map[string]int{"A": 10000, "B": 10000} })
	post := func(body string) int {
		return f.do(t, "POST", "/_sim/faults", body).Code
	}
	if c := post(`{"partial_ship_rate":1.5}`); c != http.StatusBadRequest {
		t.Fatalf("rate 1.5 answered %d", c)
	}
	if c := post(`{"partial_ship_rate":0.5}`); c != http.StatusOK {
		t.Fatalf("rate 0.5 answered %d", c)
	}
	if v := decode[faultsJSON](t, f.do(t, "GET", "/_sim/faults", nil)); v.PartialShipRate == nil || *v.PartialShipRate != 0.5 {
		t.Fatalf("faults view %+v", v)
	}
	const n = 200
	for i := range n {
		f.create(t, connectortest.NewOrder(fmt.Sprintf("K-%d", i), line("A", 1+i%3), line("B", i%2+1)))
	}
	f.s.Settle(f.clock)
	split := 0
	for _, st := range f.s.Orders() {
		if st.State != StateShipped {
			t.Fatalf("%s: %s", st.ExternalRef, st.State)
		}
		if len(st.Shipments) == 2 {
			split++
		} else if len(st.Shipments) != 1 {
			t.Fatalf("%s: %d shipments", st.ExternalRef, len(st.Shipments))
		}
		got := map[int]int{}
		for _, sh := range st.Shipments {
			for _, l := range sh.Lines {
				got[l.LineNo] += l.Quantity
			}
		}
		for _, l := range st.Lines {
			if got[l.LineNo] != l.Quantity {
				t.Fatalf("%s line %d: shipped %d of %d", st.ExternalRef, l.LineNo, got[l.LineNo], l.Quantity)
			}
		}
	}
	if split < n/4 || split > 3*n/4 {
		t.Fatalf("%d of %d orders split at rate 0.5", split, n)
	}
	stock := f.s.Stock()
	if s := f.s.Stats(); s.PartiallyShipped != split || s.Shipments != n+split || stock["A"].Allocated+stock["B"].Allocated != 0 {
		t.Fatalf("stats %+v, stock %+v", s, stock)
	}
}
