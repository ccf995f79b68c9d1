package shopifysim

import (
	"fmt"
	"sync/atomic"
)

// SetVariantSKU renames a variant's SKU (and its inventory item's), as a
// merchant editing the product in the admin would; it emits no webhook.
// Rehearsals use it for "a SKU renamed in one system only".
func (s *Server) SetVariantSKU(from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.variantBySKU[from]
	if v == nil {
		return fmt.Errorf("shopifysim: unknown sku %q", from)
	}
	if _, taken := s.st.variantBySKU[to]; taken || to == "" {
		return fmt.Errorf("shopifysim: sku %q is empty or already used", to)
	}
	delete(s.st.variantBySKU, from)
	v.sku = to
	v.updatedAt = s.now().UTC()
	if v.item != nil {
		v.item.sku = to
	}
	s.st.variantBySKU[to] = v
	return nil
}

// SetBucket changes the cost bucket's size and restore rate (points per
// second) and fills it, e.g. to make GraphQL answer THROTTLED in a
// rehearsal.
func (s *Server) SetBucket(size, restorePerSecond float64) {
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	s.cfg.BucketSize, s.cfg.RestoreRate = size, restorePerSecond
	s.bucketLeft, s.bucketAt = size, s.now()
}

// DeliveredCount is the number of deliveries of a topic (REST form, e.g.
// orders/create) answered with 2xx, duplicates included.
func (s *Server) DeliveredCount(topic string) int {
	n, ok := s.ctr.sentByTopic.Load(topic)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int64).Load())
}
