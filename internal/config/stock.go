package config

import (
	"fmt"
	"strings"
)

// Buffer is a safety buffer: units held back from what Shopify may sell.
// Units and Percent (of the warehouse's sellable quantity, rounded up) add
// up.
type Buffer struct {
	Units   int     `yaml:"units"`
	Percent float64 `yaml:"percent"`
}

// Of returns the units held back from a sellable quantity.
func (b Buffer) Of(sellable int) int {
	if sellable <= 0 {
		return b.Units
	}
	pct := 0
	if b.Percent > 0 {
		x := float64(sellable) * b.Percent / 100
		pct = int(x)
		if float64(pct) < x {
			pct++
		}
	}
	return b.Units + pct
}

// ShopStock is the shop's stock policy.
type ShopStock struct {
	// Buffer is the default safety buffer of every SKU at every warehouse.
	Buffer *Buffer `yaml:"buffer"`
	// Cap, when above zero, is the most Shopify shows at one location for
	// any SKU.
	Cap int `yaml:"cap"`
	// SKUs override the buffer or the cap for some SKUs (optionally at one
	// warehouse only).
	SKUs []SKUStock `yaml:"skus"`
	// Settle is how long a change of a Shopify level that the hub did not
	// make is left alone before it is judged a manual edit (an order placed
	// in Shopify lowers "available" a moment before its webhook reaches
	// the hub). Default 30s.
	Settle Duration `yaml:"settle"`
}

// SKUStock overrides the stock policy of one SKU.
type SKUStock struct {
	SKU string `yaml:"sku"`
	// Warehouse limits the override to one warehouse ("" = all).
	Warehouse string  `yaml:"warehouse"`
	Buffer    *Buffer `yaml:"buffer"`
	// Cap, when above zero, caps the SKU at every location.
	Cap int `yaml:"cap"`
}

// WarehouseStock is how one warehouse's figures enter the stock engine.
type WarehouseStock struct {
	// Buffer overrides the shop's default buffer at this warehouse.
	Buffer *Buffer `yaml:"buffer"`
	// MissingFromFull says what a SKU missing from a full snapshot means:
	// "zero" (default: the warehouse has none) or "keep" (the warehouse's
	// full snapshots omit SKUs it did not count; keep the last figure).
	MissingFromFull string `yaml:"missing_from_full"`
}

// BufferFor returns the buffer of a SKU at a warehouse: the SKU's own
// (warehouse-specific first), else the warehouse's, else the shop's.
func (s *Shop) BufferFor(warehouse, sku string) Buffer {
	var any *Buffer
	for _, o := range s.Stock.SKUs {
		if o.SKU != sku || o.Buffer == nil {
			continue
		}
		if o.Warehouse == warehouse {
			return *o.Buffer
		}
		if o.Warehouse == "" {
			any = o.Buffer
		}
	}
	if any != nil {
		return *any
	}
	for _, w := range s.Warehouses {
		if w.ID == warehouse && w.Stock.Buffer != nil {
			return *w.Stock.Buffer
		}
	}
	if s.Stock.Buffer != nil {
		return *s.Stock.Buffer
	}
	return Buffer{}
}

// CapFor returns the cap of a SKU at a location (0: none).
func (s *Shop) CapFor(sku string) int {
	c := s.Stock.Cap
	for _, o := range s.Stock.SKUs {
		if o.SKU == sku && o.Cap > 0 && (c == 0 || o.Cap < c) {
			c = o.Cap
		}
	}
	return c
}

func (s *Shop) validateStock() error {
	check := func(where string, b *Buffer) error {
		if b == nil {
			return nil
		}
		if b.Units < 0 || b.Percent < 0 || b.Percent > 100 {
			return fmt.Errorf("%s: buffer units must be ≥ 0 and percent within 0..100", where)
		}
		return nil
	}
	if err := check("stock", s.Stock.Buffer); err != nil {
		return err
	}
	if s.Stock.Cap < 0 {
		return fmt.Errorf("stock: cap must be ≥ 0")
	}
	for i, o := range s.Stock.SKUs {
		if strings.TrimSpace(o.SKU) == "" {
			return fmt.Errorf("stock.skus[%d]: sku is required", i)
		}
		if err := check(fmt.Sprintf("stock.skus[%d]", i), o.Buffer); err != nil {
			return err
		}
		if o.Cap < 0 {
			return fmt.Errorf("stock.skus[%d]: cap must be ≥ 0", i)
		}
		if o.Warehouse != "" {
			found := false
			for _, w := range s.Warehouses {
				found = found || w.ID == o.Warehouse
			}
			if !found {
				return fmt.Errorf("stock.skus[%d]: unknown warehouse %q", i, o.Warehouse)
			}
		}
	}
	for _, w := range s.Warehouses {
		if err := check("warehouse "+w.ID+" stock", w.Stock.Buffer); err != nil {
			return err
		}
		switch w.Stock.MissingFromFull {
		case "", "zero", "keep":
		default:
			return fmt.Errorf("warehouse %s stock.missing_from_full: %q is not zero or keep", w.ID, w.Stock.MissingFromFull)
		}
	}
	return nil
}
