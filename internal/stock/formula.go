package stock

import "time"

// Contribution is what one warehouse brings to a SKU's figure at a Shopify
// location, and why.
type Contribution struct {
	// Warehouse is the warehouse's id.
	Warehouse string `json:"warehouse"`
	// Snapshot is the sellable quantity of the warehouse's latest snapshot
	// of the SKU, taken at AsOf (zero time: never reported).
	Snapshot int       `json:"snapshot"`
	AsOf     time.Time `json:"as_of"`
	// Movements are the units received or adjusted after AsOf.
	Movements int `json:"movements"`
	// InFlight are units of orders routed to the warehouse that it had not
	// counted at AsOf (not acknowledged then, not cancelled).
	InFlight int `json:"in_flight"`
	// Buffer is the safety buffer held back.
	Buffer int `json:"buffer"`
	// Units is what the warehouse contributes: Snapshot + Movements −
	// InFlight − Buffer, never below zero.
	Units int `json:"units"`
}

// Sellable is the warehouse's physical sellable quantity now, as far as
// the hub knows: the snapshot plus later movements.
func (c Contribution) Sellable() int { return c.Snapshot + c.Movements }

// Figure is the available-to-sell quantity of one SKU at one Shopify
// location.
type Figure struct {
	// Contributions are the location's warehouses, in rank order.
	Contributions []Contribution `json:"contributions"`
	// Cap, when above zero, is the most the location shows.
	Cap int `json:"cap,omitempty"`
	// Target is what Shopify should show: the sum of the contributions,
	// capped, never below zero.
	Target int `json:"target"`
}

// Compute fills each contribution's Units and the figure's Target. It is
// the engine's whole formula:
//
//	units(w)  = max(0, snapshot(w) + movements(w) − in_flight(w) − buffer(w))
//	target    = min(cap, Σ units(w))   (cap when > 0)
func Compute(f *Figure) {
	sum := 0
	for i := range f.Contributions {
		c := &f.Contributions[i]
		c.Units = max(0, c.Sellable()-c.InFlight-c.Buffer)
		sum += c.Units
	}
	if f.Cap > 0 && sum > f.Cap {
		sum = f.Cap
	}
	f.Target = max(0, sum)
}
