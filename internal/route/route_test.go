package route

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestChooseFirstRankedThatCanShip(t *testing.T) {
	t.Parallel()
	cands := []Candidate{
		{Warehouse: "newark", Rank: 2, Available: map[string]int{"A": 5, "B": 5}},
		{Warehouse: "paris", Rank: 1, Available: map[string]int{"A": 5, "B": 1}},
	}
	d := Choose(map[string]int{"A": 1, "B": 2}, cands)
	if d.Warehouse != "newark" || !strings.Contains(d.Reason, "paris lacks B (needs 2, has 1)") {
		t.Fatalf("decision = %+v", d)
	}
	d = Choose(map[string]int{"A": 1, "B": 1}, cands)
	if d.Warehouse != "paris" {
		t.Fatalf("decision = %+v", d)
	}
	d = Choose(map[string]int{"Z": 1}, cands)
	if d.OK() || !strings.Contains(d.Reason, "held") || !strings.Contains(d.Reason, "Z (needs 1, has 0)") {
		t.Fatalf("decision = %+v", d)
	}
}

func TestChooseProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		skus := []string{"A", "B", "C"}
		n := rapid.IntRange(0, 4).Draw(t, "warehouses")
		var cands []Candidate
		for i := 0; i < n; i++ {
			av := map[string]int{}
			for _, s := range skus {
				av[s] = rapid.IntRange(-2, 5).Draw(t, "av")
			}
			cands = append(cands, Candidate{Warehouse: fmt.Sprintf("w%d", i), Rank: rapid.IntRange(1, 9).Draw(t, "rank"), Available: av})
		}
		need := map[string]int{}
		for _, s := range skus {
			if q := rapid.IntRange(0, 4).Draw(t, "q"); q > 0 {
				need[s] = q
			}
		}
		canShip := func(c Candidate) bool {
			for s, q := range need {
				if c.Available[s] < q {
					return false
				}
			}
			return true
		}
		d := Choose(need, cands)
		if d.Reason == "" {
			t.Fatal("no reason")
		}
		var chosen *Candidate
		for i := range cands {
			if cands[i].Warehouse == d.Warehouse {
				chosen = &cands[i]
			}
		}
		if d.OK() {
			if chosen == nil || !canShip(*chosen) {
				t.Fatalf("chose %q which cannot ship", d.Warehouse)
			}
			for _, c := range cands {
				if c.Rank < chosen.Rank && canShip(c) {
					t.Fatalf("skipped better-ranked %s", c.Warehouse)
				}
			}
		} else {
			for _, c := range cands {
				if canShip(c) {
					t.Fatalf("held although %s can ship", c.Warehouse)
				}
			}
		}
	})
}
