package store

import (
	"context"
	"database/sql"
	"sync"
)

// Tx is a write transaction. It is a *sql.Tx (pass Tx.Tx to River to insert
// jobs in it) whose queries, on SQLite, use statements prepared once per
// connection instead of being parsed on every call: the writer connection
// is the embedded store's bottleneck, and parsing was a quarter of its time.
type Tx struct {
	*sql.Tx
	cache *stmtCache
}

// stmtCache holds statements prepared on the single SQLite writer
// connection. A statement is first used unprepared; once the transaction
// that met it has ended (the connection is free again) it is prepared for
// the following transactions.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[query]
	if !ok && len(c.stmts) < 512 {
		c.pending[query] = true
	}
	return st
}

// prepare prepares the statements met since the last call. It must run
// with no transaction open on the writer connection.
func (c *stmtCache) prepare(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	// Without the lock: preparing waits for the writer connection, which a
	// transaction using the cache may hold.
	for _, q := range qs {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.stmts[q]; dup {
			st.Close()
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// ExecContext executes query in the transaction.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t *Tx) stmt(query string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	return t.cache.get(query)
}
