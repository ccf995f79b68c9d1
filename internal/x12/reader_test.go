package x12

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const isa106 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260714*1200*U*00401*000000007*0*P*>"

// TestParseTolerance proves delimiters come from the ISA whatever they are,
// CR/LF and whitespace around segments are ignored, the unterminated last
// segment is accepted and several interchanges are read.
func TestParseTolerance(t *testing.T) {
	in := "\xEF\xBB\xBF \r\n" + strings.ReplaceAll(isa106, "*", "|") + "`\r\n" +
		"  GS|OW|A|B|20260714|1200|7|X|004010`\r\n" +
		"ST|940|0001`W05|N|X>Y|PO`\r\n\r\nSE|3|0001`GE|1|7`IEA|1|7`\n\n" +
		isa106 + "~ GS*OW*A*B*20260714*1200*8*X*004010~ST*940*1~SE*2*1~GE*1*8~IEA*1*000000007"
	ics, ws, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	if len(ics) != 2 {
		t.Fatalf("%d interchanges", len(ics))
	}
	if d := ics[0].Delimiters; d != (Delimiters{Element: '|', Component: '>', Segment: '`'}) {
		t.Errorf("delimiters %+v", d)
	}
	w05 := ics[0].Groups[0].Sets[0].Segments[0]
	if diff := cmp.Diff(Element{{"X", "Y"}}, w05.Elements[1]); diff != "" {
		t.Errorf("W05-02 components: %s", diff)
	}
	if p := ics[0].Groups[0].GS.Pos; p.Index != 1 || p.Line != 3 || p.Offset != 116 {
		t.Errorf("GS position %+v", p)
	}
	if ics[1].Delimiters.Segment != '~' || ics[1].IEA.Value(2) != "000000007" {
		t.Errorf("second interchange: %+v", ics[1])
	}
}

// TestParseRepetition proves a 5010 ISA11 is used as repetition separator.
func TestParseRepetition(t *testing.T) {
	in := strings.Replace(isa106, "*U*00401*", "*^*00501*", 1) + "~GS*IB*A*B*1*1*1*X*005010~ST*846*1~REF*ZZ*a^b>c~SE*3*1~GE*1*1~IEA*1*7~"
	ics, ws, err := Parse(strings.NewReader(in))
	if err != nil || len(ws) != 0 {
		t.Fatal(err, ws)
	}
	got := ics[0].Groups[0].Sets[0].Segments[0].Elements[1]
	if diff := cmp.Diff(Element{{"a"}, {"b", "c"}}, got); diff != "" {
		t.Error(diff)
	}
}

// TestParseErrors proves structurally impossible input is an error with position.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		pos      Position
	}{
		{"empty", " \n", Position{Offset: 2, Line: 2}},
		{"no ISA", "GS*OW*A~", Position{Line: 1}},
		{"truncated ISA", "ISA*00*    *00*", Position{Line: 1}},
		{"no terminator", isa106[:len(isa106)-1], Position{Line: 1}},
		{"segment outside group", isa106 + "~W05*N~", Position{Index: 1, Offset: 106, Line: 1}},
		{"ST without GS", isa106 + "~ST*940*1~", Position{Index: 1, Offset: 106, Line: 1}},
		{"SE without ST", isa106 + "~GS*OW~\nSE*2*1~", Position{Index: 2, Offset: 113, Line: 2}},
		{"GE without GS", isa106 + "~GE*1*1~", Position{Index: 1, Offset: 106, Line: 1}},
		{"data after IEA", isa106 + "~IEA*0*7~\nGS*OW~", Position{Index: 2, Offset: 115, Line: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(strings.NewReader(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			if se.Pos != tc.pos {
				t.Errorf("pos = %+v, want %+v (%v)", se.Pos, tc.pos, err)
			}
		})
	}
}

// TestParseMissingTrailers proves missing SE/GE/IEA are warnings, not errors.
func TestParseMissingTrailers(t *testing.T) {
	in := isa106 + "~GS*OW*A*B*1*1*5*X*004010~ST*940*1~W05*N~ST*940*2~W05*N~SE*3*2~GS*OW*A*B*1*1*6*X*004010~ST*940*3~"
	ics, ws, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []w{
		{WarnMissingSE, "ST", 4, 1, 146},
		{WarnMissingGE, "GS", 7, 1, 168},
		{WarnMissingSE, "EOF", 9, 1, len(in)},
		{WarnMissingGE, "EOF", 9, 1, len(in)},
		{WarnMissingIEA, "EOF", 9, 1, len(in)},
	}
	if diff := cmp.Diff(want, compact(ws)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if g := ics[0].Groups; len(g) != 2 || len(g[0].Sets) != 2 || len(g[1].Sets) != 1 || g[0].Sets[0].SE.ID != "" {
		t.Errorf("structure wrong")
	}
}
