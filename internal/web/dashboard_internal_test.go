package web

import (
	"math"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// TestLeadTimePercentiles: each percentile is one of the durations, they
// are ordered, and at least p of the durations are at or below the p-th
// percentile while fewer than p are strictly below it (nearest rank).
func TestLeadTimePercentiles(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		xs := rapid.SliceOfN(rapid.Float64Range(0, 1e6), 1, 300).Draw(t, "durations")
		in := append([]float64(nil), xs...)
		lt := leadTime(in)
		if lt.Count != len(xs) {
			t.Fatalf("count %d of %d", lt.Count, len(xs))
		}
		sorted := append([]float64(nil), xs...)
		sort.Float64s(sorted)
		if lt.Max != sorted[len(sorted)-1] {
			t.Fatalf("max %v, want %v", lt.Max, sorted[len(sorted)-1])
		}
		if !(lt.P50 <= lt.P90 && lt.P90 <= lt.P99 && lt.P99 <= lt.Max) {
			t.Fatalf("percentiles out of order: %+v", lt)
		}
		for _, c := range []struct {
			pct int
			v   float64
		}{{50, lt.P50}, {90, lt.P90}, {99, lt.P99}} {
			atOrBelow, below := 0, 0
			for _, x := range sorted {
				if x <= c.v {
					atOrBelow++
				}
				if x < c.v {
					below++
				}
			}
			need := int(math.Ceil(float64(c.pct) * float64(len(sorted)) / 100))
			if atOrBelow < need || below >= need {
				t.Fatalf("p%d = %v: %d at or below, %d below, %d durations", c.pct, c.v, atOrBelow, below, len(sorted))
			}
		}
	})
	if lt := leadTime(nil); lt.Count != 0 || lt.Max != 0 {
		t.Errorf("no duration: %+v", lt)
	}
}
