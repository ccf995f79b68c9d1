package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ediSamples are the real partner files kept by the x12 package (see
// internal/x12/testdata/README.md for their origin and defects).
const ediSamples = "../x12/testdata"

type ediOutput struct {
	Files []ediFile `json:"files"`
}

func runInspect(t *testing.T, args ...string) (int, ediOutput, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"edi", "inspect"}, args...), &out, &errb)
	var got ediOutput
	if strings.Contains(strings.Join(args, " "), "--json") {
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s\n%s", err, out.String(), errb.String())
		}
	}
	return code, got, out.String() + errb.String()
}

// TestEDIInspectEverySample: every sample file is readable (exit 0) and
// reports at least one transaction set.
func TestEDIInspectEverySample(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(ediSamples, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []string
	for _, f := range files {
		if !strings.Contains(filepath.ToSlash(f), "/fuzz/") {
			samples = append(samples, f)
		}
	}
	if len(samples) < 20 {
		t.Fatalf("found %d samples", len(samples))
	}
	code, got, text := runInspect(t, append([]string{"--json"}, samples...)...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	if len(got.Files) != len(samples) {
		t.Fatalf("%d reports for %d files", len(got.Files), len(samples))
	}
	for _, f := range got.Files {
		sets := 0
		for _, ic := range f.Interchanges {
			for _, g := range ic.Groups {
				sets += len(g.Sets)
			}
		}
		if !f.Readable || f.Error != nil || sets == 0 {
			t.Errorf("%s: readable %v, error %+v, %d sets", f.File, f.Readable, f.Error, sets)
		}
	}
}

// TestEDIInspectDetails: envelopes, counts and the positioned warnings of
// the control-number sample are in the JSON; a bare ST..SE file is read
// with a warning.
func TestEDIInspectDetails(t *testing.T) {
	t.Parallel()
	code, got, text := runInspect(t, filepath.Join(ediSamples, "edi-engine", "ControlNumbersMismatch.edi"), "--json",
		filepath.Join(ediSamples, "x12-types-extracted", "945-simplot-transaction-only.x12"))
	if code != 0 || len(got.Files) != 2 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	ic := got.Files[0].Interchanges[0]
	wantIC := ediInterchange{ControlNumber: "000003438", SenderQualifier: "ZZ", SenderID: "ABCDEFGHIJKLMNO", ReceiverQualifier: "ZZ",
		ReceiverID: "123456789012345", Date: "101127", Time: "1719", Version: "00400", Usage: "P",
		Delimiters:           ediDelimiters{Element: "*", Component: ">", Segment: "\n"},
		TrailerControlNumber: "000003439", DeclaredGroupCount: "1", Line: 1,
		Groups: []ediGroup{{FunctionalID: "OW", ControlNumber: "3314", Sender: "7705551212", Receiver: "3111350000", Version: "004010",
			TrailerControlNumber: "3315", DeclaredSetCount: "1", SegmentIndex: 1, Line: 2,
			Sets: []ediSet{{Code: "940", ControlNumber: "0001", SegmentCount: 5, DeclaredSegmentCount: "5", TrailerControlNumber: "0002", SegmentIndex: 2, Line: 3}}}},
	}
	if diff := cmp.Diff(wantIC, ic); diff != "" {
		t.Errorf("interchange (-want +got):\n%s", diff)
	}
	var kinds []string
	for _, w := range got.Files[0].Warnings {
		kinds = append(kinds, w.Kind+"@"+w.Segment+":"+itoaTest(w.SegmentIndex)+"/"+itoaTest(w.Line)+"/"+itoaTest(w.ByteOffset))
	}
	want := []string{"SE02 does not match ST02@SE:6/7/265", "GE02 does not match GS06@GE:7/8/275", "IEA02 does not match ISA13@IEA:8/9/285"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	bare := got.Files[1]
	if len(bare.Warnings) != 2 || bare.Warnings[0].Kind != "no envelope" || !strings.Contains(bare.Warnings[1].Message, `SE01 is "32", transaction set has 29 segments`) {
		t.Errorf("bare 945 warnings: %+v", bare.Warnings)
	}
}

// TestEDIInspectUnreadable: a file that is not X12, a truncated ISA and a
// missing file make the exit status 1; the readable file given with them is
// still reported; the error carries its position.
func TestEDIInspectUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notX12 := filepath.Join(dir, "notes.txt")
	truncated := filepath.Join(dir, "truncated.edi")
	if err := os.WriteFile(notX12, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, []byte("ISA*00*          *00*   "), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(ediSamples, "edi-engine", "940.OK.edi")
	code, got, text := runInspect(t, "--json", good, notX12, truncated, filepath.Join(dir, "missing.edi"))
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, text)
	}
	var res []string
	for _, f := range got.Files {
		msg := "ok"
		if f.Error != nil {
			msg = f.Error.Message
			if f.Error.Line != nil {
				msg += " @line " + itoaTest(*f.Error.Line)
			}
		}
		res = append(res, filepath.Base(f.File)+": "+msg)
	}
	if len(res) != 4 || res[0] != "940.OK.edi: ok" || res[1] != "notes.txt: expected ISA @line 1" ||
		!strings.HasPrefix(res[2], "truncated.edi: truncated ISA") || !strings.Contains(res[3], "no such file") {
		t.Errorf("results:\n%s", strings.Join(res, "\n"))
	}

	code, _, text = runInspect(t, notX12)
	if code != 1 || !strings.Contains(text, "error: segment 0 (line 1, byte 0): expected ISA") || !strings.Contains(text, "NOT READABLE") {
		t.Errorf("text output, exit %d:\n%s", code, text)
	}
}

// TestEDIInspectText: the text form lists the envelope tree and the
// warnings with positions.
func TestEDIInspectText(t *testing.T) {
	t.Parallel()
	code, _, text := runInspect(t, filepath.Join(ediSamples, "edi-engine", "940_Failed_SE01.edi"))
	for _, want := range []string{"set 940 ST02", "SE01 12", "warning: segment 10 (line 11, byte 307) SE: SE01 is \"12\", transaction set has 9 segments", "result: readable, 1 warning(s)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestEDIUsage: no subcommand, an unknown one or no file is a usage error;
// -h documents the JSON fields.
func TestEDIUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"edi"}, {"edi", "frob"}, {"edi", "inspect"}, {"edi", "inspect", "--bogus", "x"}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"edi", "inspect", "-h"}, &out, &errb); code != 0 ||
		!strings.Contains(errb.String(), "Usage: crossdock edi inspect [--json] FILE...") || !strings.Contains(errb.String(), "declared_segment_count") {
		t.Errorf("edi inspect -h: exit %d\n%s", code, errb.String())
	}
}

func itoaTest(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
