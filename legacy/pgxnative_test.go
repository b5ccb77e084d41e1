package legacy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// On PostgreSQL, reads and searches run on a native pgx pool
// (sqldb.Reader), everything else on database/sql over pgx's stdlib. The
// mapping engine must get exactly the Go values it got from database/sql
// (an instant, a decimal or a uuid that changes type or text changes what
// is served), so these tests run the same statements on both paths and
// compare values with reflect.DeepEqual (a time.Time's location included).

// demoSchemas are the two demo legacy schemas, each seeded into a fresh
// PostgreSQL database.
var demoSchemas = []struct {
	name string
	seed func(testing.TB, *sqldb.DB, int) *mappings.Registry
}{
	{"demo", testutil.Seed},
	{"ehr", testutil.SeedEHR},
}

func TestPgxReaderMatchesStdlibOnEveryColumn(t *testing.T) {
	for _, sc := range demoSchemas {
		t.Run(sc.name, func(t *testing.T) {
			db := testutil.Postgres(t)
			sc.seed(t, db, 6)
			seen := map[string]int{} // column type -> non-NULL values compared
			for _, tb := range liveTables(t, db) {
				q := fmt.Sprintf("SELECT t.* FROM %s t ORDER BY t::text", tb.name)
				n := compareReaders(t, db, q, nil, len(tb.types))
				for i, typ := range tb.types {
					seen[typ] += n[i]
				}
			}
			t.Logf("non-NULL values compared per column type: %v", seen)
			for typ, n := range seen {
				if n == 0 {
					t.Errorf("no non-NULL %s value was compared: seed one, or the test proves nothing for that type", typ)
				}
			}
		})
	}
}

type liveTable struct {
	name  string   // quoted, schema-qualified
	types []string // udt_name per column, in order
}

// liveTables lists the seeded database's tables and views (the migration
// tool's own bookkeeping left out) with their column types.
func liveTables(t *testing.T, db *sqldb.DB) []liveTable {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `
		SELECT table_schema, table_name, udt_name FROM information_schema.columns
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name NOT LIKE 'schema_migrations%'
		ORDER BY table_schema, table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []liveTable
	for rows.Next() {
		var schema, table, typ string
		if err := rows.Scan(&schema, &table, &typ); err != nil {
			t.Fatal(err)
		}
		name := `"` + schema + `"."` + table + `"`
		if len(out) == 0 || out[len(out)-1].name != name {
			out = append(out, liveTable{name: name})
		}
		out[len(out)-1].types = append(out[len(out)-1].types, typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 3 {
		t.Fatalf("only %d tables found", len(out))
	}
	return out
}

// compareReaders runs q on the native Reader and on database/sql, fails on
// any difference in rows, values or Go types, and returns how many
// non-NULL values each column had.
func compareReaders(t *testing.T, db *sqldb.DB, q string, args []any, ncols int) []int {
	t.Helper()
	ctx := context.Background()
	native, err := db.Reader().QueryRows(ctx, q, args, ncols)
	if err != nil {
		t.Fatalf("%s: native: %v", q, err)
	}
	std, err := sqldb.SQLReader(db.DB).QueryRows(ctx, q, args, ncols)
	if err != nil {
		t.Fatalf("%s: database/sql: %v", q, err)
	}
	if len(native) != len(std) {
		t.Fatalf("%s: %d rows native, %d through database/sql", q, len(native), len(std))
	}
	if len(native) == 0 {
		t.Fatalf("%s: no rows: nothing compared", q)
	}
	n := make([]int, ncols)
	for r := range native {
		for c := range ncols {
			a, b := native[r][c], std[r][c]
			if !sameValue(a, b) {
				t.Errorf("%s: row %d column %d: native %T %#v, database/sql %T %#v", q, r, c, a, a, b, b)
			}
			if b != nil {
				n[c]++
			}
		}
	}
	return n
}

// sameValue is reflect.DeepEqual, except that NaN equals NaN.
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok && math.IsNaN(fa) {
		fb, ok := b.(float64)
		return ok && math.IsNaN(fb)
	}
	return reflect.DeepEqual(a, b)
}

// TestPgxReaderMatchesStdlibOnEveryType covers the types the demo schemas
// do not use, the values at each type's edges, NULLs and parameters.
func TestPgxReaderMatchesStdlibOnEveryType(t *testing.T) {
	db := testutil.Postgres(t)
	exprs := []string{
		"true", "false", `'\x00ff'::bytea`, "''::bytea", "'1'::cid", "'42'::oid", "'7'::xid",
		"'2024-02-29'::date", "'infinity'::date", "'-infinity'::date", "'4713-01-01 BC'::date",
		"1.5::float4", "'NaN'::float4", "'-Infinity'::float8", "1e300::float8", "3.14159265358979::float8",
		"(-32768)::int2", "2147483647::int4", "(-9223372036854775808)::int8",
		`'{"a": [1, 2.50]}'::json`, `'{"a": [1, 2.50]}'::jsonb`, "'<a>x</a>'::xml",
		"'2024-03-10 02:30:00.123456'::timestamp", "'infinity'::timestamp",
		"'2024-03-10 07:30:00.5+00'::timestamptz", "'1999-12-31 23:59:59-05'::timestamptz", "'-infinity'::timestamptz",
		"15.3000::numeric", "'NaN'::numeric", "123456789012345678901234567890.000000001::numeric", "41.749640::numeric(9,6)",
		"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", "'héllo'::text", "'x'::varchar(5)", "'ab'::char(4)",
		"'1 day 02:03:04'::interval", "12.34::money", "'10.1.2.3/8'::inet", "'{a,NULL,\"b c\"}'::text[]",
		"'{1,2}'::int4[]", "'12:34:56'::time", "'12:34:56+02'::timetz", "'101'::bit(3)", "'[1,5)'::int4range",
		"'a'::name", "'x'::\"char\"", "'fat & rat'::tsquery",
		"NULL::int8", "NULL::timestamptz", "NULL::numeric", "NULL::uuid", "NULL::bytea", "NULL::text",
		"$1::text", "$2::int8", "$3::timestamptz", "$4::timestamp", "$5::numeric", "$6::uuid", "$7::bool", "$8::bytea",
	}
	args := []any{"it's", int64(-5), time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC),
		"0.10", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", true, []byte{1, 2}}
	q := "SELECT " + strings.Join(exprs, ", ")
	compareReaders(t, db, q, args, len(exprs))
	// a few rows, so a value reused row to row would show
	compareReaders(t, db, "SELECT g, g::text, timestamptz '2024-03-10 12:00:00.5+00' - g * interval '1 hour', ('{\"n\": '||g||'}')::jsonb, decode(lpad(to_hex(g), 2, '0'), 'hex') FROM generate_series(1, 50) g", nil, 5)
	// counts
	for _, r := range []sqldb.Reader{db.Reader(), sqldb.SQLReader(db.DB)} {
		n, err := r.QueryInt(context.Background(), "SELECT count(*) FROM generate_series(1, $1::int)", []any{int64(37)})
		if err != nil || n != 37 {
			t.Errorf("count: %d, %v", n, err)
		}
	}
}

// TestPgxReaderErrorsMatchStdlib: a database error keeps its SQLSTATE on
// the native path (dbErr describes it, so no 5xx text changes), and a
// cancelled request is a context error there too (the 499 path).
func TestPgxReaderErrorsMatchStdlib(t *testing.T) {
	db := testutil.Postgres(t)
	ctx := context.Background()
	for _, r := range []struct {
		name string
		r    sqldb.Reader
	}{{"native", db.Reader()}, {"database/sql", sqldb.SQLReader(db.DB)}} {
		_, err := r.r.QueryRows(ctx, "SELECT $1::uuid", []any{"not-a-uuid"}, 1)
		if got := sqldb.Describe(err); got != "postgres error SQLSTATE 22P02" {
			t.Errorf("%s: bad uuid: %q", r.name, got)
		}
		_, err = r.r.QueryRows(ctx, "SELECT nope FROM generate_series(1,1)", nil, 1)
		if got := sqldb.Describe(err); got != "postgres error SQLSTATE 42703" {
			t.Errorf("%s: unknown column: %q", r.name, got)
		}
		_, err = r.r.QueryRows(ctx, "SELECT 1, 2", nil, 1)
		if err == nil {
			t.Errorf("%s: 2 columns scanned as 1: no error", r.name)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err = r.r.QueryRows(cctx, "SELECT 1", nil, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled before: %v", r.name, err)
		}
		tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err = r.r.QueryRows(tctx, "SELECT pg_sleep(2)", nil, 1)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: cancelled during: %v", r.name, err)
		}
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPgxBackendMatchesStdlib serves every resource of both demo schemas
// through the legacy backend on each path: search pages (with totals and
// cursors) and reads must give byte-identical resources.
func TestPgxBackendMatchesStdlib(t *testing.T) {
	for _, sc := range demoSchemas {
		t.Run(sc.name, func(t *testing.T) {
			db := testutil.Postgres(t)
			reg := sc.seed(t, db, 6)
			native, std := legacy.New(db, reg), legacy.NewStdlib(db, reg)
			for _, typ := range reg.Types() {
				a, b := allPages(t, native, typ), allPages(t, std, typ)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: the paths serve different pages:\nnative %v\ndatabase/sql %v", typ, a, b)
				}
				if len(a) == 0 {
					t.Fatalf("%s: nothing served: nothing compared", typ)
				}
				for _, r := range a[:min(len(a), 8)] {
					ra, err1 := native.Read(context.Background(), typ, r.ID)
					rb, err2 := std.Read(context.Background(), typ, r.ID)
					if err1 != nil || err2 != nil || !reflect.DeepEqual(ra, rb) {
						t.Errorf("%s/%s: read differs: %v %v\n%v\n%v", typ, r.ID, err1, err2, ra, rb)
					}
				}
			}
		})
	}
}

func allPages(t *testing.T, b *legacy.Backend, typ string) []*backend.Resource {
	t.Helper()
	var out []*backend.Resource
	cursor := ""
	for range 1000 {
		res, err := b.Search(context.Background(), typ, &search.Query{}, backend.SearchOptions{Count: 7, Cursor: cursor, Total: cursor == ""})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		out = append(out, res.Resources...)
		if cursor = res.Next; cursor == "" {
			return out
		}
	}
	t.Fatal("paging does not end")
	return nil
}
