package filedrop

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key identifies processed content: the file name plus the SHA-256 of its
// bytes. The same name with new content is a new file.
type Key struct {
	Name   string
	SHA256 string // lower-case hex
}

// Seen remembers processed files. The hub will provide a persistent
// implementation; MemSeen is the in-memory one.
type Seen interface {
	Has(ctx context.Context, k Key) (bool, error)
	Add(ctx context.Context, k Key) error
}

// MemSeen is an in-memory Seen, safe for concurrent use.
type MemSeen struct {
	mu sync.Mutex
	m  map[Key]struct{}
}

func NewMemSeen() *MemSeen { return &MemSeen{m: map[Key]struct{}{}} }

func (m *MemSeen) Has(_ context.Context, k Key) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.m[k]
	return ok, nil
}

func (m *MemSeen) Add(_ context.Context, k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = struct{}{}
	return nil
}

// File is what the Poller hands to a Handler.
type File struct {
	Name    string
	Path    string // in the inbox, at hand-over time
	Data    []byte
	SHA256  string
	ModTime time.Time
}

// Handler processes one file. A nil return archives the file and records
// it as seen; an error moves it to the error folder with a reason file.
// Handlers should be idempotent: a crash between a successful handler and
// Seen.Add means the file is handled again.
type Handler func(ctx context.Context, f File) error

// PollerConfig configures a Poller. Drop, Seen and Handler are required.
type PollerConfig struct {
	Drop    Drop
	Seen    Seen
	Handler Handler

	Inbox   string // default "in"
	Archive string // default "archive"
	Error   string // default "error"

	Interval   time.Duration // between successful polls; default 30s
	BackoffMin time.Duration // first retry delay after a transport failure; default 1s
	BackoffMax time.Duration // cap; default 5m

	// Sleep waits d or until ctx is done (tests inject a fake).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps reason files and renamed duplicates; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Result counts what one PollOnce did.
type Result struct {
	Handled    int // handler succeeded, file archived
	Failed     int // handler failed, file moved to error/
	Duplicates int // already seen (name + hash), archived without handling
	Pending    int // visible files not yet stable
}

type stamp struct {
	size int64
	mod  time.Time
}

// Poller hands each stable inbox file to the handler once. It is not safe
// for concurrent use: call Run (or PollOnce) from one goroutine.
type Poller struct {
	cfg       PollerConfig
	prev      map[string]stamp
	dirsReady bool
}

// NewPoller validates cfg and fills defaults.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Drop == nil || cfg.Seen == nil || cfg.Handler == nil {
		return nil, errors.New("filedrop: poller: Drop, Seen and Handler are required")
	}
	cfg.Inbox = cmp.Or(cfg.Inbox, "in")
	cfg.Archive = cmp.Or(cfg.Archive, "archive")
	cfg.Error = cmp.Or(cfg.Error, "error")
	cfg.Interval = cmp.Or(cfg.Interval, 30*time.Second)
	cfg.BackoffMin = cmp.Or(cfg.BackoffMin, time.Second)
	cfg.BackoffMax = max(cmp.Or(cfg.BackoffMax, 5*time.Minute), cfg.BackoffMin)
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, prev: map[string]stamp{}}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff returns the delay before retry number n (0-based):
// BackoffMin·2ⁿ capped at BackoffMax.
func (p *Poller) Backoff(n int) time.Duration {
	d := p.cfg.BackoffMin
	for range n {
		if d >= p.cfg.BackoffMax/2 {
			return p.cfg.BackoffMax
		}
		d *= 2
	}
	return min(d, p.cfg.BackoffMax)
}

// Run polls until ctx is done, waiting Interval between polls and backing
// off exponentially (capped) while the transport fails. It returns ctx.Err().
func (p *Poller) Run(ctx context.Context) error {
	failures := 0
	for {
		res, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := p.cfg.Interval
		switch {
		case IsRetryable(err):
			wait = p.Backoff(failures)
			failures++
			p.cfg.Logger.Warn("filedrop: transport failure, backing off", "err", err, "retry_in", wait, "attempt", failures)
		case err != nil:
			failures = 0
			p.cfg.Logger.Error("filedrop: poll", "err", err)
		default:
			if failures > 0 {
				p.cfg.Logger.Info("filedrop: transport recovered", "after_failures", failures)
			}
			failures = 0
		}
		if res != (Result{}) {
			p.cfg.Logger.Info("filedrop: poll", "handled", res.Handled, "failed", res.Failed, "duplicates", res.Duplicates, "pending", res.Pending)
		}
		if err := p.cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Ignored reports whether the poller skips a name: dot files (including
// WriteAtomic's ".tmp-…" files) and common in-progress suffixes.
func Ignored(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(name, ".") || strings.HasSuffix(l, ".tmp") ||
		strings.HasSuffix(l, ".part") || strings.HasSuffix(l, ".filepart")
}

// PollOnce lists the inbox once and processes files whose size and mtime
// are unchanged since the previous listing, oldest first. It stops at the
// first transport error (IsRetryable); other per-file errors are joined and
// the remaining files still processed.
func (p *Poller) PollOnce(ctx context.Context) (Result, error) {
	var res Result
	if !p.dirsReady {
		for _, d := range []string{p.cfg.Inbox, p.cfg.Archive, p.cfg.Error} {
			if err := p.cfg.Drop.MkdirAll(ctx, d); err != nil {
				return res, err
			}
		}
		p.dirsReady = true
	}
	ents, err := p.cfg.Drop.List(ctx, p.cfg.Inbox)
	if err != nil {
		p.dirsReady = false
		return res, err
	}
	cur := make(map[string]stamp, len(ents))
	var stable []FileInfo
	for _, e := range ents {
		if e.IsDir || Ignored(e.Name) {
			continue
		}
		st := stamp{e.Size, e.ModTime}
		cur[e.Name] = st
		if old, ok := p.prev[e.Name]; ok && old.size == st.size && old.mod.Equal(st.mod) {
			stable = append(stable, e)
		} else {
			res.Pending++
		}
	}
	p.prev = cur
	slices.SortFunc(stable, func(a, b FileInfo) int {
		return cmp.Or(a.ModTime.Compare(b.ModTime), strings.Compare(a.Name, b.Name))
	})
	var errs []error
	for _, fi := range stable {
		err := p.process(ctx, fi, &res)
		if err == nil {
			continue
		}
		if IsRetryable(err) || ctx.Err() != nil {
			return res, err
		}
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

func (p *Poller) process(ctx context.Context, fi FileInfo, res *Result) error {
	data, err := p.cfg.Drop.Read(ctx, fi.Path)
	if errors.Is(err, fs.ErrNotExist) {
		delete(p.prev, fi.Name) // taken away by someone else
		return nil
	}
	if err != nil {
		return err
	}
	if int64(len(data)) != fi.Size {
		delete(p.prev, fi.Name) // changed since the listing: wait again
		res.Pending++
		return nil
	}
	sum := sha256.Sum256(data)
	key := Key{Name: fi.Name, SHA256: hex.EncodeToString(sum[:])}
	seen, err := p.cfg.Seen.Has(ctx, key)
	if err != nil {
		return fmt.Errorf("filedrop: seen %q: %w", fi.Name, err)
	}
	delete(p.prev, fi.Name)
	if seen {
		if _, err := p.moveUnique(ctx, fi, p.cfg.Archive, key.SHA256); err != nil {
			return err
		}
		res.Duplicates++
		p.cfg.Logger.Info("filedrop: duplicate archived", "file", fi.Path, "sha256", key.SHA256)
		return nil
	}
	herr := p.callHandler(ctx, File{Name: fi.Name, Path: fi.Path, Data: data, SHA256: key.SHA256, ModTime: fi.ModTime})
	if herr != nil && ctx.Err() != nil {
		// Shutting down: leave the file in the inbox for the next run.
		return herr
	}
	if herr == nil {
		if err := p.cfg.Seen.Add(ctx, key); err != nil {
			return fmt.Errorf("filedrop: seen add %q: %w", fi.Name, err)
		}
		if _, err := p.moveUnique(ctx, fi, p.cfg.Archive, key.SHA256); err != nil {
			return err
		}
		res.Handled++
		return nil
	}
	dst, err := p.moveUnique(ctx, fi, p.cfg.Error, key.SHA256)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("file: %s\nsha256: %s\nfailed_at: %s\nerror: %s\n",
		fi.Path, key.SHA256, p.cfg.Now().UTC().Format(time.RFC3339), herr)
	if err := p.cfg.Drop.WriteAtomic(ctx, p.cfg.Error, path.Base(dst)+".reason.txt", []byte(reason)); err != nil {
		return fmt.Errorf("filedrop: reason for %q: %w", dst, err)
	}
	res.Failed++
	p.cfg.Logger.Warn("filedrop: file rejected", "file", fi.Path, "moved_to", dst, "err", herr)
	return nil
}

func (p *Poller) callHandler(ctx context.Context, f File) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return p.cfg.Handler(ctx, f)
}

// moveUnique moves fi into dir under its own name, or, when that name is
// taken, as "<stem>.<UTC timestamp>-<sha8><ext>".
func (p *Poller) moveUnique(ctx context.Context, fi FileInfo, dir, sum string) (string, error) {
	dst := path.Join(dir, fi.Name)
	err := p.cfg.Drop.Move(ctx, fi.Path, dst)
	if errors.Is(err, fs.ErrExist) {
		ext := path.Ext(fi.Name)
		stem := strings.TrimSuffix(fi.Name, ext)
		dst = path.Join(dir, fmt.Sprintf("%s.%s-%s%s", stem, p.cfg.Now().UTC().Format("20060102T150405Z"), sum[:8], ext))
		err = p.cfg.Drop.Move(ctx, fi.Path, dst)
	}
	if err != nil {
		return "", err
	}
	return dst, nil
}
