package route

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestSplitWholeLinesByRank(t *testing.T) {
	t.Parallel()
	cands := []Candidate{
		{Warehouse: "newark", Rank: 2, Available: map[string]int{"B": 5, "C": 1}},
		{Warehouse: "paris", Rank: 1, Available: map[string]int{"A": 5, "C": 1}},
	}
	need := map[string]int{"A": 2, "B": 1, "C": 1}
	parts, ok := Split(need, cands)
	want := []Part{{Warehouse: "paris", Rank: 1, SKUs: []string{"A", "C"}}, {Warehouse: "newark", Rank: 2, SKUs: []string{"B"}}}
	if d := cmp.Diff(want, parts); !ok || d != "" {
		t.Fatalf("split ok=%v (-want +got):\n%s", ok, d)
	}
	if got, w := Describe(need, parts), "lines A×2 + C×1 to paris, B×1 to newark"; got != w {
		t.Errorf("Describe = %q, want %q", got, w)
	}
	// One warehouse can ship it all: no split. A SKU nobody can ship whole:
	// no split either.
	if _, ok := Split(map[string]int{"A": 1}, cands); ok {
		t.Error("split an order one warehouse ships")
	}
	if _, ok := Split(map[string]int{"A": 1, "B": 6}, cands); ok {
		t.Error("split an order whose SKU B no warehouse can ship")
	}
}

func TestSplitProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		skus := []string{"A", "B", "C", "D"}
		n := rapid.IntRange(0, 4).Draw(t, "warehouses")
		var cands []Candidate
		for i := range n {
			av := map[string]int{}
			for _, s := range skus {
				av[s] = rapid.IntRange(-1, 4).Draw(t, "av")
			}
			cands = append(cands, Candidate{Warehouse: fmt.Sprintf("w%d", i), Rank: rapid.IntRange(1, 5).Draw(t, "rank"), Available: av})
		}
		need := map[string]int{}
		for _, s := range skus[:rapid.IntRange(1, len(skus)).Draw(t, "lines")] {
			need[s] = rapid.IntRange(1, 3).Draw(t, "need")
		}
		parts, ok := Split(need, cands)
		if !ok {
			return
		}
		byName := map[string]Candidate{}
		for _, c := range cands {
			byName[c.Warehouse] = c
		}
		seen := map[string]bool{}
		if len(parts) < 2 {
			t.Fatalf("split into %d part(s)", len(parts))
		}
		for i, p := range parts {
			if i > 0 && parts[i-1].Rank > p.Rank {
				t.Fatalf("parts out of rank order: %+v", parts)
			}
			for _, s := range p.SKUs {
				if seen[s] {
					t.Fatalf("SKU %s in two parts: %+v", s, parts)
				}
				seen[s] = true
				if byName[p.Warehouse].Available[s] < need[s] {
					t.Fatalf("%s given %s it cannot ship: %+v", p.Warehouse, s, parts)
				}
			}
		}
		if len(seen) != len(need) {
			t.Fatalf("parts cover %d of %d SKUs: %+v", len(seen), len(need), parts)
		}
	})
}
