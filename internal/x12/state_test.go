package x12

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func setupState(t *testing.T, partner string) (string, *FileState) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	s, err := OpenFileState(dir, partner)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// TestFileStateSurvivesRestart: control numbers handed out by the writer
// and the groups awaiting a 997 are read back by a new FileState (a
// restarted process): numbers continue after the last one, the pending
// group is still overdue, and once its 997 is recorded and saved it is no
// longer overdue after another restart. No temporary file is left behind.
func TestFileStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir, s := setupState(t, "01:ACME 3PL")
	ctx := context.Background()
	t0 := time.Date(2026, 7, 14, 8, 0, 0, 0, time.UTC)
	var sent []*Interchange
	for range 2 {
		_, ic, err := Encode(ctx, sampleInterchange(), WriterOptions{Numbers: s, Partner: s.Partner()})
		if err != nil {
			t.Fatal(err)
		}
		s.Pending().SentInterchange(s.Partner(), ic, t0)
		sent = append(sent, ic)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}

	again, err := OpenFileState(dir, "01:ACME 3PL")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindInterchange, KindGroup, KindSet} {
		if got, used := again.Last(k), s.Last(k); got < used || got >= used+StateReserve {
			t.Errorf("%s: restart continues after %d, want in [%d, %d)", k, got, used, used+StateReserve)
		}
	}
	_, ic, err := Encode(ctx, sampleInterchange(), WriterOptions{Numbers: again, Partner: again.Partner()})
	if err != nil {
		t.Fatal(err)
	}
	if got, prev := ic.ControlNumber(), sent[1].ControlNumber(); got <= prev {
		t.Errorf("ISA13 after restart %s, not after %s", got, prev)
	}
	var overdue []string
	for _, g := range again.Pending().Overdue(t0.Add(time.Hour), time.Minute) {
		overdue = append(overdue, g.Partner+" "+g.FunctionalID+" "+g.Control)
	}
	want := []string{"01:ACME 3PL OW " + sent[0].Groups[0].ControlNumber(), "01:ACME 3PL OW " + sent[1].Groups[0].ControlNumber()}
	if diff := cmp.Diff(want, overdue); diff != "" {
		t.Errorf("overdue after restart (-want +got):\n%s", diff)
	}

	ack := Ack997(sent[0].Groups[0], AckOptions{})
	if g, err := again.Pending().Acknowledge(again.Partner(), ack, t0.Add(2*time.Hour)); err != nil || g == nil {
		t.Fatalf("Acknowledge = %+v, %v", g, err)
	}
	if err := again.Save(); err != nil {
		t.Fatal(err)
	}
	third, err := OpenFileState(dir, "01:ACME 3PL")
	if err != nil {
		t.Fatal(err)
	}
	if o := third.Pending().Overdue(t0.Add(3*time.Hour), time.Minute); len(o) != 1 || o[0].Control != sent[1].Groups[0].ControlNumber() {
		t.Errorf("overdue after the 997 and a restart = %+v", o)
	}

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"01_3aACME_203PL.x12state.json"}, names); diff != "" {
		t.Errorf("state dir (-want +got):\n%s", diff)
	}
}

// TestFileStateRefuses: a damaged file, a file of another partner and a
// number for another partner are errors, never a silent restart at 1.
func TestFileStateRefuses(t *testing.T) {
	t.Parallel()
	dir, s := setupState(t, "ZZ:A")
	if _, err := s.Next(context.Background(), "ZZ:B", KindGroup); err == nil {
		t.Error("Next for another partner: no error")
	}
	if err := os.WriteFile(StatePath(dir, "ZZ:A"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileState(dir, "ZZ:A"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged file: %v", err)
	}
	if err := os.WriteFile(StatePath(dir, "ZZ:C"), []byte(`{"partner":"ZZ:D"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileState(dir, "ZZ:C"); err == nil || !strings.Contains(err.Error(), `belongs to partner "ZZ:D"`) {
		t.Errorf("file of another partner: %v", err)
	}
	if StatePath(dir, "a:b") == StatePath(dir, "a_b") {
		t.Error("two partners share a state file")
	}
}

// TestFileStateWraps: after MaxControlNumber the next number is 1, also
// across a restart (the reserved block ends at the maximum).
func TestFileStateWraps(t *testing.T) {
	t.Parallel()
	dir, s := setupState(t, "ZZ:W")
	ctx := context.Background()
	s.last[KindSet-1], s.reserved[KindSet-1] = MaxControlNumber-1, MaxControlNumber-1
	if n, err := s.Next(ctx, "ZZ:W", KindSet); err != nil || n != MaxControlNumber {
		t.Fatalf("Next = %d, %v", n, err)
	}
	again, err := OpenFileState(dir, "ZZ:W")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := again.Next(ctx, "ZZ:W", KindSet); err != nil || n != 1 {
		t.Fatalf("Next after the maximum = %d, %v; want 1", n, err)
	}
}

// TestAck997EveryGroupAndCodes: the reply to an interchange has one 997 per
// received group, in order, including rejected groups; a set of a code the
// receiver does not support is rejected with AK5 code 1, a repeated ST02
// with code 23, a set missing its required detail segment with AK3 code 3
// and AK5 code 5, and the group status reflects it.
func TestAck997EveryGroupAndCodes(t *testing.T) {
	t.Parallel()
	in := isa106 + "~" +
		"GS*SW*A*B*20260101*1200*7*X*004010~ST*945*0001~W06*F*R1~W12*CC*1*1~SE*4*0001~ST*940*0002~W05*N*R2~W01*1*EA~SE*4*0002~" +
		"ST*945*0001~W06*F*R3~W12*CC*1*1~SE*4*0001~GE*3*7~" +
		"GS*IB*A*B*20260101*1200*8*X*004010~ST*846*0001~BIA*00*SI*X*20260101~SE*3*0001~GE*1*8~" +
		"GS*OW*A*B*20260101*1200*9*X*004010~ST*940*0001~W05*N*R4~W01*1*EA~SE*9*0001~GE*1*9~" +
		"GS*SW*A*B*20260101*1200*10*X*004010~ST*945*0001~W06*F*R5~SE*3*0001~GE*1*10~IEA*4*000000001~"
	ics, _, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	reply := AckInterchange(ics[0], AckOptions{Supported: []string{"945", "846"}}, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	var got [][]string
	for _, set := range reply.Groups[0].Sets {
		var lines []string
		for _, l := range body(set) {
			if strings.HasPrefix(l, "AK1") || strings.HasPrefix(l, "AK3") || strings.HasPrefix(l, "AK5") || strings.HasPrefix(l, "AK9") {
				lines = append(lines, l)
			}
		}
		got = append(got, lines)
	}
	want := [][]string{
		{"AK1*SW*7", "AK5*A", "AK5*R*1", "AK5*R*23", "AK9*P*3*3*1"},
		{"AK1*IB*8", "AK5*A", "AK9*A*1*1*1"},
		{"AK1*OW*9", "AK5*R*1*4", "AK9*R*1*1*0"},
		{"AK1*SW*10", "AK3*W12*3**3", "AK5*R*5", "AK9*R*1*1*0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("997s (-want +got):\n%s", diff)
	}
}

// BenchmarkFileStateNext measures one control number handed out, with a
// save (write, fsync, rename) every StateReserve numbers, on the test
// machine's temporary directory.
func BenchmarkFileStateNext(b *testing.B) {
	s, err := OpenFileState(b.TempDir(), "ZZ:BENCH")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Next(ctx, "ZZ:BENCH", KindSet); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFileStateNoReuseAfterCrash: whatever number of control numbers was
// handed out, a FileState reopened without any Save (a crash) never hands
// out one of them again.
func TestFileStateNoReuseAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, used := range []int{1, StateReserve - 1, StateReserve, StateReserve + 1, 3*StateReserve + 7} {
		dir, s := setupState(t, "ZZ:C")
		var last int64
		for range used {
			n, err := s.Next(ctx, "ZZ:C", KindGroup)
			if err != nil {
				t.Fatal(err)
			}
			last = n
		}
		crashed, err := OpenFileState(dir, "ZZ:C")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := crashed.Next(ctx, "ZZ:C", KindGroup); err != nil || n <= last {
			t.Errorf("after %d numbers (last %d) and a crash: next %d, %v", used, last, n, err)
		}
	}
}

// TestFileStatePrunes: a group acknowledged longer than StateKeepAcked ago
// is dropped from the file; an unacknowledged one is kept however old.
func TestFileStatePrunes(t *testing.T) {
	t.Parallel()
	dir, s := setupState(t, "ZZ:P")
	old := time.Now().Add(-StateKeepAcked - time.Hour)
	s.Pending().Sent("ZZ:P", "OW", "1", old)
	s.Pending().Sent("ZZ:P", "OW", "2", old)
	ack := &TransactionSet{ST: NewSegment("ST", "997", "1"), Segments: []Segment{NewSegment("AK1", "OW", "1"), NewSegment("AK9", "A", "1", "1", "1")}}
	if g, err := s.Pending().Acknowledge("ZZ:P", ack, old); err != nil || g == nil {
		t.Fatalf("Acknowledge = %+v, %v", g, err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenFileState(dir, "ZZ:P")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range again.Pending().Records() {
		got = append(got, g.Control)
	}
	if diff := cmp.Diff([]string{"2"}, got); diff != "" {
		t.Errorf("records after pruning (-want +got):\n%s", diff)
	}
}
