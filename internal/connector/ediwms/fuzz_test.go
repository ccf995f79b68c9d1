package ediwms_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/x12"
)

// FuzzMappers feeds X12 bytes, seeded with the real samples of the x12
// package, through the reader and every set mapper (940, 945, 846, 944,
// 947) under the MAN and N9 tracking profiles: none may panic, and what a
// mapper accepts must be well-formed (a 945 shipment has a reference and
// positive line quantities; movements and stock items have a SKU; every
// 846 LIN is a stock item or a rejected line, never both for one SKU).
func FuzzMappers(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "x12", "testdata", "*", "*"))
	for _, file := range files {
		if st, err := os.Stat(file); err != nil || st.IsDir() || filepath.Ext(file) == ".md" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	profiles := []ediwms.Profile{testProfile, {SenderID: "A", ReceiverID: "B", TrackingIn: "N9", TrackingQualifier: "LV", UOMFactors: map[string]int{"CS": 12}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		ics, _, err := x12.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		var sets []*x12.TransactionSet
		for _, ic := range ics {
			for _, g := range ic.Groups {
				sets = append(sets, g.Sets...)
			}
		}
		for _, p := range profiles {
			items, rejected, _ := ediwms.Read846(sets, p)
			lins := 0
			for _, set := range sets {
				if set.Code() == "846" {
					for _, s := range set.Segments {
						if s.ID == "LIN" {
							lins++
						}
					}
				}
			}
			skus := map[string]bool{}
			for _, it := range items {
				if it.SKU == "" || it.OnHand < 0 || it.Available < 0 || it.Available > it.OnHand || skus[it.SKU] {
					t.Fatalf("bad stock item %+v", it)
				}
				skus[it.SKU] = true
			}
			// Every LIN is an item or a rejected line (a SKU on several
			// LIN may be one item), and no SKU is both.
			for i, r := range rejected {
				if r.Reason == "" || r.Index < 0 || r.Index >= lins || (i > 0 && r.Index <= rejected[i-1].Index) || skus[r.SKU] {
					t.Fatalf("bad rejected line %+v in %+v", r, rejected)
				}
			}
			if len(items)+len(rejected) > lins || (lins > 0 && len(items)+len(rejected) == 0) {
				t.Fatalf("%d LIN gave %d items and %d rejected lines", lins, len(items), len(rejected))
			}
			for _, set := range sets {
				if o, _, err := ediwms.Read940(set); err == nil && o.Order.ExternalRef == "" {
					t.Fatalf("940 accepted without a reference: %+v", o)
				}
				if sh, _, err := ediwms.Read945(set, p); err == nil {
					if sh.ExternalRef == "" || len(sh.Lines) == 0 {
						t.Fatalf("945 accepted without reference or lines: %+v", sh)
					}
					for _, l := range sh.Lines {
						if l.Quantity <= 0 {
							t.Fatalf("945 line with quantity %d", l.Quantity)
						}
					}
				}
				for _, read := range []func(*x12.TransactionSet, ediwms.Profile, string) ([]connector.StockMovement, []string, error){ediwms.Read944, ediwms.Read947} {
					mvs, _, err := read(set, p, "id")
					if err != nil {
						continue
					}
					for _, m := range mvs {
						if m.SKU == "" || m.ID == "" {
							t.Fatalf("movement without SKU or id: %+v", m)
						}
					}
				}
			}
		}
	})
}
