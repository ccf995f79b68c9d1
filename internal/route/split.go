package route

import (
	"fmt"
	"sort"
	"strings"
)

// Part is what one warehouse ships of a split order: the SKUs whose whole
// quantity it can ship.
type Part struct {
	Warehouse string
	Rank      int
	SKUs      []string
}

// Split is tried when Choose finds no warehouse that can ship every line:
// each SKU goes, whole, to the first ranked warehouse that can ship all of
// its units. It returns the parts in rank order, and ok only when every SKU
// found a warehouse and at least two warehouses are needed; a SKU no
// warehouse can ship whole leaves the order to Choose's hold. Lines are
// never split by quantity, so every warehouse order ships whole lines.
func Split(need map[string]int, cands []Candidate) (parts []Part, ok bool) {
	cs := append([]Candidate(nil), cands...)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Rank < cs[j].Rank })
	skus := make([]string, 0, len(need))
	for s := range need {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	byWH := map[string]int{} // warehouse → index in parts
	for _, s := range skus {
		found := false
		for _, c := range cs {
			if c.Available[s] >= need[s] {
				i, seen := byWH[c.Warehouse]
				if !seen {
					i = len(parts)
					byWH[c.Warehouse] = i
					parts = append(parts, Part{Warehouse: c.Warehouse, Rank: c.Rank})
				}
				parts[i].SKUs = append(parts[i].SKUs, s)
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	if len(parts) < 2 {
		return nil, false
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].Rank < parts[j].Rank })
	return parts, true
}

// Describe renders parts for the order's timeline: "lines A×2 + B×1 to
// paris, C×1 to newark".
func Describe(need map[string]int, parts []Part) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		ls := make([]string, 0, len(p.SKUs))
		for _, s := range p.SKUs {
			ls = append(ls, fmt.Sprintf("%s×%d", s, need[s]))
		}
		out = append(out, strings.Join(ls, " + ")+" to "+p.Warehouse)
	}
	return "lines " + strings.Join(out, ", ")
}
