package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWALStaysBounded writes steadily while readers keep overlapping read
// transactions open, the load under which PASSIVE checkpoints alone never
// restart the log. The control, without a restart threshold, writes until
// the WAL passes limit; the same writes with the threshold must keep it
// under limit.
func TestWALStaysBounded(t *testing.T) {
	t.Parallel()
	const (
		restart = 512                       // frames: 2 MiB at 4 KiB pages
		limit   = int64(8 * restart * 4096) // the truncation runs every 200 ms: allow the frames written meanwhile
	)
	// grow writes rows until the WAL passes stopAt or rows reaches maxRows
	// (0: no limit), and returns the rows written and the largest WAL seen.
	grow := func(t *testing.T, walRestart int, stopAt int64, maxRows int) (rows int, biggest int64) {
		path := filepath.Join(t.TempDir(), "wal.db")
		s, err := openSQLite(path, walRestart)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		if _, err := s.Write.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		defer wg.Wait()
		defer close(stop)
		for i := 0; i < 3; i++ { // readers whose transactions overlap
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					tx, err := s.Read.BeginTx(ctx, nil)
					if err != nil {
						continue
					}
					var n int
					_ = tx.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n)
					time.Sleep(20 * time.Millisecond)
					_ = tx.Rollback()
				}
			}()
		}
		blob := make([]byte, 3000)
		deadline := time.Now().Add(60 * time.Second)
		for ; (maxRows == 0 || rows < maxRows) && biggest <= stopAt; rows++ {
			if time.Now().After(deadline) {
				t.Fatalf("the WAL stayed at %d bytes after %d rows and a minute", biggest, rows)
			}
			if _, err := s.Write.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, blob); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // a busy hub, not a bulk load: writes leave gaps
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > biggest {
				biggest = fi.Size()
			}
		}
		return rows, biggest
	}
	rows, unbounded := grow(t, 0, limit, 0)
	_, bounded := grow(t, restart, 1<<62, rows)
	t.Logf("%d rows: largest WAL %d bytes without restarts, %d bytes with a restart at %d frames", rows, unbounded, bounded, restart)
	if bounded > limit {
		t.Errorf("WAL reached %d bytes with a restart at %d frames (limit %d)", bounded, restart, limit)
	}
}
