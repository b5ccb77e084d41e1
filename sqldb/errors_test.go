package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestIsForeignKey: each live dialect's foreign-key refusals — a DELETE of
// a row others refer to, an INSERT naming a missing parent — are foreign
// key violations (and constraint violations); a duplicate key is a
// constraint violation only.
func TestIsForeignKey(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		for _, q := range []string{
			"CREATE TABLE fk_parent (id int NOT NULL PRIMARY KEY)",
			"CREATE TABLE fk_child (id int NOT NULL PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES fk_parent (id))",
			"INSERT INTO fk_parent (id) VALUES (1)",
			"INSERT INTO fk_child (id, parent_id) VALUES (1, 1)",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, tc := range []struct {
			name, q          string
			fk               bool
			constraintAnyway bool
		}{
			{"delete of a referenced row", "DELETE FROM fk_parent WHERE id = 1", true, true},
			{"insert naming a missing parent", "INSERT INTO fk_child (id, parent_id) VALUES (2, 9)", true, true},
			{"duplicate key", "INSERT INTO fk_parent (id) VALUES (1)", false, true},
		} {
			_, err := db.ExecContext(ctx, tc.q)
			if err == nil {
				t.Fatalf("%s: no error", tc.name)
			}
			if sqldb.IsForeignKey(err) != tc.fk || sqldb.IsConstraint(err) != tc.constraintAnyway {
				t.Errorf("%s: IsForeignKey %v, IsConstraint %v, want %v, %v (%s)", tc.name,
					sqldb.IsForeignKey(err), sqldb.IsConstraint(err), tc.fk, tc.constraintAnyway, sqldb.Describe(err))
			}
		}
	})
}

// TestIsForeignKeyDriverErrors: the drivers' errors as they arrive,
// wrapped or not, including SQL Server's (no server runs here), whose 547
// is a CHECK constraint's as well.
func TestIsForeignKeyDriverErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		fk   bool
	}{
		{"postgres 23503", &pgconn.PgError{Code: "23503"}, true},
		{"postgres 23505", &pgconn.PgError{Code: "23505"}, false},
		{"mysql 1451", &mysql.MySQLError{Number: 1451}, true},
		{"mysql 1452", &mysql.MySQLError{Number: 1452}, true},
		{"mysql 1217", &mysql.MySQLError{Number: 1217}, true},
		{"mysql 1062", &mysql.MySQLError{Number: 1062}, false},
		{"sqlserver 547 REFERENCE", mssql.Error{Number: 547, Message: `The DELETE statement conflicted with the REFERENCE constraint "FK_lab_result_pat". The conflict occurred in database "d", table "dbo.lab_result", column 'pat_id'.`}, true},
		{"sqlserver 547 FOREIGN KEY", mssql.Error{Number: 547, Message: `The INSERT statement conflicted with the FOREIGN KEY constraint "FK_x".`}, true},
		{"sqlserver 547 CHECK", mssql.Error{Number: 547, Message: `The INSERT statement conflicted with the CHECK constraint "CK_x".`}, false},
		{"sqlserver 2627", mssql.Error{Number: 2627}, false},
		{"wrapped", fmt.Errorf("delete: %w", &pgconn.PgError{Code: "23503"}), true},
		{"not a driver error", errors.New("FOREIGN KEY constraint failed"), false},
	} {
		if got := sqldb.IsForeignKey(tc.err); got != tc.fk {
			t.Errorf("%s: IsForeignKey %v, want %v", tc.name, got, tc.fk)
		}
	}
}
