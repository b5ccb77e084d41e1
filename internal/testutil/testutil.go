// Package testutil opens real databases for integration tests: a fresh
// SQLite file, a fresh PostgreSQL database on the server named by
// FHIRFACADE_TEST_PG, or a fresh MySQL/MariaDB database on the server named
// by FHIRFACADE_TEST_MYSQL. In CI (CI=true) a missing server fails the test
// instead of skipping it.
package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// DefaultPG is used when FHIRFACADE_TEST_PG is unset.
const DefaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DefaultMySQL is used when FHIRFACADE_TEST_MYSQL is unset (the machine's
// MariaDB: root with an empty password, database test).
const DefaultMySQL = "mysql://root@127.0.0.1:3306/test"

// SQLite opens a new SQLite database in the test's temp folder.
func SQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "legacy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN creates a fresh database and returns its URL; it is dropped
// when the test ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return freshDSN(t, server{"PostgreSQL", "FHIRFACADE_TEST_PG", DefaultPG, " WITH (FORCE)"})
}

// MySQLDSN creates a fresh MySQL/MariaDB database and returns its URL; it
// is dropped when the test ends.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return freshDSN(t, server{"MariaDB", "FHIRFACADE_TEST_MYSQL", DefaultMySQL, ""})
}

// server is a database server the tests create databases on.
type server struct {
	what, env, def string
	dropSuffix     string // what DROP DATABASE needs to end open sessions
}

func freshDSN(t testing.TB, s server) string {
	t.Helper()
	admin := os.Getenv(s.env)
	if admin == "" {
		admin = s.def
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adb, err := sqldb.Open(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI and is not reachable (%s=%s): %v", s.what, s.env, sqldb.Redact(admin), err)
		}
		t.Skipf("%s not reachable (%v); set %s", s.what, err, s.env)
	}
	defer adb.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "fhirfacade_test_" + hex.EncodeToString(b[:])
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if adb, err := sqldb.Open(ctx, admin); err == nil {
			_, _ = adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+s.dropSuffix)
			adb.Close()
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// Postgres opens a fresh PostgreSQL database.
func Postgres(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MySQL opens a fresh MySQL/MariaDB database.
func MySQL(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type opener struct {
	name string
	open func(testing.TB) *sqldb.DB
}

// Dialects runs fn once per real database the tests use for both stores
// (SQLite, PostgreSQL).
func Dialects(t *testing.T, fn func(t *testing.T, open func(testing.TB) *sqldb.DB)) {
	for _, d := range []opener{{"sqlite", SQLite}, {"postgres", Postgres}} {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open) })
	}
}

// LegacyDialects runs fn once per real database a legacy schema runs on
// here: SQLite, PostgreSQL and MariaDB (which is never a control store).
func LegacyDialects(t *testing.T, fn func(t *testing.T, open func(testing.TB) *sqldb.DB)) {
	for _, d := range []opener{{"sqlite", SQLite}, {"postgres", Postgres}, {"mysql", MySQL}} {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open) })
	}
}

// DSNs runs fn once per database URL kind the tests use: a fresh SQLite
// file in the test's temporary folder, and a fresh PostgreSQL database
// (dropped at cleanup; CI=true makes a missing PostgreSQL a failure).
func DSNs(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, d := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "store.db") }},
		{"postgres", func(t *testing.T) string { return PostgresDSN(t) }},
	} {
		t.Run(d.name, func(t *testing.T) { fn(t, d.dsn(t)) })
	}
}

// LegacyDSNs is DSNs plus a fresh MySQL/MariaDB database, for tests of
// the legacy side only (MariaDB is never a control store).
func LegacyDSNs(t *testing.T, fn func(t *testing.T, dsn string)) {
	DSNs(t, fn)
	t.Run("mysql", func(t *testing.T) { fn(t, MySQLDSN(t)) })
}

// Shared is the path of a file under ../shared/reference (from the module
// root), found by walking up from the test's folder.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for i := 0; i < 6; i++ {
		p := filepath.Join(dir, "..", "shared", "reference", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	t.Fatalf("shared reference %s not found (expected ../shared next to the repository)", rel)
	return ""
}

// Root is the module root.
func Root(t testing.TB) string {
	dir, _ := os.Getwd()
	for !strings.HasSuffix(dir, string(filepath.Separator)) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("module root not found")
	return ""
}
