package filefeed_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/filedrop"
)

func TestParseMapPrefixesErrors(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]any
		want string
	}{
		{map[string]any{"transport": "ftp"}, `x: transport must be "local" or "sftp", not "ftp"`},
		{map[string]any{"transport": "local", "dir": "/d", "zz": 1, "address": "a"}, `x: unknown configuration keys for transport "local": address, zz`},
		{map[string]any{"transport": "local", "stable_after": "-1s"}, "x: stable_after must not be negative"},
		{map[string]any{"transport": "local", "out": 3}, "x: out must be a string, not int"},
	} {
		_, err := filefeed.ParseMap("x", tc.m)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseMap(%v) = %v, want %q", tc.m, err, tc.want)
		}
	}
	mc, err := filefeed.ParseMap("x", map[string]any{"transport": "local", "profile": map[string]any{}, "stable_after": "0s", "in": "inbox"}, "profile")
	if err != nil || !mc.StableSet || mc.StableAfter != 0 || mc.In != "inbox" {
		t.Fatalf("ParseMap = %+v, %v", mc, err)
	}
	if _, err := mc.OpenDrop(); err == nil || err.Error() != "x: dir is required for transport local" {
		t.Fatalf("OpenDrop without dir: %v", err)
	}
}

func newFeed(t *testing.T, now time.Time) (*filefeed.Feed, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := filedrop.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := filefeed.New(filefeed.Options{Name: "x", Drop: d, NoStableWait: true, Now: func() time.Time { return now },
		FeedFile: func(n string) bool { return strings.HasPrefix(n, "f") }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if err := f.EnsureDirs(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func write(t *testing.T, dir, rel, data string, mod time.Time) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsSharedFolders(t *testing.T) {
	d, _ := filedrop.NewLocal(t.TempDir())
	_, err := filefeed.New(filefeed.Options{Name: "x", Drop: d, In: "a", Archive: "a"})
	if err == nil || !strings.HasPrefix(err.Error(), "x: folders out, in, archive and error must differ") {
		t.Fatalf("New: %v", err)
	}
}

func TestLatestQuarantinesAndArchivesOlder(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f, dir := newFeed(t, now)
	write(t, dir, "from_wms/s1", "old", now.Add(-3*time.Hour))
	write(t, dir, "from_wms/s2", "good", now.Add(-2*time.Hour))
	write(t, dir, "from_wms/s3", "bad", now.Add(-time.Hour))
	files, stable, err := f.ListIn(ctx, func(n string) bool { return strings.HasPrefix(n, "s") })
	if err != nil {
		t.Fatal(err)
	}
	fi, ok, err := f.Latest(ctx, files, stable, func(_ filedrop.FileInfo, data []byte) (string, error) {
		if string(data) == "bad" {
			return "broken\n", nil
		}
		return "", nil
	})
	if err != nil || !ok || fi.Name != "s2" {
		t.Fatalf("Latest = %v %v %v", fi.Name, ok, err)
	}
	for _, p := range []string{"error/s3", "error/s3.reason.txt", "archive/s1", "from_wms/s2"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	reason, _ := os.ReadFile(filepath.Join(dir, "error/s3.reason.txt"))
	if !strings.HasSuffix(string(reason), "errors:\nbroken\n") || !strings.Contains(string(reason), "failed_at: 2026-01-02T03:04:05Z") {
		t.Errorf("reason file:\n%s", reason)
	}
}

func TestEventsTakeAndArchiveOnCommit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f, dir := newFeed(t, now)
	write(t, dir, "from_wms/f1", "a", now)
	write(t, dir, "from_wms/f2", "b", now)
	var taken []string
	call := func(cursor string) ([]connector.Event, string) {
		t.Helper()
		files, stable, err := f.ListIn(ctx, func(n string) bool { return strings.HasPrefix(n, "f") })
		if err != nil {
			t.Fatal(err)
		}
		evs, next, err := f.Events(ctx, cursor, 1, files, stable, func(fi filedrop.FileInfo, data []byte) filefeed.Decoded {
			return filefeed.Decoded{Events: []connector.Event{{ID: fi.Name + "#" + string(data)}},
				Take: func(context.Context) error { taken = append(taken, fi.Name); return nil }}
		})
		if err != nil {
			t.Fatal(err)
		}
		return evs, next
	}
	evs, next := call("")
	if len(evs) != 1 || evs[0].ID != "f1#a" || next != "f1" {
		t.Fatalf("first page = %v %q", evs, next)
	}
	evs, next = call(next)
	if len(evs) != 1 || evs[0].ID != "f2#b" || next != "f2" {
		t.Fatalf("second page = %v %q", evs, next)
	}
	if _, err := os.Stat(filepath.Join(dir, "archive/f1")); err != nil {
		t.Errorf("f1 not archived after its cursor was committed: %v", err)
	}
	evs, next = call(next)
	if len(evs) != 0 || next != "f2" {
		t.Fatalf("third page = %v %q", evs, next)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "archive"))
	if len(entries) != 2 {
		t.Errorf("archive/ = %v, want f1 and f2", entries)
	}
	if strings.Join(taken, ",") != "f1,f2" {
		t.Errorf("taken = %v", taken)
	}
}

// TestArchiveCollisionIsNotReplayed: a file archived under a name already in
// archive/ is kept in archive/superseded/, and a replay from the start does
// not deliver its events a second time under the new name.
func TestArchiveCollisionIsNotReplayed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	root := t.TempDir()
	drop, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := filefeed.New(filefeed.Options{Name: "test", Drop: drop, NoStableWait: true, FeedFile: func(n string) bool { return strings.HasPrefix(n, "shp_") }})
	if err != nil {
		t.Fatal(err)
	}
	if err := feed.EnsureDirs(ctx); err != nil {
		t.Fatal(err)
	}
	write := func(dir, name string) {
		if err := drop.WriteAtomic(ctx, dir, name, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	write(feed.Archive(), "shp_1.csv")
	write(feed.In(), "shp_1.csv") // the partner sent the same name again
	fi := filedrop.FileInfo{Name: "shp_1.csv", Path: feed.In() + "/shp_1.csv"}
	dst, err := feed.MoveUnique(ctx, fi, feed.Archive())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dst, feed.Archive()+"/"+filefeed.Superseded+"/") {
		t.Fatalf("second copy archived at %s, want under %s/%s", dst, feed.Archive(), filefeed.Superseded)
	}
	ents, err := drop.List(ctx, feed.Archive())
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir {
			files = append(files, e.Name)
		}
	}
	if len(files) != 1 || files[0] != "shp_1.csv" {
		t.Fatalf("archive/ holds %v, want only the first shp_1.csv", files)
	}
}
