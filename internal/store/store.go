// Package store is crossdock's persistence seam: one schema, applied by goose
// migrations per dialect, on SQLite (embedded default, modernc.org/sqlite in
// WAL mode) or PostgreSQL (pgx/v5). Repositories are plain database/sql, so
// the same code runs on both; the River job queue runs on the same database
// so that a state change and the job that follows it commit together.
//
// SQLite rules: every write goes through a single-connection pool (Write),
// shared with River; reads use a separate pool (Read).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Querier is what repositories need: a *sql.DB or a *sql.Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store holds the database pools.
type Store struct {
	Dialect Dialect
	// Write is the pool for writes and River (one connection on SQLite).
	Write *sql.DB
	// Read is the pool for reads that need no transaction.
	Read *sql.DB
	pool *pgxpool.Pool

	stmts         *stmtCache // SQLite: statements prepared on the writer
	ckpt          *sql.DB    // SQLite: the background checkpointer's connection
	walRestart    int        // SQLite: WAL frames past which checkpointLoop truncates the log (0: never)
	stop, stopped chan struct{}
	closeOnce     sync.Once
}

// Open connects to the database. For SQLite, dsn is a file path.
func Open(ctx context.Context, dialect Dialect, dsn string) (*Store, error) {
	switch dialect {
	case SQLite:
		return openSQLite(dsn, walRestartFrames)
	case Postgres:
		return openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("store: unknown dialect %q", dialect)
	}
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_txlock", "immediate")
		// Checkpoints run in the background (see checkpointLoop), not
		// inside whichever commit crosses the threshold.
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	return "file:" + path + "?" + q.Encode()
}

// openSQLite opens the store; walRestart is the WAL length (frames) past
// which the checkpointer truncates the log, 0 for never (tests).
func openSQLite(path string, walRestart int) (*Store, error) {
	if path == "" || strings.Contains(path, ":memory:") {
		return nil, errors.New("store: sqlite needs a file path (WAL and a separate read pool need a file)")
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// A short busy timeout: a TRUNCATE checkpoint holds new writers back
	// while it waits for readers, so it gives up quickly and tries again
	// 200 ms later.
	ckpt, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite checkpointer: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite reader: %w", err)
	}
	r.SetMaxOpenConns(4)
	st := &Store{Dialect: SQLite, Write: w, Read: r, ckpt: ckpt, walRestart: walRestart, stmts: newStmtCache(w), stop: make(chan struct{}), stopped: make(chan struct{})}
	go st.checkpointLoop()
	return st, nil
}

// walRestartFrames is the WAL length, in frames (pages: 64 MiB at SQLite's
// 4 KiB pages), past which the checkpointer restarts the log instead of
// only copying it back. Measured with a 3,000-order demo at 100 orders/s:
// the WAL peaked at 71–74 MB instead of 0.86–1.06 GB, at the same
// throughput (62.9–69.1 orders/s vs 64.5–67.7); 4,096 frames truncated
// every ~0.75 s, each holding writers back up to ~150 ms.
const walRestartFrames = 16384

// checkpointLoop copies the WAL back into the database file every 200 ms
// from a connection of its own, so that writers never pay for it. PASSIVE
// never blocks readers or the writer, but it never restarts the log
// either: under steady load some reader always holds a snapshot, so the
// writer never gets to wrap around, and the WAL grew to ~1 GB in a
// 3,000-order demo (every read then searches a longer WAL index). Once the
// WAL holds walRestartFrames frames, the loop asks for a TRUNCATE
// checkpoint, which waits for the readers of the moment to finish and
// starts the log again from zero; it gives up after a short busy timeout
// rather than hold writers back.
func (s *Store) checkpointLoop() {
	defer close(s.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			var busy, frames, copied int
			if err := s.ckpt.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
				continue
			}
			if s.walRestart > 0 && frames >= s.walRestart {
				_, _ = s.ckpt.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			}
		}
	}
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres dsn: %w", err)
	}
	if cfg.MaxConns < 20 {
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	if err := db.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	return &Store{Dialect: Postgres, Write: db, Read: db, pool: pool}, nil
}

// RiverDriver returns the River driver for this store. Both drivers work on
// *sql.Tx, so jobs are inserted in the same transaction as our rows.
func (s *Store) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if s.Dialect == Postgres {
		return riverdatabasesql.NewWithPgxListener(s.Write, s.pool)
	}
	return riversqlite.New(s.Write)
}

// Migrate applies crossdock's migrations and River's, idempotently.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.Dialect))
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if s.Dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, s.Write, sub)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	m, err := rivermigrate.New(s.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrate: %w", err)
	}
	return nil
}

// Close closes the pools.
func (s *Store) Close() error {
	var errs []error
	if s.stmts != nil {
		s.stmts.close()
	}
	if s.ckpt != nil {
		s.closeOnce.Do(func() {
			close(s.stop)
			<-s.stopped
			_, _ = s.ckpt.Exec(`PRAGMA busy_timeout(10000)`) // the pool's one connection: the checkpoint below may wait
			_, _ = s.ckpt.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			errs = append(errs, s.ckpt.Close())
		})
	}
	if s.Read != s.Write {
		errs = append(errs, s.Read.Close())
	}
	errs = append(errs, s.Write.Close())
	if s.pool != nil {
		s.pool.Close()
	}
	return errors.Join(errs...)
}

// InTx runs fn in a write transaction and commits it if fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, cache: s.stmts}
	err = fn(tx)
	if err != nil {
		_ = sqlTx.Rollback()
	} else if err = sqlTx.Commit(); err != nil {
		err = fmt.Errorf("store: commit: %w", err)
	}
	if s.stmts != nil {
		s.stmts.prepare(context.WithoutCancel(ctx))
	}
	return err
}

// RecoverOrphans prepares an embedded (SQLite, single-process) store for a
// new process after a crash: jobs the dead process left "running" are made
// available again, and its queue leadership is released, so work resumes
// at once instead of after River's stuck-job rescue interval and leader
// TTL. It does nothing on PostgreSQL, where other live instances may own
// running jobs and River's rescuer and leader election handle a dead one.
// It must run before this process starts its job client.
func (s *Store) RecoverOrphans(ctx context.Context) (jobs int64, err error) {
	if s.Dialect != SQLite {
		return 0, nil
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		// River's SQLite driver writes times as datetime('now', 'subsec').
		// The interrupted attempt stays counted: workers read an attempt
		// above 1 as "an earlier run may have done part of the work" (the
		// fulfilment job then looks for the fulfillment it may already
		// have created). Giving it back made the chaos soak's retried
		// fulfilments try to fulfil twice (refused by Shopify).
		res, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec') WHERE state = 'running'`)
		if err != nil {
			return fmt.Errorf("store: recover running jobs: %w", err)
		}
		jobs, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
			return fmt.Errorf("store: release leadership: %w", err)
		}
		return nil
	})
	return jobs, err
}
