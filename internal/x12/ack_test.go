package x12

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// body renders a set's body as "ID*e1*e2" strings for compact comparison.
func body(t *TransactionSet) []string {
	var out []string
	for _, s := range append(append([]Segment{t.ST}, t.Segments...), t.SE) {
		parts := []string{s.ID}
		for _, e := range s.Elements {
			parts = append(parts, e.Value())
		}
		out = append(out, strings.Join(parts, "*"))
	}
	return out
}

// TestAck997AckTest proves the 997s for edi-engine/AckTest.edi: group 9221
// partially accepted (set 20067 has N9 with empty N901 at position 7 →
// AK3/AK4, AK5*R*5), group 9222 accepted; and that the reply interchange
// writes and re-parses with zero warnings.
func TestAck997AckTest(t *testing.T) {
	ics, _ := parseSample(t, "edi-engine/AckTest.edi")
	reply := AckInterchange(ics[0], AckOptions{}, time.Date(2026, 7, 14, 9, 30, 0, 0, time.UTC))
	fa := reply.Groups[0]
	if len(fa.Sets) != 2 {
		t.Fatalf("%d 997s, want 2", len(fa.Sets))
	}
	want1 := []string{
		"ST*997*",
		"AK1*OW*9221",
		"AK2*940*20066", "AK5*A",
		"AK2*940*20067", "AK3*N9*7**8", "AK4*1**1", "AK5*R*5",
		"AK9*P*2*2*1",
		"SE*10*",
	}
	if diff := cmp.Diff(want1, body(fa.Sets[0])); diff != "" {
		t.Errorf("997 for group 9221 (-want +got):\n%s", diff)
	}
	want2 := []string{"ST*997*", "AK1*OW*9222", "AK2*940*20068", "AK5*A", "AK9*A*1*1*1", "SE*6*"}
	if diff := cmp.Diff(want2, body(fa.Sets[1])); diff != "" {
		t.Errorf("997 for group 9222 (-want +got):\n%s", diff)
	}

	nums := &MemoryControlNumbers{}
	out, written, err := Encode(context.Background(), reply, WriterOptions{Delimiters: DefaultDelimiters, Newline: "\n", Numbers: nums, Partner: "VENDOR"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "ISA*00*          *00*          *ZZ*WAREHOUSE      *ZZ*VENDOR         *260714*0930*U*00401*000000001*0*P*>~\nGS*FA*WAREHOUSE*VENDOR*20260714*0930*1*X*004010~\n") {
		t.Errorf("reply envelope:\n%s", out)
	}
	again, ws, err := Parse(bytes.NewReader(out))
	if err != nil || len(ws) != 0 {
		t.Fatalf("reparse: %v %v", err, ws)
	}
	if got := again[0].Groups[0].Sets[0].SE.Value(1); got != "10" {
		t.Errorf("SE01 = %s", got)
	}
	if written.Groups[0].Sets[1].ControlNumber() != "0002" {
		t.Errorf("ST02 = %s", written.Groups[0].Sets[1].ControlNumber())
	}
}

// TestAck997EnvelopeErrors proves count and control-number defects of the
// samples become AK5/AK9 error codes.
func TestAck997EnvelopeErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // AK5 and AK9 lines
	}{
		{"edi-engine/940_Failed_SE01.edi", []string{"AK5*R*4*5", "AK9*R*1*1*0"}}, // SE01 wrong, W01-01 empty
		{"edi-engine/ControlNumbersMismatch.edi", []string{"AK5*R*3", "AK9*R*1*1*0*4"}},
		{"edi-engine/WrongGroupsAndTranCount.edi", []string{"AK5*A", "AK9*E*2*1*1*5"}},
		{"edi-engine/940.OK.edi", []string{"AK5*A", "AK9*A*1*1*1"}},
	} {
		ics, _ := parseSample(t, tc.file)
		var got []string
		for _, l := range body(Ack997(ics[0].Groups[0], AckOptions{})) {
			if strings.HasPrefix(l, "AK5") || strings.HasPrefix(l, "AK9") {
				got = append(got, l)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, diff)
		}
	}
}

// TestAck997MissingSE proves a set with no SE is rejected with AK5 code 2
// and a group with no GE gets AK9 code 3.
func TestAck997MissingSE(t *testing.T) {
	in := isa106 + "~GS*OW*A*B*1*1*5*X*004010~ST*940*1~W05*N*1~W01*1*EA**SK*A~"
	ics, _, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got := body(Ack997(ics[0].Groups[0], AckOptions{}))
	want := []string{"ST*997*", "AK1*OW*5", "AK2*940*1", "AK5*R*2", "AK9*R*1*1*0*3", "SE*6*"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPending997s proves sent groups are tracked per partner until a 997's
// AK1 names them, and overdue ones are listed oldest first.
func TestPending997s(t *testing.T) {
	var p Pending997s
	t0 := time.Date(2026, 7, 14, 8, 0, 0, 0, time.UTC)
	p.Sent("acme", "OW", "000000042", t0)
	p.Sent("acme", "OW", "43", t0.Add(time.Hour))
	p.Sent("beta", "OW", "42", t0.Add(30*time.Minute))

	// A 997 from acme naming GS06 42 (parsed from text, as it would arrive).
	sets, _, err := ParseSets(strings.NewReader("ST*997*0001~AK1*OW*42~AK2*940*0001~AK5*A~AK9*A*1*1*1~SE*6*0001~"), DefaultDelimiters)
	if err != nil {
		t.Fatal(err)
	}
	g, err := p.Acknowledge("acme", sets[0], t0.Add(2*time.Hour))
	if err != nil || g == nil || g.Control != "42" || g.AckStatus != "A" {
		t.Fatalf("acknowledge: %+v %v", g, err)
	}
	if g, err := p.Acknowledge("acme", &TransactionSet{ST: NewSegment("ST", "997", "1"), Segments: []Segment{NewSegment("AK1", "OW", "99")}}, t0); g != nil || err != nil {
		t.Errorf("unknown group: %+v %v", g, err)
	}
	if _, err := p.Acknowledge("acme", &TransactionSet{ST: NewSegment("ST", "940", "1")}, t0); err != ErrNotAck {
		t.Errorf("non-997: %v", err)
	}
	var got []string
	for _, o := range p.Overdue(t0.Add(4*time.Hour+time.Minute), 3*time.Hour) {
		got = append(got, o.Partner+"/"+o.Control)
	}
	if diff := cmp.Diff([]string{"beta/42", "acme/43"}, got); diff != "" {
		t.Errorf("overdue (-want +got):\n%s", diff)
	}
	if o := p.Overdue(t0.Add(3*time.Hour+31*time.Minute), 3*time.Hour); len(o) != 1 || o[0].Partner != "beta" {
		t.Errorf("overdue at deadline: %+v", o)
	}

	// SentInterchange records what the writer actually numbered.
	var q Pending997s
	_, ic, err := Encode(context.Background(), sampleInterchange(), WriterOptions{Numbers: &MemoryControlNumbers{}, Partner: "3pl"})
	if err != nil {
		t.Fatal(err)
	}
	q.SentInterchange("3pl", ic, t0)
	if o := q.Overdue(t0.Add(time.Hour), time.Minute); len(o) != 1 || o[0].Control != "1" || o[0].FunctionalID != "OW" {
		t.Errorf("SentInterchange: %+v", o)
	}
}

// TestAck997W05Only: edi-engine/940.W05.Only.edi has a sound envelope
// (no parser warning) but its README says "missing mandatory loops": the
// 997 rejects the set for the missing mandatory W01 (LX loop) with AK3 code
// 3 and AK5 code 5.
func TestAck997W05Only(t *testing.T) {
	t.Parallel()
	ics, ws := parseSample(t, "edi-engine/940.W05.Only.edi")
	if len(ws) != 0 {
		t.Fatalf("warnings: %v", ws)
	}
	got := body(Ack997(ics[0].Groups[0], AckOptions{}))
	want := []string{"ST*997*", "AK1*OW*9221", "AK2*940*20066", "AK3*W01*3**3", "AK5*R*5", "AK9*R*1*1*0", "SE*7*"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("997 (-want +got):\n%s", diff)
	}
}
