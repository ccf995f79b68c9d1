package wmssim

import (
	"container/heap"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// step is a scheduled transition of one order out of state from. A step
// whose order has left that state (it was cancelled) is dropped when due.
type step struct {
	due  time.Time
	seq  uint64
	o    *simOrder
	from State
}

type stepHeap []step

func (h stepHeap) Len() int { return len(h) }
func (h stepHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h stepHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *stepHeap) Push(x any)   { *h = append(*h, x.(step)) }
func (h *stepHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = step{}
	*h = old[:n-1]
	return x
}

// schedule queues o's next transition. s.mu is held.
func (s *Server) schedule(o *simOrder, due time.Time) {
	s.stepSeq++
	heap.Push(&s.queue, step{due: due, seq: s.stepSeq, o: o, from: o.state})
	s.poke()
}

// runDue runs the steps due at now. s.mu is held.
func (s *Server) runDue(now time.Time) int {
	n := 0
	for len(s.queue) > 0 && !s.queue[0].due.After(now) {
		st := heap.Pop(&s.queue).(step)
		if st.o.state != st.from {
			continue
		}
		s.advance(st.o, now)
		n++
	}
	return n + s.runCarrierDue(now)
}

// advance moves o one step forward. s.mu is held.
func (s *Server) advance(o *simOrder, now time.Time) {
	ref := o.wo.ExternalRef
	switch o.state {
	case StateReceived:
		o.state = StateAcknowledged
		o.times.AcknowledgedAt = now
		s.publish(connector.Event{Type: connector.EventAcknowledged, ExternalRef: ref, At: now})
		if s.allocate(o) {
			s.schedule(o, now.Add(s.cfg.PickDelay))
			return
		}
		o.backordered = true
		o.times.BackorderedAt = now
		s.stats.Backordered++
		s.backorders = append(s.backorders, o)
		s.publishBackorder(o, now)
	case StateAcknowledged:
		if o.backordered {
			return // amended beyond its stock (amend.go): waits for retryBackorders
		}
		o.state = StatePicking
		o.times.PickingAt = now
		s.publish(connector.Event{Type: connector.EventPicking, ExternalRef: ref, At: now})
		s.schedule(o, now.Add(s.cfg.PackDelay))
	case StatePicking:
		o.state = StatePacked
		o.times.PackedAt = now
		s.publish(connector.Event{Type: connector.EventPacked, ExternalRef: ref, At: now})
		s.schedule(o, now.Add(s.cfg.ShipDelay))
	case StatePacked, StatePartiallyShipped:
		rest := remaining(o)
		units := 0
		for _, l := range rest {
			units += l.Quantity
		}
		lines := rest
		if o.state == StatePacked && units >= 2 && s.partRate > 0 && s.rng.Float64() < s.partRate {
			lines = firstUnits(rest, 1+s.rng.IntN(units-1))
		}
		sh := s.ship(o, lines, now)
		o.shipments = append(o.shipments, sh)
		s.stats.Shipments++
		s.stats.Packages += len(sh.Packages)
		if len(remaining(o)) > 0 {
			o.state = StatePartiallyShipped
			o.times.PartiallyShippedAt = now
			s.stats.PartiallyShipped++
			s.schedule(o, now.Add(s.cfg.ShipDelay))
		} else {
			o.state = StateShipped
			o.allocated = false
			o.times.ShippedAt = now
			s.stats.Shipped++
		}
		c := cloneShipment(sh)
		s.publish(connector.Event{Type: connector.EventShipped, ExternalRef: ref, At: now, Shipment: &c})
		s.scheduleCarrier(o, sh, now)
	}
}

// remaining returns o's lines with the quantities not shipped yet; lines
// fully shipped are left out.
func remaining(o *simOrder) []order.ShipmentLine {
	shipped := map[int]int{}
	for _, sh := range o.shipments {
		for _, l := range sh.Lines {
			shipped[l.LineNo] += l.Quantity
		}
	}
	var out []order.ShipmentLine
	for _, l := range o.wo.Lines {
		if q := l.Quantity - shipped[l.LineNo]; q > 0 {
			out = append(out, order.ShipmentLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: q})
		}
	}
	return out
}

// firstUnits returns the first n units of lines, in line order.
func firstUnits(lines []order.ShipmentLine, n int) []order.ShipmentLine {
	var out []order.ShipmentLine
	for _, l := range lines {
		if n <= 0 {
			break
		}
		q := min(l.Quantity, n)
		out = append(out, order.ShipmentLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: q})
		n -= q
	}
	return out
}

// publish appends e to the feed under a new id, sometimes twice. s.mu is
// held.
func (s *Server) publish(e connector.Event) {
	s.eventSeq++
	e.ID = s.newID("E", s.eventSeq)
	s.feed = append(s.feed, e)
	s.stats.EventsPublished++
	if r := s.faults.DuplicateEventRate; r > 0 && s.rng.Float64() < r {
		s.feed = append(s.feed, e)
		s.stats.DuplicateEvents++
	}
}

// needs sums o's units per SKU.
func needs(o *simOrder) map[string]int {
	m := make(map[string]int, len(o.wo.Lines))
	for _, l := range o.wo.Lines {
		m[l.SKU] += l.Quantity
	}
	return m
}

// allocate reserves all of o's units, or none and records the shortages.
// s.mu is held.
func (s *Server) allocate(o *simOrder) bool {
	need := needs(o)
	var short []Shortage
	for sku, n := range need {
		avail := 0
		if r := s.stock[sku]; r != nil {
			avail = max(r.onHand-r.allocated, 0)
		}
		if s.shortOnShelf(sku) {
			avail = 0
		}
		if avail < n {
			short = append(short, Shortage{SKU: sku, Needed: n, Available: avail})
		}
	}
	if len(short) > 0 {
		slices.SortFunc(short, func(a, b Shortage) int { return strings.Compare(a.SKU, b.SKU) })
		o.shortages = short
		return false
	}
	for sku, n := range need {
		s.stock[sku].allocated += n
	}
	o.allocated = true
	o.shortages = nil
	return true
}

// release gives o's allocation back. s.mu is held.
func (s *Server) release(o *simOrder) {
	if !o.allocated {
		return
	}
	for sku, n := range needs(o) {
		r := s.stock[sku]
		r.allocated = max(r.allocated-n, 0)
	}
	o.allocated = false
}

// retryBackorders allocates waiting orders, oldest first. s.mu is held.
func (s *Server) retryBackorders(now time.Time) {
	kept := s.backorders[:0]
	for _, o := range s.backorders {
		if o.state != StateAcknowledged || !o.backordered {
			continue // cancelled meanwhile
		}
		if s.allocate(o) {
			o.backordered = false
			s.schedule(o, now.Add(s.cfg.PickDelay))
			continue
		}
		kept = append(kept, o)
	}
	clear(s.backorders[len(kept):])
	s.backorders = kept
}

// cancel cancels o if it has not been picked yet. s.mu is held.
func (s *Server) cancel(o *simOrder, now time.Time) (bool, string) {
	ref := o.wo.ExternalRef
	switch o.state {
	case StateCancelled:
		return true, ""
	case StateReceived, StateAcknowledged:
		s.release(o)
		o.state = StateCancelled
		o.backordered = false
		o.times.CancelledAt = now
		s.stats.Cancelled++
		s.publish(connector.Event{Type: connector.EventCancelled, ExternalRef: ref, At: now})
		return true, ""
	}
	reason := "already " + strings.ReplaceAll(string(o.state), "_", " ")
	s.stats.CancelRejected++
	s.publish(connector.Event{Type: connector.EventCancelRejected, ExternalRef: ref, At: now, Reason: reason})
	return false, reason
}

// trackingSeq makes tracking numbers unique across every simulator in the
// process.
var trackingSeq atomic.Uint64

// trackingNumber returns a new tracking number for c. The counter is
// scrambled by a multiplication that is a bijection modulo 10^digits, so
// numbers look random but never repeat.
func trackingNumber(c Carrier) string {
	digits := c.TrackingDigits
	if digits <= 0 {
		digits = 10
	}
	digits = min(digits, 18)
	mod := uint64(1)
	for range digits {
		mod *= 10
	}
	// 982451653 ends in 3, so it is coprime to every power of 10.
	v := mulMod(trackingSeq.Add(1)%mod, 982451653, mod)
	s := strconv.FormatUint(v, 10)
	return c.TrackingPrefix + strings.Repeat("0", digits-len(s)) + s
}

// mulMod returns a*b mod m without overflow for m ≤ 10^18.
func mulMod(a, b, m uint64) uint64 {
	var r uint64
	a %= m
	for b > 0 {
		if b&1 == 1 {
			r = (r + a) % m
		}
		a = (a * 2) % m
		b >>= 1
	}
	return r
}

// pickCarrier returns the carrier named in the shipping method, or one at
// random. s.mu is held.
func (s *Server) pickCarrier(method string) Carrier {
	m := strings.ToLower(method)
	if m != "" {
		for _, c := range s.carriers {
			if strings.Contains(m, strings.ToLower(c.Name)) {
				return c
			}
		}
	}
	return s.carriers[s.rng.IntN(len(s.carriers))]
}

// ship builds a shipment of lines (all or part of what o still has to
// ship), takes its units out of stock and releases their allocation; the
// order holds no allocation once its last unit has shipped. s.mu is held.
func (s *Server) ship(o *simOrder, lines []order.ShipmentLine, now time.Time) order.Shipment {
	total := 0
	units := map[string]int{}
	for _, l := range lines {
		total += l.Quantity
		units[l.SKU] += l.Quantity
	}
	for sku, n := range units {
		r := s.stock[sku]
		if r == nil {
			r = &stockRec{}
			s.stock[sku] = r
		}
		r.onHand = max(r.onHand-n, 0)
		if o.allocated {
			r.allocated = max(r.allocated-n, 0)
		}
	}

	nPkg := 1
	if s.multiRate > 0 && total > 1 && s.rng.Float64() < s.multiRate {
		nPkg = 2 + s.rng.IntN(2)
	}
	carrier := s.pickCarrier(o.wo.ShippingMethod)
	s.shipSeq++
	sh := order.Shipment{
		ID:          s.newID("S", s.shipSeq),
		ExternalRef: o.wo.ExternalRef,
		ShippedAt:   now,
		Lines:       slices.Clone(lines),
	}
	for _, pl := range splitUnits(lines, nPkg) {
		s.pkgSeq++
		tn := trackingNumber(carrier)
		sh.Packages = append(sh.Packages, order.Package{
			ID:             s.newID("P", s.pkgSeq),
			Carrier:        carrier.Name,
			Service:        carrier.Service,
			TrackingNumber: tn,
			TrackingURL:    strings.ReplaceAll(carrier.TrackingURL, "{tracking}", tn),
			Lines:          pl,
		})
	}
	return sh
}

// splitUnits splits the units of lines, in order, into n packages of near
// equal size (fewer if there are fewer units). Every package gets at least
// one unit and the packages' quantities add up to the lines'.
func splitUnits(lines []order.ShipmentLine, n int) [][]order.ShipmentLine {
	total := 0
	for _, l := range lines {
		total += max(l.Quantity, 0)
	}
	n = max(min(n, total), 1)
	out := make([][]order.ShipmentLine, n)
	for k := range n {
		lo, hi := k*total/n, (k+1)*total/n
		off := 0
		for _, l := range lines {
			q := max(l.Quantity, 0)
			a, b := max(off, lo), min(off+q, hi)
			if b > a {
				out[k] = append(out[k], order.ShipmentLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: b - a})
			}
			off += q
		}
	}
	return out
}
