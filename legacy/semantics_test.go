package legacy_test

import (
	"bufio"
	"context"
	"errors"
	"net/url"
	"os"
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

var basicDDL = map[string]string{
	"sqlite": `CREATE TABLE basic_t (id INTEGER PRIMARY KEY, upd_ts DATETIME NOT NULL, s1 VARCHAR(100), s2 VARCHAR(100),
		d DATE, b CHAR(1), c VARCHAR(20), ms VARCHAR(20), mi VARCHAR(20), phone VARCHAR(30), phone_uri VARCHAR(30), email VARCHAR(40))`,
	"postgres": `CREATE TABLE basic_t (id integer PRIMARY KEY, upd_ts timestamp(3) NOT NULL, s1 varchar(100), s2 varchar(100),
		d date, b char(1), c varchar(20), ms varchar(20), mi varchar(20), phone varchar(30), phone_uri varchar(30), email varchar(40))`,
	"mysql": `CREATE TABLE basic_t (id int PRIMARY KEY, upd_ts datetime(3) NOT NULL, s1 varchar(100), s2 varchar(100),
		d date, b char(1), c varchar(20), ms varchar(20), mi varchar(20), phone varchar(30), phone_uri varchar(30), email varchar(40))
		DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
}

// basicEHRDDL is basic_t as an EHR-style (SQL Server port) schema has it:
// a dbo schema where the dialect has schemas, PascalCase names (some with
// a space), a uuid key and an instant last-updated column; the date
// column stays a DATE.
var basicEHRDDL = map[string][]string{
	"sqlite": {`CREATE TABLE "BasicRecord" ("BasicID" UNIQUEIDENTIFIER NOT NULL PRIMARY KEY, "ModifiedAt" DATETIMEOFFSET(3) NOT NULL,
		"String One" NVARCHAR(100), "StringTwo" NVARCHAR(100), "TheDate" DATE, "Flag" CHAR(1), "Code" NVARCHAR(20),
		"Missing String" NVARCHAR(20), "MissingIdent" NVARCHAR(20), "Phone" VARCHAR(30), "Phone Uri" VARCHAR(30), "Email" NVARCHAR(40))`},
	"postgres": {`CREATE SCHEMA IF NOT EXISTS dbo`,
		`CREATE TABLE dbo."BasicRecord" ("BasicID" uuid PRIMARY KEY, "ModifiedAt" timestamptz(3) NOT NULL,
		"String One" varchar(100), "StringTwo" varchar(100), "TheDate" date, "Flag" char(1), "Code" varchar(20),
		"Missing String" varchar(20), "MissingIdent" varchar(20), "Phone" varchar(30), "Phone Uri" varchar(30), "Email" varchar(40))`},
	"mysql": {"CREATE TABLE `BasicRecord` (`BasicID` uuid PRIMARY KEY, `ModifiedAt` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)," +
		" `String One` varchar(100), `StringTwo` varchar(100), `TheDate` date, `Flag` char(1), `Code` varchar(20)," +
		" `Missing String` varchar(20), `MissingIdent` varchar(20), `Phone` varchar(30), `Phone Uri` varchar(30), `Email` varchar(40))" +
		" DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"},
}

// semanticsRow holds the values of the reference's example resources
// (BasicDate/BasicString/BasicToken.json), the same in every variant.
var semanticsRow = struct {
	updated, date                         time.Time
	s1, s2, flag, code, phone, uri, email string
}{
	updated: time.Date(2018, 10, 29, 17, 12, 44, 0, time.FixedZone("", -4*3600)), // the spec's zone, GMT-4
	date:    time.Date(2018, 10, 29, 0, 0, 0, 0, time.UTC),
	s1:      "testString", s2: `special testChars & : ; $ | , \`, flag: "Y", code: "code",
	phone: "(555) 675 5745", uri: "tel:+15556755745", email: "test@example.com",
}

// semanticsVariant is one shape of the table the assertions run over:
// its specs folder, its DDL and the INSERT of semanticsRow.
type semanticsVariant struct {
	name, specs string
	ddl         func(d sqldb.Dialect) []string
	insert      func(d sqldb.Dialect) (string, []any)
}

var semanticsVariants = []semanticsVariant{
	{
		name: "plain", specs: "testdata/semantics",
		ddl: func(d sqldb.Dialect) []string { return []string{basicDDL[d.Name()]} },
		insert: func(d sqldb.Dialect) (string, []any) {
			r := semanticsRow
			return "INSERT INTO basic_t (id, upd_ts, s1, s2, d, b, c, phone, phone_uri, email) VALUES (" + placeholders(d, 10) + ")",
				// the zone-less column holds the wall clock in the spec's zone
				[]any{1, d.TimeArg(mustTime("2018-10-29 17:12:44")), r.s1, r.s2, d.DateArg(r.date), r.flag, r.code, r.phone, r.uri, r.email}
		},
	},
	{
		name: "ehr", specs: "testdata/semantics_ehr",
		ddl: func(d sqldb.Dialect) []string { return basicEHRDDL[d.Name()] },
		insert: func(d sqldb.Dialect) (string, []any) {
			r := semanticsRow
			var upd any = r.updated
			if sqldb.TimesAsText(d) { // SQLite: datetimeoffset text with the row's offset
				upd = r.updated.Format("2006-01-02T15:04:05.000-07:00")
			}
			cols := []string{"BasicID", "ModifiedAt", "String One", "StringTwo", "TheDate", "Flag", "Code", "Phone", "Phone Uri", "Email"}
			for i, c := range cols {
				cols[i] = sqldb.QuoteName(d, c)
			}
			return "INSERT INTO " + sqldb.TableSQL(d, "dbo", "BasicRecord") + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(d, 10) + ")",
				[]any{"5f0c2a9e-1b7d-4c3e-9a8f-2d6e4b1c7a90", upd, r.s1, r.s2, d.DateArg(r.date), r.flag, r.code, r.phone, r.uri, r.email}
		},
	},
}

func placeholders(d sqldb.Dialect, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = d.Placeholder(i + 1)
	}
	return strings.Join(ph, ", ")
}

// TestSearchSemantics runs every assertion of the shared search-semantics
// reference (transcribed from another FHIR server's tests) through the real
// SQL translation on SQLite, PostgreSQL and MariaDB: one row holding the values of
// the reference's example resources, one search per assertion. It runs
// over two shapes of that row's table: plain lower-case names with an int
// key and a zone-less stamp, and the EHR style (dbo schema, PascalCase and
// spaced names, uuid key, instant stamp).
func TestSearchSemantics(t *testing.T) {
	rows := readAssertions(t)
	for _, v := range semanticsVariants {
		t.Run(v.name, func(t *testing.T) {
			testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
				runSemantics(t, open(t), v, rows)
			})
		})
	}
}

// runSemantics creates v's table in db, inserts the row, binds v's specs
// to the live table and runs each assertion as one search.
func runSemantics(t *testing.T, db *sqldb.DB, v semanticsVariant, rows []assertion) {
	// a registry per run: BindLive binds it to this database's names
	reg, err := mappings.LoadDir(v.specs)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, stmt := range v.ddl(db.Dialect) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	ins, args := v.insert(db.Dialect)
	if _, err := db.ExecContext(ctx, ins, args...); err != nil {
		t.Fatal(err)
	}
	// bound to the live table, as serve binds: the SQL then uses the
	// live names and the column kinds
	if err := reg.BindLive(ctx, db); err != nil {
		t.Fatal(err)
	}
	be := legacy.New(db, reg)
	t.Run("the row as served", func(t *testing.T) { checkSemanticsRow(t, be) })
	for _, a := range rows {
		t.Run(a.name, func(t *testing.T) { checkAssertion(t, be, a) })
	}
}

// checkSemanticsRow: both variants serve the one row with the same
// values; in particular the same meta.lastUpdated instant, whether the
// column holds the spec zone's wall clock or an instant with its offset.
func checkSemanticsRow(t *testing.T, be *legacy.Backend) {
	res, err := be.Search(context.Background(), "Basic", &search.Query{}, backend.SearchOptions{Count: 10})
	if err != nil || len(res.Resources) != 1 {
		t.Fatalf("Basic: %v, %v", res, err)
	}
	m := decode(t, res.Resources[0].JSON)
	lu, _ := m["meta"].(map[string]any)["lastUpdated"].(string)
	if got, err := time.Parse(time.RFC3339, lu); err != nil || !got.Equal(semanticsRow.updated) {
		t.Errorf("meta.lastUpdated %q, want the instant %s", lu, semanticsRow.updated.Format(time.RFC3339))
	}
	want := map[string]any{"http://example.org/date": "2018-10-29", "http://example.org/boolean": true, "http://example.org/code": semanticsRow.code}
	for _, e := range m["extension"].([]any) {
		e := e.(map[string]any)
		for k, v := range e {
			if w, ok := want[e["url"].(string)]; ok && k != "url" && v != w {
				t.Errorf("%s: %v, want %v", e["url"], v, w)
			}
		}
	}
}

// checkAssertion runs one assertion's search against the one-row table.
func checkAssertion(t *testing.T, be *legacy.Backend, a assertion) {
	ctx := context.Background()
	raw := url.QueryEscape(a.param) + "=" + url.QueryEscape(a.value)
	vals, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(vals)
	var res *backend.SearchResult
	if err == nil {
		res, err = be.Search(ctx, "Basic", q, backend.SearchOptions{Count: 10, Strict: true})
	}
	if strings.Contains(a.note, "request rejected") {
		if err == nil || !(errors.Is(err, backend.ErrInvalid) || errors.Is(err, search.ErrInvalid)) {
			t.Fatalf("%s=%s: want a 400-class error, got %v", a.param, a.value, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s=%s: %v", a.param, a.value, err)
	}
	got := len(res.Resources) == 1
	if got != (a.expected == "match") {
		t.Fatalf("%s=%s (%s): matched=%v, the reference says %s", a.param, a.value, a.source, got, a.expected)
	}
}

type assertion struct{ name, source, param, value, expected, note string }

func readAssertions(t *testing.T) []assertion {
	f, err := os.Open(testutil.Shared(t, "search-semantics/search-assertions.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []assertion
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 {
			continue
		}
		a := assertion{source: c[0], param: c[2], value: c[3], expected: c[4]}
		if len(c) > 5 {
			a.note = c[5]
		}
		a.name = strings.TrimPrefix(a.source[strings.LastIndex(a.source, ".")+1:], "testSearch") + "/" + a.param + "=" + a.value
		out = append(out, a)
	}
	if len(out) < 180 {
		t.Fatalf("only %d assertions read", len(out))
	}
	return out
}
