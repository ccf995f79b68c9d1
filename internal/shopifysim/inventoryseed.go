package shopifysim

import (
	"fmt"
	"strings"
)

// maxSeedQuantity is the largest quantity Shopify accepts for a level.
const maxSeedQuantity = 1_000_000_000

// InventorySeedItem is one inventory item loaded by SeedInventory.
type InventorySeedItem struct {
	// SKU is the variant's and inventory item's SKU (required).
	SKU string
	// Barcode is the variant's barcode (optional).
	Barcode string
	// Available is the available quantity at each location passed to
	// SeedInventory, in the same order (0 … 1,000,000,000).
	Available []int
}

// SeedInventory loads inventory directly, without the API and its rate
// limit, for tests and benchmarks of large catalogues: one product (titled
// after the SKU) with one tracked variant per item, stocked at every
// location, with the available quantity set at the locations locationIDs
// (Location GIDs); other quantities stay 0. Nothing is created when an
// item or location is invalid. It returns the variants in item order.
func (s *Server) SeedInventory(locationIDs []string, items []InventorySeedItem) ([]VariantState, error) {
	s.mu.RLock()
	for _, id := range locationIDs {
		if s.st.locByGID(id) == nil {
			s.mu.RUnlock()
			return nil, fmt.Errorf("shopifysim: seed inventory: unknown location %q", id)
		}
	}
	s.mu.RUnlock()
	products := make([]ProductInput, len(items))
	for i, it := range items {
		if strings.TrimSpace(it.SKU) == "" {
			return nil, fmt.Errorf("shopifysim: seed inventory: item %d: SKU is required", i)
		}
		if len(it.Available) != len(locationIDs) {
			return nil, fmt.Errorf("shopifysim: seed inventory: item %d (%s): %d available quantities for %d locations", i, it.SKU, len(it.Available), len(locationIDs))
		}
		for j, q := range it.Available {
			if q < 0 || q > maxSeedQuantity {
				return nil, fmt.Errorf("shopifysim: seed inventory: item %d (%s): available %d at %s is outside 0..%d", i, it.SKU, q, locationIDs[j], maxSeedQuantity)
			}
		}
		products[i] = ProductInput{Title: it.SKU, Variants: []VariantInput{{SKU: it.SKU, Barcode: it.Barcode}}}
	}
	created, err := s.AddProducts(products)
	if err != nil {
		return nil, fmt.Errorf("shopifysim: seed inventory: %w", err)
	}
	out := make([]VariantState, len(created))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	locs := make([]*location, len(locationIDs))
	for j, id := range locationIDs {
		locs[j] = s.st.locByGID(id)
	}
	for i, p := range created {
		v := p.Variants[0]
		out[i] = v
		it := s.st.itemByGID(v.InventoryItemID)
		for j, l := range locs {
			lv := s.st.ensureLevel(it, l, now)
			lv.q.available = items[i].Available[j]
			lv.updatedAt = now
		}
	}
	return out, nil
}
