package demo

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// MixRealistic is the order mix (`crossdock demo --mix realistic`) in which
// a share of orders takes each path of an order's life: split orders,
// backorders, cancellation requests before picking and after shipping
// started, holds released when stock arrives, besides the warehouses'
// partial shipments, several packages, carrier events and tracking updates.
const MixRealistic = "realistic"

// ParseMix checks a --mix value: "" (every order the plain path) or
// MixRealistic.
func ParseMix(s string) (string, error) {
	switch s {
	case "", MixRealistic:
		return s, nil
	}
	return "", fmt.Errorf("demo: unknown mix %q (known: %s)", s, MixRealistic)
}

// The paths of the realistic mix.
const (
	pathPlain       = ""
	pathSplit       = "split"        // a SKU stocked only at the first warehouse and one only at the last
	pathBackorder   = "backorder"    // a SKU short on the shelf until a delivery
	pathCancelEarly = "cancel_early" // backordered, then a cancellation request before picking
	pathCancelLate  = "cancel_late"  // a cancellation request once the warehouse is picking or has shipped part
	pathHold        = "hold"         // a SKU no warehouse stocks until stock arrives
)

// mixCycle is the realistic mix's share of each path, per 20 orders.
var mixCycle = [20]string{
	pathSplit, pathPlain, pathBackorder, pathPlain, pathCancelLate, pathPlain, pathHold, pathSplit, pathPlain, pathCancelEarly,
	pathPlain, pathBackorder, pathPlain, pathCancelLate, pathPlain, pathSplit, pathPlain, pathBackorder, pathPlain, pathPlain,
}

// The realistic mix's extra SKUs.
var (
	mixFirstOnly = []string{"SPLIT-P1", "SPLIT-P2", "SPLIT-P3"} // first warehouse only
	mixLastOnly  = []string{"SPLIT-N1", "SPLIT-N2", "SPLIT-N3"} // last warehouse only
	mixShort     = []string{"SHORT-1", "SHORT-2"}               // first warehouse, short on the shelf
	mixHold      = []string{"HOLD-1", "HOLD-2"}                 // nowhere until the last warehouse receives them
)

// mixBatch is how many orders wait for a delivery before it comes in an
// endless run (no --exit-when-done).
const mixBatch = 10

// mixState is the realistic mix's bookkeeping: each order's path and what
// the driver did.
type mixState struct {
	mu       sync.Mutex
	next     int
	orders   map[string]*mixOrder // Shopify order GID →
	creating int                  // CreateOrders calls running
	created  bool                 // a CreateOrders call finished
	// holdsStocked and shortRestocked: the deliveries were made.
	holdsStocked, shortRestocked bool
}

type mixOrder struct {
	path       string
	cancelSent bool
	cancelErr  string
}

// mixDefaults sets the warehouses' rates of the realistic mix where opt
// leaves them at zero.
func mixDefaults(opt SimOptions) SimOptions {
	if opt.PartialShipRate == 0 {
		opt.PartialShipRate = 0.15
	}
	if opt.CarrierEventRate == 0 {
		opt.CarrierEventRate = 0.3
	}
	if opt.DeliveryFailureRate == 0 {
		opt.DeliveryFailureRate = 0.1
	}
	if opt.TrackingUpdateRate == 0 {
		opt.TrackingUpdateRate = 0.1
	}
	return opt
}

// setupMix adds the mix's SKUs to the catalogue and to the warehouses.
func (s *Sims) setupMix() error {
	if len(s.Warehouses) < 2 {
		return fmt.Errorf("demo: the %s mix needs at least two warehouses", MixRealistic)
	}
	var products []shopifysim.ProductInput
	for _, group := range [][]string{mixFirstOnly, mixLastOnly, mixShort, mixHold} {
		for _, sku := range group {
			products = append(products, shopifysim.ProductInput{Title: "Mix product " + sku,
				Variants: []shopifysim.VariantInput{{SKU: sku, Price: "24.90"}}})
		}
	}
	ps, err := s.Shopify.AddProducts(products)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, p := range ps {
		for _, v := range p.Variants {
			s.variants[v.SKU] = v.ID
		}
	}
	s.mu.Unlock()
	first, last := s.Warehouses[0].Sim, s.Warehouses[len(s.Warehouses)-1].Sim
	firstStock := map[string]int{}
	for _, sku := range slices.Concat(mixFirstOnly, mixShort) {
		firstStock[sku] = s.Opt.StockPerSKU
	}
	first.SetStock(firstStock)
	first.SetShortOnShelf(mixShort...)
	lastStock := map[string]int{}
	for _, sku := range mixLastOnly {
		lastStock[sku] = s.Opt.StockPerSKU
	}
	last.SetStock(lastStock)
	s.mix = &mixState{orders: map[string]*mixOrder{}}
	return nil
}

// nextOrder returns the next order to create and its path in the mix.
func (s *Sims) nextOrder() (shopify.OrderInput, string) {
	if s.mix == nil {
		return s.NewOrder(), pathPlain
	}
	s.mix.mu.Lock()
	path := mixCycle[s.mix.next%len(mixCycle)]
	s.mix.next++
	s.mix.mu.Unlock()
	pick := func(skus []string) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return skus[s.rng.IntN(len(skus))]
	}
	switch path {
	case pathSplit:
		return s.orderOfUnits(pick(mixFirstOnly), 1+s.intN(2), pick(mixLastOnly), 1+s.intN(2)), path
	case pathBackorder, pathCancelEarly:
		return s.orderOfUnits(pick(mixShort), 1+s.intN(2)), path
	case pathHold:
		return s.orderOfUnits(pick(mixHold), 1), path
	case pathCancelLate:
		// Two units or more, so that some ship in two parts.
		return s.orderOfUnits(pick(s.SKUs), 2+s.intN(2)), path
	}
	return s.NewOrder(), path
}

func (s *Sims) intN(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// orderOfUnits returns an order of the given SKU, quantity pairs that
// claims stock like the generator's orders.
func (s *Sims) orderOfUnits(pairs ...any) shopify.OrderInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := shopify.OrderInput{ShippingAddress: addresses[s.rng.IntN(len(addresses))], InventoryBehaviour: "DECREMENT_IGNORING_POLICY",
		Email: fmt.Sprintf("customer%d@example.com", s.rng.IntN(100000))}
	for i := 0; i+1 < len(pairs); i += 2 {
		in.Lines = append(in.Lines, shopify.OrderLineInput{VariantID: s.variants[pairs[i].(string)], Quantity: pairs[i+1].(int)})
	}
	return in
}

// noteOrder records a created order's path.
func (s *Sims) noteOrder(id, path string) {
	if s.mix == nil {
		return
	}
	s.mix.mu.Lock()
	s.mix.orders[id] = &mixOrder{path: path}
	s.mix.mu.Unlock()
}

// creation marks the start (+1) and end (-1) of a CreateOrders call.
func (s *Sims) creation(delta int) {
	if s.mix == nil {
		return
	}
	s.mix.mu.Lock()
	s.mix.creating += delta
	if delta < 0 && s.mix.creating == 0 {
		s.mix.created = true
	}
	s.mix.mu.Unlock()
}

// RunMix drives the realistic mix until ctx ends: it submits the
// cancellation requests (before picking for orders waiting on a backorder,
// once picking started for the late ones) and makes the deliveries — the
// held SKUs at the last warehouse once every held order is on hold in
// Shopify, the short SKUs once every backordered order waits and every
// early cancellation was answered — once the orders were created (in an
// endless run, once mixBatch orders wait; the held SKUs then stay stocked
// and the short ones are short again after each delivery). It returns at
// once without a mix.
func (s *Sims) RunMix(ctx context.Context) {
	if s.mix == nil {
		return
	}
	c := s.Client()
	for {
		s.mixStep(ctx, c)
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Sims) mixStep(ctx context.Context, c *shopify.Client) {
	wms := map[string][]wmssim.OrderState{}
	for _, w := range s.Warehouses {
		for _, o := range w.Sim.Orders() {
			wms[o.OrderID] = append(wms[o.OrderID], o)
		}
	}
	type todo struct {
		id, fo string
		mo     *mixOrder
	}
	var cancels []todo
	m := s.mix
	m.mu.Lock()
	created := m.created
	holdsReady, shortReady := !m.holdsStocked, !m.shortRestocked
	holdWaiting, shortWaiting := 0, 0
	for id, mo := range m.orders {
		ws := wms[id]
		switch mo.path {
		case pathCancelEarly:
			if len(ws) == 1 && ws[0].Backordered && ws[0].State == wmssim.StateAcknowledged {
				shortWaiting++
				if !mo.cancelSent {
					cancels = append(cancels, todo{id, ws[0].Request.FulfillmentOrderID, mo})
				}
			}
			if !mo.cancelSent && mo.cancelErr == "" {
				shortReady = false
			} else if mo.cancelSent {
				if o, _ := s.Shopify.Order(id); !cancelAnswered(o) {
					shortReady = false
				}
			}
		case pathCancelLate:
			if !mo.cancelSent && mo.cancelErr == "" && len(ws) == 1 {
				switch ws[0].State {
				case wmssim.StatePicking, wmssim.StatePacked, wmssim.StatePartiallyShipped:
					cancels = append(cancels, todo{id, ws[0].Request.FulfillmentOrderID, mo})
				}
			}
		case pathBackorder:
			switch {
			case len(ws) == 0 || ws[0].State == wmssim.StateReceived || (ws[0].State == wmssim.StateAcknowledged && !ws[0].Backordered):
				shortReady = false // not allocated yet
			case ws[0].Backordered && ws[0].State == wmssim.StateAcknowledged:
				shortWaiting++
			}
		case pathHold:
			if o, _ := s.Shopify.Order(id); onHold(o) {
				holdWaiting++
			} else if len(ws) == 0 {
				holdsReady = false // not dispatched yet
			}
		}
	}
	m.mu.Unlock()
	for _, t := range cancels {
		msg := "customer changed their mind"
		_, err := c.SubmitCancellationRequest(ctx, t.fo, msg)
		m.mu.Lock()
		if err != nil {
			t.mo.cancelErr = err.Error() // too late in Shopify: the order goes on
		} else {
			t.mo.cancelSent = true
		}
		m.mu.Unlock()
	}
	// A delivery comes once the orders are created, or, in an endless
	// run, once mixBatch orders wait for it.
	enough := func(n int) bool { return n > 0 && (created || n >= mixBatch) }
	if holdsReady && enough(holdWaiting) {
		stock := map[string]int{}
		for _, sku := range mixHold {
			stock[sku] = s.Opt.StockPerSKU
		}
		s.Warehouses[len(s.Warehouses)-1].Sim.SetStock(stock)
		m.mu.Lock()
		m.holdsStocked = true
		m.mu.Unlock()
	}
	if shortReady && len(cancels) == 0 && enough(shortWaiting) {
		stock := map[string]int{}
		for _, sku := range mixShort {
			stock[sku] = s.Opt.StockPerSKU
		}
		first := s.Warehouses[0].Sim
		first.Restock(stock)
		if !created {
			// Endless run: the next orders find the shelf short again.
			first.SetShortOnShelf(mixShort...)
			return
		}
		m.mu.Lock()
		m.shortRestocked = true
		m.mu.Unlock()
	}
}

// cancelAnswered reports whether a cancellation request on o was answered.
func cancelAnswered(o shopifysim.OrderState) bool {
	for _, fo := range o.FulfillmentOrders {
		if fo.RequestStatus == "CANCELLATION_REQUESTED" {
			return false
		}
	}
	return true
}

func onHold(o shopifysim.OrderState) bool {
	for _, fo := range o.FulfillmentOrders {
		if fo.Status == "ON_HOLD" {
			return true
		}
	}
	return false
}

// MixCounts are the summary's figures of the paths orders took and its
// invariants, counted from the simulators' state (and, for holds released
// and incidents, the hub's timeline).
type MixCounts struct {
	// OrdersCancelled are orders cancelled in Shopify, outright or by an
	// accepted cancellation request of every fulfillment order.
	OrdersCancelled                int `json:"orders_cancelled"`
	CancelledBeforePick            int `json:"cancelled_before_pick"`
	CancelRejectedAfterShip        int `json:"cancel_rejected_after_ship"`
	PartialShipments               int `json:"partial_shipments"`
	MultiPackageShipments          int `json:"multi_package_shipments"`
	SplitOrders                    int `json:"split_orders"`
	HoldsReleased                  int `json:"holds_released"`
	Backorders                     int `json:"backorders"`
	CarrierEvents                  int `json:"carrier_events"`
	TrackingUpdates                int `json:"tracking_updates"`
	ShippedUnitsWithoutFulfillment int `json:"shipped_units_without_fulfillment"`
	FulfilledUnitsOverOrdered      int `json:"fulfilled_units_over_ordered"`
	// CancelledUnitsShippedWithoutIncident are units a warehouse shipped
	// for an order whose cancellation was requested or done, when the
	// hub's timeline of the order has no incident.
	CancelledUnitsShippedWithoutIncident int `json:"cancelled_units_shipped_without_incident"`
}

// orderCancelled reports whether o is cancelled in Shopify.
func orderCancelled(o shopifysim.OrderState) bool {
	if o.CancelledAt != nil {
		return true
	}
	if len(o.FulfillmentOrders) == 0 {
		return false
	}
	for _, fo := range o.FulfillmentOrders {
		if fo.Status != "CANCELLED" {
			return false
		}
	}
	return true
}

// mixCounts counts the paths and the invariants.
func (s *Sims) mixCounts(orders []shopifysim.OrderState) (MixCounts, error) {
	var mc MixCounts
	type wmsOrder struct {
		wh string
		st wmssim.OrderState
	}
	wms := map[string][]wmsOrder{}
	for _, w := range s.Warehouses {
		for _, o := range w.Sim.Orders() {
			wms[o.OrderID] = append(wms[o.OrderID], wmsOrder{w.ID, o})
			if !o.Times.BackorderedAt.IsZero() {
				mc.Backorders++
			}
			if len(o.Shipments) > 1 {
				mc.PartialShipments++
			}
			for _, sh := range o.Shipments {
				if len(sh.Packages) > 1 {
					mc.MultiPackageShipments++
				}
			}
		}
	}
	hasKind := func(orderID, kind string) (bool, error) {
		if s.Timeline == nil {
			return false, nil
		}
		tl, err := s.Timeline(orderID)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(tl, func(e store.Entry) bool { return e.Kind == kind }), nil
	}
	paths := map[string]string{}
	if s.mix != nil {
		s.mix.mu.Lock()
		for id, mo := range s.mix.orders {
			paths[id] = mo.path
		}
		s.mix.mu.Unlock()
	}
	for _, o := range orders {
		ws := wms[o.ID]
		shipped, allShipped, allCancelled := 0, len(ws) > 0, len(ws) > 0
		whs := map[string]bool{}
		for _, w := range ws {
			if w.st.State != wmssim.StateCancelled {
				whs[w.wh] = true
			}
			allShipped = allShipped && w.st.State == wmssim.StateShipped
			allCancelled = allCancelled && w.st.State == wmssim.StateCancelled && len(w.st.Shipments) == 0
			for _, sh := range w.st.Shipments {
				for _, l := range sh.Lines {
					shipped += l.Quantity
				}
			}
		}
		if len(whs) > 1 {
			mc.SplitOrders++
		}
		fulfilled := 0
		for _, li := range o.LineItems {
			fulfilled += li.FulfilledQuantity
			mc.FulfilledUnitsOverOrdered += max(li.FulfilledQuantity-li.Quantity, 0)
		}
		mc.ShippedUnitsWithoutFulfillment += max(shipped-fulfilled, 0)
		for _, f := range o.Fulfillments {
			mc.CarrierEvents += len(f.Events)
		}
		cancelled := orderCancelled(o)
		requested := cancelled
		rejected := false
		for _, fo := range o.FulfillmentOrders {
			switch fo.RequestStatus {
			case "CANCELLATION_REQUESTED", "CANCELLATION_ACCEPTED":
				requested = true
			case "CANCELLATION_REJECTED":
				requested, rejected = true, true
			}
		}
		if cancelled {
			mc.OrdersCancelled++
			if allCancelled {
				mc.CancelledBeforePick++
			}
		}
		if rejected && allShipped {
			mc.CancelRejectedAfterShip++
		}
		if requested && shipped > 0 {
			ok, err := hasKind(o.ID, "incident")
			if err != nil {
				return mc, err
			}
			if !ok {
				mc.CancelledUnitsShippedWithoutIncident += shipped
			}
		}
		if paths[o.ID] == pathHold {
			ok, err := hasKind(o.ID, "hold_released")
			if err != nil {
				return mc, err
			}
			if ok {
				mc.HoldsReleased++
			}
		}
	}
	mc.TrackingUpdates = int(s.Shopify.Stats().TrackingUpdates)
	return mc, nil
}

// problems lists what keeps a run from settling: an invariant broken and,
// in the realistic mix, a path no order took (yet).
func (mc MixCounts) problems(mix string) []string {
	var p []string
	for _, c := range []struct {
		name string
		n    int
	}{
		{"shipped units without fulfillment", mc.ShippedUnitsWithoutFulfillment},
		{"fulfilled units over ordered", mc.FulfilledUnitsOverOrdered},
		{"cancelled units shipped without incident", mc.CancelledUnitsShippedWithoutIncident},
	} {
		if c.n != 0 {
			p = append(p, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	if mix != MixRealistic {
		return p
	}
	for _, c := range []struct {
		name string
		n    int
	}{
		{"cancelled_before_pick", mc.CancelledBeforePick}, {"cancel_rejected_after_ship", mc.CancelRejectedAfterShip},
		{"partial_shipments", mc.PartialShipments}, {"multi_package_shipments", mc.MultiPackageShipments},
		{"split_orders", mc.SplitOrders}, {"holds_released", mc.HoldsReleased}, {"backorders", mc.Backorders},
		{"carrier_events", mc.CarrierEvents}, {"tracking_updates", mc.TrackingUpdates},
	} {
		if c.n == 0 {
			p = append(p, "no order took the path "+c.name)
		}
	}
	return p
}
