package order

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestAdvanceIsMonotonic(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		steps := rapid.SliceOf(rapid.IntRange(0, int(ProgressFulfilled))).Draw(t, "steps")
		cur, max := ProgressNew, ProgressNew
		for _, s := range steps {
			next, moved := Advance(cur, Progress(s))
			if next < cur {
				t.Fatalf("progress went back from %v to %v", cur, next)
			}
			if moved != (Progress(s) > cur) {
				t.Fatalf("moved=%v for %v -> %v", moved, cur, Progress(s))
			}
			cur = next
			if Progress(s) > max {
				max = Progress(s)
			}
		}
		if cur != max {
			t.Fatalf("final %v, want highest seen %v", cur, max)
		}
	})
}

func TestLateAcknowledgementKeepsShipped(t *testing.T) {
	t.Parallel()
	got, moved := Advance(ProgressShipped, ProgressAcknowledged)
	if got != ProgressShipped || moved {
		t.Fatalf("Advance(shipped, acknowledged) = %v, %v", got, moved)
	}
}

func TestParseProgressRoundTrip(t *testing.T) {
	t.Parallel()
	for p := ProgressNew; p <= ProgressFulfilled; p++ {
		got, err := ParseProgress(p.String())
		if err != nil || got != p {
			t.Fatalf("ParseProgress(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParseProgress("teleported"); err == nil {
		t.Fatal("unknown progress accepted")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := WarehouseOrder{ExternalRef: "CD-1", Lines: []Line{{LineNo: 1, SKU: "A", Quantity: 1}},
		ShipTo: Address{Name: "N", Address1: "1 rue", City: "Paris", PostalCode: "75001", CountryCode: "FR"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.ShipTo.City = ""
	bad.Lines = []Line{{LineNo: 1, SKU: " ", Quantity: 0}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("incomplete order accepted")
	}
	for _, want := range []string{"city", "no SKU", "quantity 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
