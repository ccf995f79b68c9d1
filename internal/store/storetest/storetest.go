// Package storetest opens migrated test stores on every dialect and holds
// the store conformance suite that both SQLite and PostgreSQL must pass.
//
// PostgreSQL tests run when CROSSDOCK_TEST_POSTGRES_URL is set (.ci/run sets
// it to the local server); each store gets a database of its own, dropped at
// the end of the test.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/crossdock/crossdock/internal/store"
)

// PostgresURLEnv names the variable holding the PostgreSQL server URL.
const PostgresURLEnv = "CROSSDOCK_TEST_POSTGRES_URL"

// Dialects returns the dialects to test here: SQLite always, PostgreSQL when
// configured.
func Dialects() []store.Dialect {
	d := []store.Dialect{store.SQLite}
	if os.Getenv(PostgresURLEnv) != "" {
		d = append(d, store.Postgres)
	}
	return d
}

// DSN returns a fresh, empty database for the dialect: a file in a test
// temp dir, or a new PostgreSQL database dropped at cleanup.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "crossdock.db")
	}
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skip(PostgresURLEnv + " not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "crossdock_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated store on a fresh database, closed at cleanup.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, d, DSN(t, d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
