// Package migrations holds the embedded golang-migrate schemas for the two
// legacy demo databases (SQL Server, PostgreSQL, MySQL/MariaDB, SQLite) and
// for the control store (PostgreSQL, SQLite), and runs them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/database/mysql"
	"github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/database/sqlserver"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed legacy legacy_ehr control
var files embed.FS

// Store names which schema to migrate.
type Store string

const (
	// Legacy is the demo legacy clinical schema.
	Legacy Store = "legacy"
	// LegacyEHR is the second demo legacy schema, in the style of a SQL
	// Server EHR database (dbo.PatientMaster, uniqueidentifier keys,
	// datetimeoffset); see legacy_ehr/README.md.
	LegacyEHR Store = "legacy_ehr"
	// Control is the facade's own control store.
	Control Store = "control"
)

// versionTables keeps each store's golang-migrate bookkeeping apart, so the
// stores can share one database (both demo schemas in one SQLite file).
var versionTables = map[Store]string{
	Legacy:    "schema_migrations",
	LegacyEHR: "ehr_schema_migrations",
	Control:   "facade_schema_migrations",
}

// Up applies every pending migration of store to db, whose dialect is one of
// "sqlite", "postgres", "sqlserver", "mysql" (legacy only). Running it again
// is a no-op.
func Up(db *sql.DB, store Store, dialect string) error {
	src, err := iofs.New(files, string(store)+"/"+dialect)
	if err != nil {
		return fmt.Errorf("migrations: no %s schema for dialect %q: %w", store, dialect, err)
	}
	var drv database.Driver
	table, ok := versionTables[store]
	if !ok {
		return fmt.Errorf("migrations: unknown store %q", store)
	}
	switch dialect {
	case "sqlite":
		drv, err = sqlite.WithInstance(db, &sqlite.Config{MigrationsTable: table})
	case "postgres":
		drv, err = pgx.WithInstance(db, &pgx.Config{MigrationsTable: table})
	case "sqlserver":
		drv, err = sqlserver.WithInstance(db, &sqlserver.Config{MigrationsTable: table})
	case "mysql":
		// WithConnection on a connection of our own: the driver's Close
		// would otherwise close the caller's whole pool. (The connection
		// must allow several statements at once; sqldb.Open's does.)
		var conn *sql.Conn
		if conn, err = db.Conn(context.Background()); err != nil {
			return fmt.Errorf("migrations: mysql: %w", err)
		}
		defer conn.Close()
		drv, err = mysql.WithConnection(context.Background(), conn, &mysql.Config{MigrationsTable: table})
	default:
		return fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	if err != nil {
		return fmt.Errorf("migrations: %s driver: %w", dialect, err)
	}
	m, err := migrate.NewWithInstance("iofs", src, dialect, drv)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrations: %s up: %w", store, err)
	}
	return nil
}
