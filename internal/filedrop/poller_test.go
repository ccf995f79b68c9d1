package filedrop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// recorder is a Handler that records what it was given and fails when
// fail returns an error.
type recorder struct {
	mu    sync.Mutex
	files []File
	fail  func(File) error
}

func (r *recorder) handle(_ context.Context, f File) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files = append(r.files, f)
	if r.fail != nil {
		return r.fail(f)
	}
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.files {
		out = append(out, f.Name+"="+string(f.Data))
	}
	return out
}

func newTestPoller(t *testing.T, d Drop, seen Seen, r *recorder) *Poller {
	t.Helper()
	p, err := NewPoller(PollerConfig{Drop: d, Seen: seen, Handler: r.handle, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pollOnce(t *testing.T, p *Poller) Result {
	t.Helper()
	res, err := p.PollOnce(t.Context())
	if err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	return res
}

// writeRaw writes directly on disk, non-atomically, as a slow uploader does.
func writeRaw(t *testing.T, e *env, rel, data string) {
	t.Helper()
	full := filepath.Join(e.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendRaw(t *testing.T, e *env, rel, data string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(e.root, filepath.FromSlash(rel)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func TestPollerWaitsForStableFileAndIgnoresTemp(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		r := &recorder{}
		p := newTestPoller(t, e.drop, NewMemSeen(), r)
		writeRaw(t, e, "in/ord_1.csv", "a;1\n")
		writeRaw(t, e, "in/.tmp-ord_2.csv-abc", "b;2\n")
		writeRaw(t, e, "in/ord_3.csv.part", "c;3\n")
		writeRaw(t, e, "in/.hidden", "d\n")

		if res := pollOnce(t, p); res.Handled != 0 || res.Pending != 1 {
			t.Fatalf("first listing: %+v, want nothing handled, 1 pending", res)
		}
		appendRaw(t, e, "in/ord_1.csv", "a;2\n") // still growing
		if res := pollOnce(t, p); res.Handled != 0 || res.Pending != 1 {
			t.Fatalf("after growth: %+v, want nothing handled, 1 pending", res)
		}
		if len(r.got()) != 0 {
			t.Fatalf("handler called for a growing file: %v", r.got())
		}
		if res := pollOnce(t, p); res.Handled != 1 {
			t.Fatalf("after stable listing: %+v, want 1 handled", res)
		}
		if got := r.got(); !slices.Equal(got, []string{"ord_1.csv=a;1\na;2\n"}) {
			t.Fatalf("handled %q, want the complete file only", got)
		}
		f := r.files[0]
		if sum := sha256.Sum256(f.Data); f.SHA256 != hex.EncodeToString(sum[:]) || f.Path != "in/ord_1.csv" {
			t.Fatalf("File = %+v", f)
		}
		if got := mustList(t, e.drop, "in"); !slices.Equal(got, []string{".hidden", ".tmp-ord_2.csv-abc", "ord_3.csv.part"}) {
			t.Fatalf("in/ = %v, want only ignored files left", got)
		}
		if got := mustList(t, e.drop, "archive"); !slices.Equal(got, []string{"ord_1.csv"}) {
			t.Fatalf("archive/ = %v", got)
		}
		// Nothing more, however often we poll.
		for range 3 {
			pollOnce(t, p)
		}
		if len(r.got()) != 1 {
			t.Fatalf("handler calls = %v", r.got())
		}
	})
}

func TestPollerProcessesSameNameAndContentOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		r := &recorder{}
		seen := NewMemSeen()
		p := newTestPoller(t, e.drop, seen, r)
		upload := func(data string) {
			t.Helper()
			if err := e.drop.MkdirAll(ctx, "in"); err != nil {
				t.Fatal(err)
			}
			if err := e.drop.WriteAtomic(ctx, "in", "inv_7.csv", []byte(data)); err != nil {
				t.Fatal(err)
			}
		}
		upload("sku;qty\n00042;5\n")
		pollOnce(t, p)
		if res := pollOnce(t, p); res.Handled != 1 {
			t.Fatalf("first upload: %+v", res)
		}
		upload("sku;qty\n00042;5\n") // partner re-uploads the same file
		pollOnce(t, p)
		if res := pollOnce(t, p); res.Duplicates != 1 || res.Handled != 0 {
			t.Fatalf("re-upload: %+v, want 1 duplicate, 0 handled", res)
		}
		upload("sku;qty\n00042;4\n") // same name, new content: a new file
		pollOnce(t, p)
		if res := pollOnce(t, p); res.Handled != 1 {
			t.Fatalf("new content: %+v, want 1 handled", res)
		}
		if got := r.got(); !slices.Equal(got, []string{"inv_7.csv=sku;qty\n00042;5\n", "inv_7.csv=sku;qty\n00042;4\n"}) {
			t.Fatalf("handled %q", got)
		}
		// Nothing dropped: three uploads, three archived files.
		arch := mustList(t, e.drop, "archive")
		if len(arch) != 3 || !slices.Contains(arch, "inv_7.csv") {
			t.Fatalf("archive/ = %v, want 3 files incl. inv_7.csv", arch)
		}
		for _, n := range arch {
			if n != "inv_7.csv" && !(strings.HasPrefix(n, "inv_7.20261127T120000Z-") && strings.HasSuffix(n, ".csv")) {
				t.Errorf("unexpected archive name %q", n)
			}
		}
		if got := mustList(t, e.drop, "in"); len(got) != 0 {
			t.Fatalf("in/ = %v", got)
		}
	})
}

func TestPollerHandlerErrorMovesToErrorWithReason(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		r := &recorder{fail: func(f File) error {
			if f.Name == "bad.csv" {
				return errors.New("line 2: unknown SKU \"00042\"")
			}
			return nil
		}}
		seen := NewMemSeen()
		p := newTestPoller(t, e.drop, seen, r)
		writeRaw(t, e, "in/bad.csv", "sku\n00042\n")
		writeRaw(t, e, "in/good.csv", "sku\n00043\n")
		pollOnce(t, p)
		res := pollOnce(t, p)
		if res.Failed != 1 || res.Handled != 1 {
			t.Fatalf("result %+v, want 1 failed, 1 handled", res)
		}
		if got := mustList(t, e.drop, "error"); !slices.Equal(got, []string{"bad.csv", "bad.csv.reason.txt"}) {
			t.Fatalf("error/ = %v", got)
		}
		if got := mustList(t, e.drop, "archive"); !slices.Equal(got, []string{"good.csv"}) {
			t.Fatalf("archive/ = %v", got)
		}
		data, err := e.drop.Read(ctx, "error/bad.csv")
		if err != nil || string(data) != "sku\n00042\n" {
			t.Fatalf("error/bad.csv = %q, %v; want original content", data, err)
		}
		reason, err := e.drop.Read(ctx, "error/bad.csv.reason.txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"file: in/bad.csv", `error: line 2: unknown SKU "00042"`, "failed_at: 2026-11-27T12:00:00Z", "sha256: "} {
			if !strings.Contains(string(reason), want) {
				t.Errorf("reason file %q lacks %q", reason, want)
			}
		}
		// A failed file is not remembered: after a fix, the same content
		// put back in the inbox is handled again.
		sum := sha256.Sum256([]byte("sku\n00042\n"))
		if ok, _ := seen.Has(ctx, Key{"bad.csv", hex.EncodeToString(sum[:])}); ok {
			t.Fatal("failed file marked as seen")
		}
		r.fail = nil
		if err := e.drop.Move(ctx, "error/bad.csv", "in/bad.csv"); err != nil {
			t.Fatal(err)
		}
		pollOnce(t, p)
		if res := pollOnce(t, p); res.Handled != 1 {
			t.Fatalf("retry after fix: %+v", res)
		}
	})
}

func TestPollerHandlerPanicGoesToError(t *testing.T) {
	t.Parallel()
	e := setupLocal(t)
	p, err := NewPoller(PollerConfig{Drop: e.drop, Seen: NewMemSeen(), Handler: func(context.Context, File) error { panic("boom") }})
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, e, "in/x.csv", "x")
	pollOnce(t, p)
	if res := pollOnce(t, p); res.Failed != 1 {
		t.Fatalf("result %+v, want 1 failed", res)
	}
	reason, err := e.drop.Read(t.Context(), "error/x.csv.reason.txt")
	if err != nil || !strings.Contains(string(reason), "handler panic: boom") {
		t.Fatalf("reason = %q, %v", reason, err)
	}
}

func TestPollerBackoffCapped(t *testing.T) {
	t.Parallel()
	p, err := NewPoller(PollerConfig{Drop: &Local{}, Seen: NewMemSeen(), Handler: (&recorder{}).handle, BackoffMin: time.Second, BackoffMax: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for n := range 6 {
		got = append(got, p.Backoff(n))
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("Backoff = %v, want %v", got, want)
	}
	if p.Backoff(1000) != 5*time.Second {
		t.Fatalf("Backoff(1000) = %v", p.Backoff(1000))
	}
}

// The SFTP server goes away while a file waits in the inbox: the poller
// gets retryable errors, backs off 1s, 2s, 4s, 4s (capped), and once the
// server is back it hands the file over and resumes the normal interval.
func TestPollerRecoversAfterServerOutage(t *testing.T) {
	t.Parallel()
	e := setupSFTP(t)
	writeRaw(t, e, "in/ord_9.csv", "order_id\n9\n")
	e.server.Stop()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	handled := make(chan File, 1)
	var sleeps []time.Duration
	p, err := NewPoller(PollerConfig{
		Drop: e.drop, Seen: NewMemSeen(),
		Handler: func(_ context.Context, f File) error {
			handled <- f
			return nil
		},
		Interval: time.Minute, BackoffMin: time.Second, BackoffMax: 4 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			if len(sleeps) == 4 {
				e.server.Start() // same port
			}
			if len(handled) > 0 {
				cancel() // stop after the poll that handed the file over
			}
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	select {
	case f := <-handled:
		if f.Name != "ord_9.csv" || string(f.Data) != "order_id\n9\n" {
			t.Fatalf("handled %+v", f)
		}
	default:
		t.Fatal("file never handled")
	}
	if got := mustList(t, e.drop, "archive"); !slices.Equal(got, []string{"ord_9.csv"}) {
		t.Fatalf("archive/ = %v", got)
	}
	// 4 back-offs while down, 1 interval between the two listings needed
	// for stability, 1 interval after the hand-over.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, time.Minute, time.Minute}
	if !slices.Equal(sleeps, want) {
		t.Fatalf("sleeps = %v, want %v", sleeps, want)
	}
}
