package x12

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// w is a compact expected warning: kind, segment ID, segment index, line, byte offset.
type w struct {
	Kind   WarningKind
	Seg    string
	Index  int
	Line   int
	Offset int
}

func compact(ws []Warning) []w {
	var out []w
	for _, x := range ws {
		out = append(out, w{x.Kind, x.Segment, x.Pos.Index, x.Pos.Line, x.Pos.Offset})
	}
	return out
}

// bareSets are the samples that hold only ST..SE (no ISA); they use '*' and '~'.
func isBare(path string) bool {
	return strings.Contains(path, "transaction-only") || strings.Contains(path, "/997-")
}

// sampleWarnings is every sample file with exactly the warnings it must give.
var sampleWarnings = map[string][]w{
	"edi-engine/856.Crossdock.OK.edi": nil,
	"edi-engine/940.2.OK.edi":         nil,
	"edi-engine/940.OK.edi":           nil,
	"edi-engine/940.W05.Only.edi":     nil, // missing loops are a schema matter, not an envelope one
	"edi-engine/940_Failed_SE01.edi": {
		{WarnSegmentCount, "SE", 10, 11, 307}, // SE*12, 9 segments
	},
	"edi-engine/AckTest.edi": nil,
	"edi-engine/ControlNumbersMismatch.edi": {
		{WarnSetControl, "SE", 6, 7, 265},       // SE*5*0002 vs ST*940*0001
		{WarnGroupControl, "GE", 7, 8, 275},     // GE*1*3315 vs GS06 3314
		{WarnInterchangeCtrl, "IEA", 8, 9, 285}, // 000003439 vs 000003438
	},
	"edi-engine/WrongGroupsAndTranCount.edi": {
		{WarnSetCount, "GE", 7, 8, 275},    // GE*2, one set
		{WarnGroupCount, "IEA", 8, 9, 285}, // IEA*2, one group; IEA02 3438 pairs with 000003438
	},
	"stupidedi/004010-AR943-pass-1.edi": nil,
	"stupidedi/004010-RE944-pass-1.edi": nil,
	"stupidedi/004010-FA997-pass-1.edi": {
		{WarnISAFieldWidth, "ISA", 0, 1, 0}, // ISA06 has 12 characters
	},
	"stupidedi/004010-SH856-fail-2.edi": {
		// '$' terminator; N1~N3~N4~ lines end in '~' + blank line, so they
		// merge into one N1 (with a line break) and SE01 25 no longer matches.
		{WarnLineBreak, "N1", 12, 13, 357},
		{WarnSegmentCount, "SE", 23, 29, 655},
	},
	"x12-types-extracted/846-x12types-minimal-5010.x12": nil,
	"x12-types-extracted/940-1edisource.x12": {
		{WarnGroupControl, "GE", 31, 32, 874},     // GE02 575103 vs GS06 3317
		{WarnInterchangeCtrl, "IEA", 32, 33, 887}, // "3317     " vs 000003438
	},
	"x12-types-extracted/940-generalmills-cancel-W05F.x12": {
		{WarnISA16Missing, "ISA", 0, 1, 0},
	},
	"x12-types-extracted/940-generalmills-change-W05R.x12": {
		{WarnISA16Missing, "ISA", 0, 1, 0},
	},
	"x12-types-extracted/940-generalmills-new.x12": {
		{WarnLineBreak, "W01", 17, 18, 575},
		{WarnLineBreak, "W01", 19, 21, 664},
	},
	"x12-types-extracted/945-simplot-transaction-only.x12": {
		{WarnSegmentCount, "SE", 28, 29, 803}, // SE*32, 29 segments
	},
	"x12-types-extracted/846-x12types-two-items-transaction-only.x12": nil,
	"x12-types-extracted/997-boomi-partial.x12":                       nil,
	"x12-types-extracted/997-boomi-rejected-AK3-AK4.x12":              nil,
	"x12-types-extracted/997-sap-accepted.x12":                        nil,
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseSample parses a sample; bare ST..SE samples are wrapped in one
// interchange/group so that every test can treat them alike.
func parseSample(t *testing.T, name string) ([]*Interchange, []Warning) {
	t.Helper()
	b := readSample(t, name)
	if isBare("/" + name) {
		sets, ws, err := ParseSets(bytes.NewReader(b), DefaultDelimiters)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ic := &Interchange{ISA: NewSegment("ISA", "00", "", "00", "", "ZZ", "A", "ZZ", "B", "260101", "1200", "U", "00401", "1", "0", "T", ">"),
			Delimiters: DefaultDelimiters,
			Groups:     []*FunctionalGroup{{GS: NewSegment("GS", "XX", "A", "B", "20260101", "1200", "1", "X", "004010"), Sets: sets}}}
		return []*Interchange{ic}, ws
	}
	ics, ws, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ics, ws
}

// TestSamplesWarnings proves every sample parses and gives exactly the
// expected warnings at the expected positions (and no others).
func TestSamplesWarnings(t *testing.T) {
	all, err := filepath.Glob("testdata/*/*")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.ToSlash(f), "testdata/fuzz/") { // the fuzzer's corpus, not samples
			files = append(files, f)
		}
	}
	if len(files) != len(sampleWarnings) {
		t.Errorf("testdata has %d samples, table has %d", len(files), len(sampleWarnings))
	}
	for _, f := range files {
		name := strings.TrimPrefix(filepath.ToSlash(f), "testdata/")
		t.Run(name, func(t *testing.T) {
			want, ok := sampleWarnings[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			ics, ws := parseSample(t, name)
			if len(ics) == 0 {
				t.Fatal("no interchange")
			}
			if diff := cmp.Diff(want, compact(ws)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
				for _, x := range ws {
					t.Log(x)
				}
			}
		})
	}
}

// TestSampleDetails checks delimiters and structure read from awkward ISAs.
func TestSampleDetails(t *testing.T) {
	ics, _ := parseSample(t, "stupidedi/004010-FA997-pass-1.edi")
	ic := ics[0]
	if got, want := ic.Delimiters, (Delimiters{Element: '*', Component: '`', Segment: '\n'}); got != want {
		t.Errorf("FA997 delimiters = %+v, want %+v", got, want)
	}
	if got := ic.ISA.Value(6); got != "XXXXXX      " {
		t.Errorf("ISA06 = %q", got)
	}
	if got := ic.ControlNumber(); got != "300044350" {
		t.Errorf("ISA13 = %q", got)
	}
	if n := len(ic.Groups[0].Sets[0].Segments); n != 4 {
		t.Errorf("FA997 body has %d segments, want 4", n)
	}

	ics, _ = parseSample(t, "x12-types-extracted/940-generalmills-new.x12")
	set := ics[0].Groups[0].Sets[0]
	w01 := set.Segments[14]
	if w01.ID != "W01" || w01.Value(15) != "PI" || w01.Value(16) != "001089" {
		t.Errorf("W01 across the line break = %+v", w01)
	}
	if ics[0].Delimiters.Component != '\\' {
		t.Errorf("component = %q", ics[0].Delimiters.Component)
	}

	ics, _ = parseSample(t, "x12-types-extracted/940-generalmills-change-W05R.x12")
	if d := ics[0].Delimiters; d.Segment != '~' || d.Component != 0 {
		t.Errorf("W05R delimiters = %+v", d)
	}
	if got := ics[0].Groups[0].Sets[0].Segments[0].Value(1); got != "R" {
		t.Errorf("W05-01 = %q", got)
	}

	ics, _ = parseSample(t, "edi-engine/AckTest.edi")
	if g := ics[0].Groups; len(g) != 2 || len(g[0].Sets) != 2 || len(g[1].Sets) != 1 {
		t.Errorf("AckTest structure wrong")
	}

	ics, _ = parseSample(t, "x12-types-extracted/846-x12types-minimal-5010.x12")
	// 5010 ISA11 is "U" here, so no repetition separator.
	if d := ics[0].Delimiters; d.Repetition != 0 || d.Component != '>' {
		t.Errorf("846 delimiters = %+v", d)
	}
}

// segmentsOf flattens an interchange to its segments (positions dropped).
func segmentsOf(ics []*Interchange) []Segment {
	var out []Segment
	for _, ic := range ics {
		out = append(out, ic.ISA)
		for _, g := range ic.Groups {
			out = append(out, g.GS)
			for _, s := range g.Sets {
				out = append(out, s.ST)
				out = append(out, s.Segments...)
				out = append(out, s.SE)
			}
			out = append(out, g.GE)
		}
		out = append(out, ic.IEA)
	}
	return out
}

var ignorePos = cmpopts.IgnoreFields(Segment{}, "Pos")

// TestSamplesRoundTrip proves parse → write → parse keeps every body
// segment (ST..SE contents, GS and ISA identity fields) and that the
// written file has zero warnings, i.e. its counts and control numbers pair.
func TestSamplesRoundTrip(t *testing.T) {
	for name := range sampleWarnings {
		t.Run(name, func(t *testing.T) {
			ics, _ := parseSample(t, name)
			for _, nl := range []string{"", "\r\n"} {
				var buf bytes.Buffer
				var written []*Interchange
				var term byte
				for _, ic := range ics {
					d := ic.Delimiters
					if d.Component == 0 {
						d.Component = '>'
					}
					if d.Segment == '\n' {
						d.Segment = '~'
					}
					term = d.Segment
					out, err := NewWriter(&buf, WriterOptions{Delimiters: d, Newline: nl}).Write(context.Background(), ic)
					if err != nil {
						t.Fatalf("write: %v", err)
					}
					written = append(written, out)
				}
				if len(ics) == 1 && (!bytes.HasPrefix(buf.Bytes(), []byte("ISA")) || bytes.IndexByte(buf.Bytes(), term) != 105) {
					t.Errorf("ISA not 106 characters: %q", buf.String()[:107])
				}
				again, ws, err := Parse(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatalf("reparse: %v\n%s", err, buf.String())
				}
				if len(ws) != 0 {
					t.Errorf("written output has warnings: %v", ws)
				}
				if diff := cmp.Diff(segmentsOf(written), segmentsOf(again), ignorePos, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("written vs reparsed (-want +got):\n%s", diff)
				}
				// Bodies are unchanged from the original parse.
				for i := range ics {
					for j := range ics[i].Groups {
						for k := range ics[i].Groups[j].Sets {
							a, b := ics[i].Groups[j].Sets[k], again[i].Groups[j].Sets[k]
							if diff := cmp.Diff(a.Segments, b.Segments, ignorePos, cmpopts.EquateEmpty()); diff != "" {
								t.Errorf("set body changed (-orig +reparsed):\n%s", diff)
							}
							if diff := cmp.Diff(a.ST, b.ST, ignorePos); diff != "" {
								t.Errorf("ST changed:\n%s", diff)
							}
						}
					}
				}
			}
		})
	}
}
