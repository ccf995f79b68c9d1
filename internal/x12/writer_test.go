package x12

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

func sampleInterchange() *Interchange {
	return &Interchange{
		ISA: NewSegment("ISA", "00", "", "00", "", "ZZ", "CROSSDOCK", "ZZ", "3PL", "260714", "1200", "U", "00401", "", "0", "P", ">"),
		Groups: []*FunctionalGroup{{
			GS: NewSegment("GS", "OW", "CROSSDOCK", "3PL", "20260714", "1200", "", "X", "004010"),
			Sets: []*TransactionSet{
				{ST: NewSegment("ST", "940", ""), Segments: []Segment{NewSegment("W05", "N", "ORDER1", "PO1"), NewSegment("LX", "1")}},
				{ST: NewSegment("ST", "940", ""), Segments: []Segment{NewSegment("W05", "N", "ORDER2")}},
			},
		}},
	}
}

// TestWriterStrict proves the writer pads the ISA to 106 characters, takes
// control numbers from ControlNumbers, writes exact counts and pairs trailers.
func TestWriterStrict(t *testing.T) {
	var nums MemoryControlNumbers
	nums.Set("3pl", KindGroup, 41)
	out, ic, err := Encode(context.Background(), sampleInterchange(), WriterOptions{Numbers: &nums, Partner: "3pl", Newline: "\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := "ISA*00*          *00*          *ZZ*CROSSDOCK      *ZZ*3PL            *260714*1200*U*00401*000000001*0*P*>~\n" +
		"GS*OW*CROSSDOCK*3PL*20260714*1200*42*X*004010~\n" +
		"ST*940*0001~\nW05*N*ORDER1*PO1~\nLX*1~\nSE*4*0001~\n" +
		"ST*940*0002~\nW05*N*ORDER2~\nSE*3*0002~\n" +
		"GE*2*42~\nIEA*1*000000001~\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if i := strings.IndexByte(string(out), '~'); i != 105 {
		t.Errorf("ISA terminator at %d, want 105", i)
	}
	if ic.Groups[0].ControlNumber() != "42" || ic.ControlNumber() != "000000001" {
		t.Errorf("returned envelope numbers: %s %s", ic.ControlNumber(), ic.Groups[0].ControlNumber())
	}
	// Second interchange for the same partner gets the next numbers.
	out, _, err = Encode(context.Background(), sampleInterchange(), WriterOptions{Numbers: &nums, Partner: "3pl"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "*000000002*") || !strings.Contains(string(out), "GE*2*43~") || !strings.Contains(string(out), "ST*940*0003~") {
		t.Errorf("second interchange numbers wrong: %s", out)
	}
}

// TestWriterRefusesDelimiters proves values containing any delimiter (or a
// line break) are refused with an error naming segment and element.
func TestWriterRefusesDelimiters(t *testing.T) {
	for _, tc := range []struct {
		value, want string
	}{
		{"A*B", "W0502"},
		{"A>B", "W0502"},
		{"A~B", "W0502"},
		{"A\nB", "W0502"},
	} {
		ic := sampleInterchange()
		ic.Groups[0].Sets[0].Segments[0] = NewSegment("W05", "N", tc.value)
		_, _, err := Encode(context.Background(), ic, WriterOptions{Delimiters: DefaultDelimiters, Numbers: &MemoryControlNumbers{}})
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Segment != "W05" || ve.Element != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("value %q: err = %v", tc.value, err)
		}
	}
	// 5010: '^' is the repetition separator and is refused in values.
	ic5 := sampleInterchange()
	ic5.ISA.Elements[11] = Simple("00501")
	ic5.Groups[0].Sets[0].Segments[0] = NewSegment("W05", "N", "A^B")
	if _, _, err := Encode(context.Background(), ic5, WriterOptions{Numbers: &MemoryControlNumbers{}}); err == nil || !strings.Contains(err.Error(), "W0502") || !strings.Contains(err.Error(), "repetition") {
		t.Errorf("5010 repetition: err = %v", err)
	}
	ic := sampleInterchange()
	ic.ISA.Elements[5] = Simple("WAY-TOO-LONG-SENDER-ID")
	if _, _, err := Encode(context.Background(), ic, WriterOptions{Numbers: &MemoryControlNumbers{}}); err == nil || !strings.Contains(err.Error(), "ISA06") {
		t.Errorf("long ISA06: err = %v", err)
	}
	if _, _, err := Encode(context.Background(), sampleInterchange(), WriterOptions{Delimiters: Delimiters{Element: '*', Component: '*', Segment: '~'}}); err == nil {
		t.Error("duplicate delimiters accepted")
	}
	if _, _, err := Encode(context.Background(), sampleInterchange(), WriterOptions{}); err == nil {
		t.Error("missing control numbers accepted without ControlNumbers")
	}
}

// TestMemoryControlNumbersConcurrent proves numbers are unique and rising
// per partner and kind under concurrent use, and wrap to 1.
func TestMemoryControlNumbersConcurrent(t *testing.T) {
	var m MemoryControlNumbers
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				for _, p := range []string{"a", "b"} {
					n, err := m.Next(context.Background(), p, KindSet)
					if err != nil {
						t.Error(err)
						return
					}
					k := fmt.Sprint(p, n)
					mu.Lock()
					if seen[k] {
						t.Errorf("duplicate %s", k)
					}
					seen[k] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := m.Next(context.Background(), "a", KindSet); n != 1601 {
		t.Errorf("next = %d, want 1601", n)
	}
	if n, _ := m.Next(context.Background(), "a", KindGroup); n != 1 {
		t.Errorf("group counter not separate: %d", n)
	}
	m.Set("a", KindInterchange, MaxControlNumber)
	if n, _ := m.Next(context.Background(), "a", KindInterchange); n != 1 {
		t.Errorf("wrap = %d", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Next(ctx, "a", KindSet); err == nil {
		t.Error("cancelled context ignored")
	}
}

const punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// TestRapidRoundTrip: random envelopes with random delimiters and values
// free of delimiters round-trip exactly through Write and Parse, and the
// written output always validates with zero warnings.
func TestRapidRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nums := &MemoryControlNumbers{}
		var buf bytes.Buffer
		var written []*Interchange
		nIC := rapid.IntRange(1, 3).Draw(rt, "interchanges")
		for i := 0; i < nIC; i++ {
			ds := rapid.SliceOfNDistinct(rapid.SampledFrom([]byte(punct)), 4, 4, rapid.ID[byte]).Draw(rt, "delims")
			d := Delimiters{Element: ds[0], Component: ds[1], Segment: ds[2]}
			if rapid.Bool().Draw(rt, "rep") {
				d.Repetition = ds[3]
			}
			alphabet := []rune(" ABCXYZabc0189-.,/éü" + punct)
			var allowed []rune
			for _, r := range alphabet {
				if r != rune(d.Element) && r != rune(d.Component) && r != rune(d.Segment) && r != rune(d.Repetition) {
					allowed = append(allowed, r)
				}
			}
			val := rapid.StringOf(rapid.SampledFrom(allowed))
			isaVal := func(n int) *rapid.Generator[string] {
				return rapid.StringOfN(rapid.SampledFrom([]rune("ABZ019 ")), 0, n, -1)
			}
			ic := &Interchange{ISA: NewSegment("ISA", "00", isaVal(10).Draw(rt, "isa02"), "00", "", "ZZ", isaVal(15).Draw(rt, "isa06"),
				"ZZ", isaVal(15).Draw(rt, "isa08"), "260101", "1200", "", "00401", "", "0", "T", "")}
			if d.Repetition != 0 {
				ic.ISA.setValue(12, "00501")
			}
			element := func(label string) Element {
				reps := 1
				if d.Repetition != 0 {
					reps = rapid.IntRange(1, 2).Draw(rt, label+"reps")
				}
				e := make(Element, reps)
				for k := range e {
					e[k] = rapid.SliceOfN(val, 1, 3).Draw(rt, label)
				}
				return e
			}
			for g := rapid.IntRange(0, 3).Draw(rt, "groups"); g > 0; g-- {
				fg := &FunctionalGroup{GS: NewSegment("GS", "OW", "A", "B", "20260101", "1200", "", "X", "004010")}
				for s := rapid.IntRange(0, 3).Draw(rt, "sets"); s > 0; s-- {
					ts := &TransactionSet{ST: NewSegment("ST", "940", "")}
					for n := rapid.IntRange(0, 5).Draw(rt, "segs"); n > 0; n-- {
						seg := Segment{ID: rapid.StringMatching(`[A-Z][A-Z0-9]{1,2}`).Filter(func(s string) bool {
							switch s {
							case "ISA", "IEA", "GS", "GE", "ST", "SE":
								return false
							}
							return true
						}).Draw(rt, "id")}
						for e := rapid.IntRange(0, 6).Draw(rt, "elements"); e > 0; e-- {
							seg.Elements = append(seg.Elements, element("el"))
						}
						ts.Segments = append(ts.Segments, seg)
					}
					fg.Sets = append(fg.Sets, ts)
				}
				ic.Groups = append(ic.Groups, fg)
			}
			nl := rapid.SampledFrom([]string{"", "\n", "\r\n"}).Draw(rt, "newline")
			out, err := NewWriter(&buf, WriterOptions{Delimiters: d, Newline: nl, Numbers: nums, Partner: "p"}).Write(context.Background(), ic)
			if err != nil {
				rt.Fatalf("write: %v", err)
			}
			written = append(written, out)
		}
		got, ws, err := Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			rt.Fatalf("parse: %v\n%q", err, buf.String())
		}
		if len(ws) != 0 {
			rt.Fatalf("warnings on written output: %v\n%q", ws, buf.String())
		}
		if diff := cmp.Diff(segmentsOf(written), segmentsOf(got), ignorePos, cmpopts.EquateEmpty()); diff != "" {
			rt.Fatalf("round trip (-written +parsed):\n%s", diff)
		}
		for i, ic := range got {
			if ic.Delimiters != written[i].Delimiters {
				rt.Fatalf("delimiters %+v, wrote %+v", ic.Delimiters, written[i].Delimiters)
			}
			if !sameCount(ic.IEA.Value(1), len(ic.Groups)) || ic.IEA.Value(2) != ic.ISA.Value(13) {
				rt.Fatalf("IEA does not validate")
			}
			for _, g := range ic.Groups {
				if !sameCount(g.GE.Value(1), len(g.Sets)) || g.GE.Value(2) != g.GS.Value(6) {
					rt.Fatalf("GE does not validate")
				}
				for _, s := range g.Sets {
					if !sameCount(s.SE.Value(1), len(s.Segments)+2) || s.SE.Value(2) != s.ST.Value(2) {
						rt.Fatalf("SE does not validate")
					}
				}
			}
		}
	})
}
