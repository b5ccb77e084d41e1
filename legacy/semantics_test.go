package legacy_test

import (
	"bufio"
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

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

// TestSearchSemantics runs every assertion of the shared search-semantics
// reference (transcribed from another FHIR server's tests) through the real
// SQL translation on SQLite, PostgreSQL and MariaDB: one row holding the values of
// the reference's example resources, one search per assertion.
func TestSearchSemantics(t *testing.T) {
	reg, err := mappings.LoadDir("testdata/semantics")
	if err != nil {
		t.Fatal(err)
	}
	rows := readAssertions(t)
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, basicDDL[db.Dialect.Name()]); err != nil {
			t.Fatal(err)
		}
		d := db.Dialect
		var ph []string
		for i := 1; i <= 11; i++ {
			ph = append(ph, d.Placeholder(i))
		}
		ins := "INSERT INTO basic_t (id, upd_ts, s1, s2, d, b, c, phone, phone_uri, email) VALUES (" + strings.Join(ph[:10], ", ") + ")"
		upd := mappings.DateTimeVal{}
		_ = upd
		if _, err := db.ExecContext(ctx, ins, 1, d.TimeArg(mustTime("2018-10-29 17:12:44")), "testString", `special testChars & : ; $ | , \`,
			d.DateArg(mustTime("2018-10-29 00:00:00")), "Y", "code", "(555) 675 5745", "tel:+15556755745", "test@example.com"); err != nil {
			t.Fatal(err)
		}
		// bound to the live table, as serve binds: the SQL then uses the
		// live names and the column kinds
		if err := reg.BindLive(ctx, db); err != nil {
			t.Fatal(err)
		}
		be := legacy.New(db, reg)
		for _, a := range rows {
			t.Run(a.name, func(t *testing.T) {
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
			})
		}
	})
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
