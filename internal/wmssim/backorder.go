package wmssim

import (
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// publishBackorder tells the hub that o could not be allocated, with the
// shortages of its last allocation attempt. The order stays acknowledged
// and ships once SetStock brings the stock (retryBackorders). s.mu is held.
func (s *Server) publishBackorder(o *simOrder, now time.Time) {
	short := make([]connector.Shortage, 0, len(o.shortages))
	for _, sh := range o.shortages {
		short = append(short, connector.Shortage{SKU: sh.SKU, Needed: sh.Needed, Available: sh.Available})
	}
	s.publish(connector.Event{Type: connector.EventBackordered, ExternalRef: o.wo.ExternalRef, At: now, Shortages: short})
}

// SetShortOnShelf makes the listed SKUs short on the shelf: the warehouse
// still reports their on-hand stock, but every order needing one of them
// is backordered at allocation (a backordered event with the shortage)
// until Restock brings the SKU in.
func (s *Server) SetShortOnShelf(skus ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shortShelf == nil {
		s.shortShelf = map[string]bool{}
	}
	for _, sku := range skus {
		s.shortShelf[sku] = true
	}
}

// Restock is a delivery: the listed SKUs are on the shelf again with the
// given on-hand quantities (SetStock), and backordered orders are retried,
// oldest first.
func (s *Server) Restock(onHand map[string]int) {
	s.mu.Lock()
	for sku := range onHand {
		delete(s.shortShelf, sku)
	}
	s.mu.Unlock()
	s.SetStock(onHand)
}

// shortOnShelf reports whether sku is short on the shelf. s.mu is held.
func (s *Server) shortOnShelf(sku string) bool { return s.shortShelf[sku] }
