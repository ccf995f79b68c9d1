// Package route decides which warehouse ships an order (routing v1): the
// warehouses are tried in rank order and the whole order goes to the first
// one that can ship every line from its available stock. When none can, the
// order waits on a hold whose reason names what each warehouse lacks, unless
// several warehouses together can ship it (Split): then each SKU goes, whole,
// to the first ranked warehouse that can ship it.
package route

import (
	"fmt"
	"sort"
	"strings"
)

// Candidate is a warehouse and the stock it can promise now.
type Candidate struct {
	Warehouse string
	Rank      int
	// Available maps SKU to sellable units.
	Available map[string]int
}

// Decision is the outcome of routing, with the reason recorded on the
// order's timeline.
type Decision struct {
	// Warehouse is the chosen warehouse, or "" when the order must wait.
	Warehouse string
	Reason    string
}

// OK reports whether a warehouse was chosen.
func (d Decision) OK() bool { return d.Warehouse != "" }

// Choose routes an order whose lines need the given units per SKU.
func Choose(need map[string]int, cands []Candidate) Decision {
	cs := append([]Candidate(nil), cands...)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Rank < cs[j].Rank })
	skus := make([]string, 0, len(need))
	for s := range need {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	var why []string
	for _, c := range cs {
		var short []string
		for _, s := range skus {
			if have := c.Available[s]; have < need[s] {
				short = append(short, fmt.Sprintf("%s (needs %d, has %d)", s, need[s], max(have, 0)))
			}
		}
		if len(short) == 0 {
			r := fmt.Sprintf("routed to %s (rank %d): it can ship all %d SKU(s)", c.Warehouse, c.Rank, len(skus))
			if len(why) > 0 {
				r += "; skipped " + strings.Join(why, "; ")
			}
			return Decision{Warehouse: c.Warehouse, Reason: r}
		}
		why = append(why, fmt.Sprintf("%s lacks %s", c.Warehouse, strings.Join(short, ", ")))
	}
	if len(cs) == 0 {
		return Decision{Reason: "held: the shop has no warehouse"}
	}
	return Decision{Reason: "held: no warehouse can ship every line: " + strings.Join(why, "; ")}
}
