package catalog

import "testing"

// BenchmarkAudit runs the rules over a 10,000-variant synthetic catalogue
// with 20 defects of each kind and two warehouses.
func BenchmarkAudit(b *testing.B) {
	s, err := Synthesize(10000, 20, 1)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := s.Input()
	b.ReportAllocs()
	for b.Loop() {
		if r := Audit(in); len(r.Findings) != 160 {
			b.Fatalf("%d findings", len(r.Findings))
		}
	}
}
