package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestTableColumnsScale: introspection tells a decimal column's scale
// (and its precision, the digits it holds in all) where the database
// rounds to it — PostgreSQL and MariaDB from the
// catalog (MariaDB's bare decimal is decimal(10,0)) — and not where it
// does not: SQLite stores a NUMERIC(9,6) value as given, an unconstrained
// PostgreSQL numeric keeps every digit, PostgreSQL's money follows
// lc_monetary; nor for a column that is not a decimal. PostgreSQL 15's
// numeric(2,4), a precision below its scale, has its scale but no
// precision (the database tells what fits).
func TestTableColumnsScale(t *testing.T) {
	for _, c := range []struct {
		name, ddl string
		want      string // name:kind:scale[:precision] of each column, ? when the scale is unknown
	}{
		{"sqlite", "lat NUMERIC(9,6), amt decimal(12,2), n integer, f real, s varchar(5)",
			"lat:decimal:?,amt:decimal:?,n:int:?,f:float:?,s:text:?"},
		{"postgres", "lat numeric(9,6), amt decimal(12,2), whole numeric(5,0), free numeric, cash money, n integer, f real, s varchar(5), tiny numeric(2,4)",
			"lat:decimal:6:9,amt:decimal:2:12,whole:decimal:0:5,free:decimal:?,cash:decimal:?,n:int:?,f:float:?,s:text:?,tiny:decimal:4"},
		{"mysql", "lat decimal(9,6), amt numeric(12,2), bare decimal, n int, f float(7,3), s varchar(5)",
			"lat:decimal:6:9,amt:decimal:2:12,bare:decimal:0:10,n:int:?,f:float:?,s:text:?"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := map[string]func(testing.TB) *sqldb.DB{"sqlite": testutil.SQLite, "postgres": testutil.Postgres, "mysql": testutil.MySQL}[c.name](t)
			ctx := context.Background()
			if _, err := db.ExecContext(ctx, "CREATE TABLE scaled ("+c.ddl+")"); err != nil {
				t.Fatal(err)
			}
			cols, err := db.TableColumns(ctx, "", "scaled")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, col := range cols {
				scale := "?"
				if col.HasScale {
					scale = fmt.Sprint(col.Scale)
				}
				if col.Precision > 0 {
					scale += fmt.Sprint(":", col.Precision)
				}
				got = append(got, col.Name+":"+string(col.Kind)+":"+scale)
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("columns %s, want %s", strings.Join(got, ","), c.want)
			}
		})
	}
}
