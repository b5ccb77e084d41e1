// Package control is the facade's own store (PostgreSQL in production,
// SQLite embedded) and the one owner of its tables: secrets, routes and
// their journal, the audit chain, parity, sync runs and checkpoints, the
// outbox and the id map, each behind typed methods.
package control

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Store is an open, migrated control store.
type Store struct {
	DB *sqldb.DB
}

// Open connects to dsn (postgres:// or sqlite://) and migrates it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	// refused before connecting, so the message is the same whether or
	// not that server is up
	if scheme, _, _ := strings.Cut(dsn, "://"); strings.EqualFold(scheme, "mysql") || strings.EqualFold(scheme, "mariadb") {
		return nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: the control store runs on PostgreSQL or SQLite, not MySQL/MariaDB (a mysql:// URL serves as FHIRFACADE_LEGACY_DSN only)")
	}
	db, err := sqldb.Open(ctx, dsn, sqldb.WithoutReadPool())
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	if !sqldb.CoordinationOf(db.Dialect).ControlStore {
		db.Close()
		return nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: the control store runs on PostgreSQL or SQLite, not SQL Server")
	}
	if err := migrations.Up(db.DB, migrations.Control, db.Dialect.Name()); err != nil {
		db.Close()
		return nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	return &Store{DB: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.DB.Close() }

// Secret returns the named random secret of n bytes, creating it on first
// use. Every facade process sharing the store gets the same value, so page
// tokens issued by one are accepted by the others and survive restarts.
func (s *Store) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	d := s.DB.Dialect
	fresh := make([]byte, n)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	created := sqldb.StampArg(d, time.Now())
	// insert-if-absent is atomic, so concurrent first starts agree on one key
	q := fmt.Sprintf("INSERT INTO facade_secret (name, value, created_at) VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
		d.Placeholder(1), d.Placeholder(2), d.Placeholder(3))
	if _, err := s.DB.ExecContext(ctx, q, name, fresh, created); err != nil {
		return nil, fmt.Errorf("control: store secret %s: %w", name, err)
	}
	var v []byte
	q = "SELECT value FROM facade_secret WHERE name = " + d.Placeholder(1)
	if err := s.DB.QueryRowContext(ctx, q, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("control: read secret %s: %w", name, err)
	}
	if len(v) != n {
		return nil, fmt.Errorf("control: secret %s has %d bytes, want %d", name, len(v), n)
	}
	return v, nil
}
