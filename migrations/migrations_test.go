package migrations_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/database/mysql"
	"github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/database/sqlite"
	_ "github.com/golang-migrate/migrate/v4/source/file"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestOutboxUnmirrorable: migration 7 lets outbox rows be 'unmirrorable'
// on both control stores, keeping every row and id (SQLite rebuilds the
// table), and its down migration turns them into failed rows (which the
// fhir -> shadow guard still counts).
func TestOutboxUnmirrorable(t *testing.T) {
	testutil.Dialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		d := db.Dialect
		var drv database.Driver
		var err error
		if d.Name() == "sqlite" {
			drv, err = sqlite.WithInstance(db.DB, &sqlite.Config{MigrationsTable: "facade_schema_migrations"})
		} else {
			drv, err = pgx.WithInstance(db.DB, &pgx.Config{MigrationsTable: "facade_schema_migrations"})
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := migrate.NewWithDatabaseInstance("file://control/"+d.Name(), d.Name(), drv)
		if err != nil {
			t.Fatal(err)
		}
		insert := func(state string) error {
			_, err := db.ExecContext(ctx, "INSERT INTO outbox (target, resource_type, resource_id, created_at, state) VALUES ('legacy', 'Patient', 'x', "+
				d.Placeholder(1)+", "+d.Placeholder(2)+")", sqldb.StampArg(d, time.Now()), state)
			return err
		}
		states := func() string {
			// in id order, which the migrations keep; CAST: a result type
			// that stays put when the column is altered (pgx caches plans)
			rows, err := db.QueryContext(ctx, "SELECT CAST(state AS TEXT) FROM outbox ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := ""
			for rows.Next() {
				var st string
				_ = rows.Scan(&st)
				out += " " + st
			}
			return out
		}
		steps := []struct {
			to    uint
			state string // inserted after the step
			ok    bool
			want  string // rows after the insert
		}{
			{6, "pending", true, " pending"},
			{6, "failed", true, " pending failed"},
			{6, "unmirrorable", false, " pending failed"},
			{7, "unmirrorable", true, " pending failed unmirrorable"},
			{7, "bogus", false, " pending failed unmirrorable"},
			{6, "unmirrorable", false, " pending failed failed"},
			{7, "pending", true, " pending failed failed pending"},
		}
		for i, s := range steps {
			if err := m.Migrate(s.to); err != nil && err != migrate.ErrNoChange {
				t.Fatalf("step %d: migrate to %d: %v", i, s.to, err)
			}
			if err := insert(s.state); (err == nil) != s.ok {
				t.Fatalf("step %d: insert %s at version %d: %v", i, s.state, s.to, err)
			}
			if got := states(); got != s.want {
				t.Fatalf("step %d: rows%s, want%s", i, got, s.want)
			}
		}
		if err := m.Up(); err != nil && err != migrate.ErrNoChange {
			t.Fatal(err)
		}
	})
}

// TestLegacyEHRDownUp: the EHR schema's down migrations undo its up
// migrations on every testable dialect (the view first, then the tables),
// and it migrates up again; it shares the database with the first demo
// schema, each with its own version table.
func TestLegacyEHRDownUp(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		d := db.Dialect.Name()
		if err := migrations.Up(db.DB, migrations.Legacy, d); err != nil {
			t.Fatal(err)
		}
		if err := migrations.Up(db.DB, migrations.LegacyEHR, d); err != nil {
			t.Fatal(err)
		}
		drv := ehrVersionDriver(t, db)
		m, err := migrate.NewWithDatabaseInstance("file://legacy_ehr/"+d, d, drv)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, err := m.Version(); err != nil || v != 4 {
			t.Fatalf("EHR schema at version %d (%v), want 4", v, err)
		}
		if err := m.Down(); err != nil {
			t.Fatal(err)
		}
		table := sqldb.TableSQL(db.Dialect, "dbo", "PatientMaster")
		if _, err := db.Exec("SELECT 1 FROM " + table); err == nil {
			t.Fatal("PatientMaster still there after down")
		}
		if _, err := db.Exec("SELECT 1 FROM pat_master"); err != nil {
			t.Fatalf("the first demo schema went down too: %v", err)
		}
		if err := migrations.Up(db.DB, migrations.LegacyEHR, d); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("SELECT 1 FROM " + table); err != nil {
			t.Fatal(err)
		}
	})
}

// ehrVersionDriver is golang-migrate's driver for db on the EHR schema's
// version table (MariaDB: on a connection of its own, which the driver
// closes, not the test's pool).
func ehrVersionDriver(t *testing.T, db *sqldb.DB) database.Driver {
	t.Helper()
	var drv database.Driver
	var err error
	switch db.Dialect.Name() {
	case "sqlite":
		drv, err = sqlite.WithInstance(db.DB, &sqlite.Config{MigrationsTable: "ehr_schema_migrations"})
	case "mysql":
		var conn *sql.Conn
		if conn, err = db.Conn(context.Background()); err == nil {
			drv, err = mysql.WithConnection(context.Background(), conn, &mysql.Config{MigrationsTable: "ehr_schema_migrations"})
		}
	default:
		drv, err = pgx.WithInstance(db.DB, &pgx.Config{MigrationsTable: "ehr_schema_migrations"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return drv
}
