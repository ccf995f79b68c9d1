// Package filefeed is the file handling shared by the connectors that
// exchange files with a partner through a file drop (csvwms, ediwms): the
// transport, folder and stable_after configuration keys, the out/in/
// archive/error folders, and the inbound feed.
//
// The feed lists the stable files of in/ in name order. Its cursor is the
// name of the last file whose events were all returned; a file's events are
// never split across pages. A file is moved to archive/ only when a later
// call comes with a cursor at or past it, so a crash before the hub commits
// the cursor re-reads it; archived files stay part of the feed for replays
// from an older cursor. A file that does not read is moved to error/ with
// "<name>.reason.txt". A file found in in/ at or before the cursor that this
// process never returned cannot be delivered under a name cursor and goes to
// error/ with a reason saying so.
package filefeed

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/filedrop"
)

// Options configures a Feed.
type Options struct {
	// Name prefixes error messages ("csvwms").
	Name string
	// Drop is required.
	Drop filedrop.Drop
	// Out, In, Archive and Error are the folders; empty ones take their
	// defaults (DefaultOut…).
	Out, In, Archive, Error string
	// StableAfter: a file is read once it is this old or was seen unchanged
	// in two listings. Zero means DefaultStableAfter unless StableSet or
	// NoStableWait is set.
	StableAfter time.Duration
	// StableSet means StableAfter was configured explicitly (it may be 0).
	StableSet bool
	// NoStableWait reads every completed (not ".tmp"/dot) file at once.
	NoStableWait bool
	// Now defaults to time.Now.
	Now func() time.Time
	// FeedFile reports whether a file name belongs to the event feed (it
	// decides which archived files Events replays).
	FeedFile func(name string) bool
}

// Feed owns a drop's folders and the state of its inbound event feed. It is
// safe for concurrent use.
type Feed struct {
	name                     string
	drop                     filedrop.Drop
	out, in, archive, errDir string
	stableAfter              time.Duration
	now                      func() time.Time
	feedFile                 func(string) bool

	mu        sync.Mutex
	dirsReady bool
	prev      map[string]stamp // in/ listing of the previous call
	delivered map[string]bool  // feed files whose events this process returned
	// archiveMax is the greatest feed file name in archive/ (known once
	// archiveKnown); archive/ is listed only when a cursor is before it.
	archiveKnown bool
	archiveMax   string
}

type stamp struct {
	size int64
	mod  time.Time
}

// New checks the folders (relative, inside the drop, all different) and
// returns a Feed. Its errors are plain (not connector.Permanent).
func New(o Options) (*Feed, error) {
	if o.Drop == nil {
		return nil, fmt.Errorf("%s: a drop is required", o.Name)
	}
	f := &Feed{name: o.Name, drop: o.Drop, now: o.Now, feedFile: o.FeedFile, prev: map[string]stamp{}, delivered: map[string]bool{}}
	var err error
	for _, d := range []struct {
		name, v, def string
		dst          *string
	}{
		{"out", o.Out, DefaultOut, &f.out}, {"in", o.In, DefaultIn, &f.in},
		{"archive", o.Archive, DefaultArchive, &f.archive}, {"error", o.Error, DefaultError, &f.errDir},
	} {
		if *d.dst, err = f.checkFolder(d.name, cmp.Or(d.v, d.def)); err != nil {
			return nil, err
		}
	}
	folders := []string{f.out, f.in, f.archive, f.errDir}
	for i, a := range folders {
		if slices.Contains(folders[i+1:], a) {
			return nil, fmt.Errorf("%s: folders out, in, archive and error must differ (%q used twice)", o.Name, a)
		}
	}
	switch {
	case o.NoStableWait:
		f.stableAfter = 0
	case o.StableSet:
		f.stableAfter = o.StableAfter
	default:
		f.stableAfter = cmp.Or(o.StableAfter, DefaultStableAfter)
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.feedFile == nil {
		f.feedFile = func(string) bool { return false }
	}
	return f, nil
}

func (f *Feed) checkFolder(name, v string) (string, error) {
	c := path.Clean(v)
	if strings.HasPrefix(c, "/") || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%s: folder %s %q must be a relative path inside the drop", f.name, name, v)
	}
	return c, nil
}

// Drop returns the drop.
func (f *Feed) Drop() filedrop.Drop { return f.drop }

// Out returns the outbound folder.
func (f *Feed) Out() string { return f.out }

// In returns the inbound folder.
func (f *Feed) In() string { return f.in }

// Archive returns the folder of processed inbound files.
func (f *Feed) Archive() string { return f.archive }

// Now returns the current time from Options.Now.
func (f *Feed) Now() time.Time { return f.now() }

// Close closes the drop.
func (f *Feed) Close() error { return f.drop.Close() }

// EnsureDirs creates the four folders, once until a retryable failure.
func (f *Feed) EnsureDirs(ctx context.Context) error {
	f.mu.Lock()
	ready := f.dirsReady
	f.mu.Unlock()
	if ready {
		return nil
	}
	for _, d := range []string{f.out, f.in, f.archive, f.errDir} {
		if err := f.drop.MkdirAll(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	f.mu.Lock()
	f.dirsReady = true
	f.mu.Unlock()
	return nil
}

// Fail wraps a drop error; a retryable failure makes the next call
// re-create the folders.
func (f *Feed) Fail(err error) error {
	if filedrop.IsRetryable(err) {
		f.mu.Lock()
		f.dirsReady = false
		f.mu.Unlock()
	}
	return fmt.Errorf("%s: %w", f.name, err)
}

// ListIn lists in/, records the stamps for the stability check and returns
// the files for which match is true with whether each is stable.
func (f *Feed) ListIn(ctx context.Context, match func(name string) bool) ([]filedrop.FileInfo, map[string]bool, error) {
	ents, err := f.drop.List(ctx, f.in)
	if err != nil {
		return nil, nil, f.Fail(err)
	}
	now := f.now()
	stable := map[string]bool{}
	var files []filedrop.FileInfo
	f.mu.Lock()
	cur := make(map[string]stamp, len(ents))
	for _, e := range ents {
		if e.IsDir || filedrop.Ignored(e.Name) {
			continue
		}
		st := stamp{e.Size, e.ModTime}
		cur[e.Name] = st
		if !match(e.Name) {
			continue
		}
		old, seen := f.prev[e.Name]
		stable[e.Name] = f.stableAfter == 0 || now.Sub(e.ModTime) >= f.stableAfter ||
			seen && old.size == st.size && old.mod.Equal(st.mod)
		files = append(files, e)
	}
	f.prev = cur
	f.mu.Unlock()
	return files, stable, nil
}

// Decoded is what a connector makes of one feed file.
type Decoded struct {
	// Events are the file's events (all returned on one page).
	Events []connector.Event
	// Reason, when not empty, rejects the file: an inbound one goes to
	// error/ with this reason, an archived one is skipped.
	Reason string
	// Take, if set, runs when an inbound (not archived) file is taken:
	// before it is quarantined, or when its events are returned.
	Take func(ctx context.Context) error
}

type source struct {
	fi       filedrop.FileInfo
	archived bool
}

// Events returns the events of the feed files after cursor (a file name),
// whole files at a time, at most limit events unless one file has more
// (limit <= 0: no limit). inbox and stable are the feed files of in/ and
// their stability, from ListIn. decode reads one file. See the package
// documentation for cursor, archive and error handling.
func (f *Feed) Events(ctx context.Context, cursor string, limit int, inbox []filedrop.FileInfo, stable map[string]bool,
	decode func(fi filedrop.FileInfo, data []byte) Decoded) ([]connector.Event, string, error) {
	inbox = slices.Clone(inbox)
	slices.SortFunc(inbox, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })

	// The hub committed cursor: files at or before it are done.
	byName := map[string]source{}
	for _, fi := range inbox {
		if cursor == "" || fi.Name > cursor {
			byName[fi.Name] = source{fi: fi}
			continue
		}
		f.mu.Lock()
		known := f.delivered[fi.Name] || fi.Name == cursor
		f.mu.Unlock()
		if known {
			if _, err := f.MoveUnique(ctx, fi, f.archive); err != nil {
				return nil, cursor, err
			}
			f.mu.Lock()
			delete(f.delivered, fi.Name)
			f.mu.Unlock()
			continue
		}
		if !stable[fi.Name] {
			continue
		}
		reason := fmt.Sprintf("the file name sorts at or before the committed event cursor %q, so its events cannot be delivered after the cursor; "+
			"either it was written out of name order, or it was delivered just before a restart. "+
			"If its shipments are missing in the hub, put it back in %s/ under a name that sorts after the cursor.\n", cursor, f.in)
		if err := f.Quarantine(ctx, fi, reason); err != nil {
			return nil, cursor, err
		}
	}

	// Replays from an older cursor also read archive/.
	f.mu.Lock()
	needArchive := !f.archiveKnown || cursor < f.archiveMax
	f.mu.Unlock()
	if needArchive {
		ents, err := f.drop.List(ctx, f.archive)
		if err != nil {
			return nil, cursor, f.Fail(err)
		}
		maxName := ""
		for _, e := range ents {
			if e.IsDir || filedrop.Ignored(e.Name) || !f.feedFile(e.Name) {
				continue
			}
			maxName = max(maxName, e.Name)
			if _, inInbox := byName[e.Name]; !inInbox && (cursor == "" || e.Name > cursor) {
				byName[e.Name] = source{fi: e, archived: true}
			}
		}
		f.mu.Lock()
		f.archiveKnown = true
		f.archiveMax = max(f.archiveMax, maxName)
		f.mu.Unlock()
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)

	var evs []connector.Event
	next := cursor
	for _, n := range names {
		src := byName[n]
		if !src.archived && !stable[n] {
			break // a cursor is a name: nothing after an incomplete file
		}
		data, err := f.drop.Read(ctx, src.fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			break // moved by someone since the listing: look again next call
		}
		if err != nil {
			return nil, cursor, f.Fail(err)
		}
		if !src.archived && int64(len(data)) != src.fi.Size {
			f.mu.Lock()
			delete(f.prev, n)
			f.mu.Unlock()
			break // still being written
		}
		d := decode(src.fi, data)
		if d.Reason != "" {
			// An archived file was delivered once already; a replay skips
			// what no longer reads.
			if !src.archived {
				if d.Take != nil {
					if err := d.Take(ctx); err != nil {
						return nil, cursor, err
					}
				}
				if err := f.Quarantine(ctx, src.fi, d.Reason); err != nil {
					return nil, cursor, err
				}
			}
			next = n
			continue
		}
		if limit > 0 && len(evs) > 0 && len(evs)+len(d.Events) > limit {
			break
		}
		if !src.archived && d.Take != nil {
			if err := d.Take(ctx); err != nil {
				return nil, cursor, err
			}
		}
		evs = append(evs, d.Events...)
		next = n
		if !src.archived {
			f.mu.Lock()
			f.delivered[n] = true
			f.mu.Unlock()
		}
		if limit > 0 && len(evs) >= limit {
			break
		}
	}
	return evs, next, nil
}

// Latest reads the stable files among files newest first (by mtime, then
// name) and passes each to use. A file use rejects (a non-empty reason) is
// moved to error/ and the next one is tried; a file gone since the listing
// is skipped. Once use accepts a file, the older ones are archived and
// Latest returns that file and true; false when none was accepted.
func (f *Feed) Latest(ctx context.Context, files []filedrop.FileInfo, stable map[string]bool,
	use func(fi filedrop.FileInfo, data []byte) (reason string, err error)) (filedrop.FileInfo, bool, error) {
	files = slices.DeleteFunc(slices.Clone(files), func(fi filedrop.FileInfo) bool { return !stable[fi.Name] })
	slices.SortFunc(files, func(a, b filedrop.FileInfo) int { // newest first
		return cmp.Or(b.ModTime.Compare(a.ModTime), strings.Compare(b.Name, a.Name))
	})
	for i, fi := range files {
		data, err := f.drop.Read(ctx, fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return filedrop.FileInfo{}, false, f.Fail(err)
		}
		reason, err := use(fi, data)
		if err != nil {
			return filedrop.FileInfo{}, false, err
		}
		if reason != "" {
			if err := f.Quarantine(ctx, fi, reason); err != nil {
				return filedrop.FileInfo{}, false, err
			}
			continue
		}
		for _, old := range files[i+1:] {
			if _, err := f.MoveUnique(ctx, old, f.archive); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return filedrop.FileInfo{}, false, err
			}
		}
		return fi, true, nil
	}
	return filedrop.FileInfo{}, false, nil
}

// Quarantine moves fi to error/ and writes "<name>.reason.txt" next to it.
func (f *Feed) Quarantine(ctx context.Context, fi filedrop.FileInfo, reason string) error {
	data, _ := f.drop.Read(ctx, fi.Path)
	sum := sha256.Sum256(data)
	dst, err := f.MoveUnique(ctx, fi, f.errDir)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("file: %s\nsha256: %s\nfailed_at: %s\nerrors:\n%s",
		fi.Path, hex.EncodeToString(sum[:]), f.now().UTC().Format(time.RFC3339), reason)
	if err := f.drop.WriteAtomic(ctx, f.errDir, path.Base(dst)+".reason.txt", []byte(text)); err != nil {
		return f.Fail(err)
	}
	return nil
}

// Superseded is the sub-folder of archive/ that keeps a second file of a
// name already archived.
const Superseded = "superseded"

// MoveUnique moves fi into dir under its name or, when taken, as
// "<stem>.<UTC time><ext>" (in archive/, inside Superseded), and returns the
// new path.
func (f *Feed) MoveUnique(ctx context.Context, fi filedrop.FileInfo, dir string) (string, error) {
	dst := path.Join(dir, fi.Name)
	err := f.drop.Move(ctx, fi.Path, dst)
	if errors.Is(err, fs.ErrExist) {
		// The name is taken: keep both. In archive/ the second copy goes to
		// a sub-folder, which is not part of the feed, so a replay does not
		// deliver its events again under a new name.
		into := dir
		if dir == f.archive {
			into = path.Join(dir, Superseded)
			if err := f.drop.MkdirAll(ctx, into); err != nil {
				return "", f.Fail(err)
			}
		}
		ext := path.Ext(fi.Name)
		dst = path.Join(into, fmt.Sprintf("%s.%s%s", strings.TrimSuffix(fi.Name, ext), f.now().UTC().Format("20060102T150405.000000000Z"), ext))
		err = f.drop.Move(ctx, fi.Path, dst)
	}
	if err != nil {
		return "", f.Fail(err)
	}
	if base := path.Base(dst); dir == f.archive && !filedrop.Ignored(base) && f.feedFile(base) {
		f.mu.Lock()
		f.archiveMax = max(f.archiveMax, base)
		f.mu.Unlock()
	}
	return dst, nil
}
