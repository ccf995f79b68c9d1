package tryton_test

import (
	"sync"
	"testing"

	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/tryton"
)

// suiteSKUs are the SKUs the conformance suite orders; they must exist as
// Tryton products before a case submits them (SubmitConflict sets no stock).
var suiteSKUs = []string{"IDEM-A", "IDEM-B", "CONF-A", "INV-A", "CAN-A", "LATE-A", "SHIP-A", "SHIP-B",
	"MULTI-A", "MULTI-B", "DUP-A", "CUR-A", "STK-A", "STK-B", "OUT-A"}

var suiteProducts sync.Once

// newHarness wires a connector to a warehouse of its own in the real
// Tryton, through a proxy the outage case can switch off.
func newHarness(t *testing.T) connectortest.Harness {
	p := tryton.RequirePeer(t)
	op := tryton.NewOperator(p)
	suiteProducts.Do(func() { op.EnsureProducts(t, suiteSKUs...) })
	wh := op.NewWarehouse(t)
	px := tryton.NewProxy(t, p)
	c, err := tryton.NewFromMap(p.Settings(px.URL, wh.Code))
	if err != nil {
		t.Fatal(err)
	}
	var opt tryton.SettleOptions
	return connectortest.Harness{
		WMS:             c,
		Settle:          func(t *testing.T) { op.Settle(t, wh, opt) },
		SetStock:        func(t *testing.T, onHand map[string]int) { op.SetStock(t, wh, onHand) },
		SetDown:         func(t *testing.T, down bool) { px.SetDown(down) },
		SetMultiPackage: func(t *testing.T, rate float64) { opt.MultiPackage = rate > 0 },
	}
}

// TestConformance runs the connector conformance suite against a real
// Tryton. DuplicateEvents is off: Tryton's feed is a snapshot of current
// states and never delivers an event twice in one pass; re-delivery with
// the same id is tested by TestRewrittenShipmentKeepsEventID.
func TestConformance(t *testing.T) {
	t.Parallel()
	tryton.RequirePeer(t)
	connectortest.Run(t, connectortest.Features{
		Cancel: true, Conflict: true, MultiPackage: true, Outage: true, Stock: true,
	}, newHarness)
}
