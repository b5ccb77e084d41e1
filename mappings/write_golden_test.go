package mappings_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var goldenDialects = []sqldb.Dialect{sqldb.SQLite{}, sqldb.Postgres{}, sqldb.SQLServer{}, sqldb.MySQL{}}

// TestWriteSQLGolden pins the write-back statements (code lookup, INSERT with
// its returned key, optimistic UPDATE, DELETE) of each dialect: like the
// search SQL, T-SQL's only check in CI is this file and its parse
// (TestGoldenTSQLParses).
func TestWriteSQLGolden(t *testing.T) {
	reg := registry(t)
	stamp := mappings.DateTimeVal{Time: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}
	old := mappings.DateTimeVal{Time: time.Date(2024, 7, 2, 9, 0, 0, 123e6, time.UTC)}
	cases := []struct {
		name, typ string
		row       mappings.Row
	}{
		{"write-patient", "Patient", patientRow(reg)},
		{"write-observation", "Observation", observationRow(reg, "5.40", "mg/L")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := reg.Spec(c.typ)
			b, _, err := s.Encode(nil, c.row)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, d := range goldenDialects {
				v, err := s.WriteValues(decode(t, string(b)), func(j mappings.Join, v mappings.Values) (any, error) {
					st, ok := s.ResolveStmt(d, j, v)
					if !ok {
						t.Fatalf("join %s needs no resolving", j.Alias)
					}
					fmt.Fprintf(&out, "-- %s\n%s\n-- args: %s\n\n", d.Name(), st.SQL, fmtArgs(st.Args))
					return "CRP", nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range []mappings.Stmt{
					s.InsertStmt(d, v, stamp),
					s.UpdateStmt(d, int64(42), v, old, stamp),
					s.DeleteStmt(d, int64(42)),
				} {
					fmt.Fprintf(&out, "-- %s\n%s\n-- args: %s\n\n", d.Name(), st.SQL, fmtArgs(st.Args))
				}
			}
			golden(t, "sql/"+c.name+".sql", out.Bytes())
		})
	}
}

// TestKeysetSQLGolden pins the SQL of a page after the first: the keyset
// condition, expanded because T-SQL has no row-value comparison, and the
// NULL tail of a nullable sort column.
func TestKeysetSQLGolden(t *testing.T) {
	reg := registry(t)
	cases := []struct {
		name, typ, query string
		after            []any
	}{
		{"patient-sort-page2", "Patient", "_sort=-birthdate,family", []any{"s:1961-02-28", "s:O'Brien", "i:42"}},
		{"patient-sort-page2-null", "Patient", "_sort=-birthdate,family", []any{nil, "s:Smith", "i:7"}},
		{"observation-date-page2", "Observation", "patient=42&_sort=date", []any{"s:2024-01-05 07:30:00", "i:7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { searchGolden(t, reg.Spec(c.typ), c.name, c.query, c.after) })
	}
}
