package legacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

const ehrPatients = 30

// ehrWorld is the legacy backend over the SQL Server EHR-style demo schema
// (migrations/legacy_ehr) with its shipped specs, bound to the database.
type ehrWorld struct {
	t      *testing.T
	be     *legacy.Backend
	sqlite bool
	mysql  bool
}

func (w ehrWorld) search(typ, query string, count int) *backend.SearchResult {
	w.t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		w.t.Fatal(err)
	}
	q, err := search.ParseQuery(vals)
	if err != nil {
		w.t.Fatalf("%s?%s: %v", typ, query, err)
	}
	res, err := w.be.Search(context.Background(), typ, q, backend.SearchOptions{Count: count, Total: true})
	if err != nil {
		w.t.Fatalf("%s?%s: %v", typ, query, err)
	}
	return res
}

func (w ehrWorld) all(typ, query string) []map[string]any { return w.allBy(typ, query, 7) }

func (w ehrWorld) allBy(typ, query string, count int) []map[string]any {
	w.t.Helper()
	vals, _ := url.ParseQuery(query)
	q, err := search.ParseQuery(vals)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []map[string]any
	cursor := ""
	for pages := 0; pages < 1000; pages++ {
		res, err := w.be.Search(context.Background(), typ, q, backend.SearchOptions{Count: count, Cursor: cursor})
		if err != nil {
			w.t.Fatalf("%s?%s page %d: %v", typ, query, pages, err)
		}
		for _, r := range res.Resources {
			out = append(out, decode(w.t, r.JSON))
		}
		if cursor = res.Next; cursor == "" {
			return out
		}
	}
	w.t.Fatal("paging does not end")
	return nil
}

func decode(t *testing.T, js []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	return m
}

// TestEHRSchema: the second demo schema, served from its specs alone, on
// SQLite and PostgreSQL — each failure the issue found on a database
// nobody here designed (uuid keys, timestamptz/datetimeoffset, PascalCase
// and spaced names, NULL last-updated, one death date column, decimals).
func TestEHRSchema(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		reg := testutil.SeedEHR(t, db, ehrPatients)
		w := ehrWorld{t: t, be: legacy.New(db, reg), sqlite: db.Dialect.Name() == "sqlite", mysql: db.Dialect.Name() == "mysql"}
		t.Run("instants are not shifted", func(t *testing.T) { w.t = t; testEHRInstants(t, w) })
		t.Run("values no column can hold match nothing", func(t *testing.T) { w.t = t; testEHRNoMatch(t, w) })
		t.Run("names and NULLs", func(t *testing.T) { w.t = t; testEHRNames(t, w) })
		t.Run("sorted by instant across pages", func(t *testing.T) { w.t = t; testEHRSort(t, w) })
		t.Run("sorted by a nullable last-updated across pages", func(t *testing.T) { w.t = t; testEHRSortNullable(t, w) })
		t.Run("probe findings", func(t *testing.T) { w.t = t; testEHRProbe(t, w) })
		t.Run("quantity numbers", func(t *testing.T) { w.t = t; testEHRQuantityNumbers(t, w) })
		t.Run("dates at the ends of the years legacy holds", func(t *testing.T) { w.t = t; testEHRDateEdges(t, w) })
		t.Run("paged by a datetime2 last-updated", func(t *testing.T) { w.t = t; testEHRWallClockPaging(t, w) })
	})
}

// testEHRInstants: a datetimeoffset / timestamptz value is served as the
// same instant (once it was the stored clock with the spec's offset: five
// hours off), and a date search compares instants.
func testEHRInstants(t *testing.T, w ehrWorld) {
	ctx := context.Background()
	for _, i := range []int{1, 4, 7, 14} {
		p := seed.EHRPatientData(i)
		for k, r := range p.Results {
			res, err := w.be.Read(ctx, "Observation", r.GUID)
			if err != nil {
				t.Fatalf("patient %d result %d: %v", i, k, err)
			}
			m := decode(t, res.JSON)
			got, err := time.Parse(time.RFC3339, m["effectiveDateTime"].(string))
			if err != nil || !got.Equal(r.CollectedAt) {
				t.Fatalf("patient %d result %d: effectiveDateTime %v, stored instant %s", i, k, m["effectiveDateTime"], r.CollectedAt.Format(time.RFC3339))
			}
		}
	}
	// date=ge<instant>: as many as the seed has at or after that instant
	pivot := seed.EHRPatientData(3).Results[2].CollectedAt
	want := 0
	for i := 1; i <= ehrPatients; i++ {
		for _, r := range seed.EHRPatientData(i).Results {
			if !r.CollectedAt.Before(pivot) {
				want++
			}
		}
	}
	res := w.search("Observation", "date=ge"+url.QueryEscape(pivot.Format(time.RFC3339)), 1)
	if *res.Total != want {
		t.Errorf("date=ge%s: %d, want %d", pivot.Format(time.RFC3339), *res.Total, want)
	}
}

// testEHRNoMatch: ids, references and codes that no value of a uuid, int
// or date column can be answer 404 / an empty page, never a database
// error (22P02 on PostgreSQL was a 503).
func testEHRNoMatch(t *testing.T, w ehrWorld) {
	if _, err := w.be.Read(context.Background(), "Patient", "not-a-uuid"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("read Patient/not-a-uuid: %v, want not found", err)
	}
	for _, c := range []struct{ typ, q string }{
		{"Patient", "_id=123"},
		{"Patient", "_id=123," + seed.EHRPatientGUID(1)},
		{"Observation", "patient=Patient/123-45-6789"},
		{"Observation", "subject=12345"},
		{"Encounter", "patient=abc"},
	} {
		res := w.search(c.typ, c.q, 10)
		n := len(res.Resources)
		if strings.Contains(c.q, seed.EHRPatientGUID(1)) {
			n-- // the one real id still matches
		}
		if n != 0 {
			t.Errorf("%s?%s: %d matches, want none", c.typ, c.q, n)
		}
	}
	dead, alive := 0, 0
	for i := 1; i <= ehrPatients; i++ {
		if seed.EHRPatientData(i).DeathDate != nil {
			dead++
		} else {
			alive++
		}
	}
	if got := *w.search("Patient", "deceased=true", 1).Total; got != dead || dead == 0 {
		t.Errorf("deceased=true: %d, want %d", got, dead)
	}
	if got := *w.search("Patient", "deceased=false", 1).Total; got != alive {
		t.Errorf("deceased=false: %d, want %d", got, alive)
	}
}

// testEHRNames: PascalCase and spaced names work; a NULL last-updated row
// has no meta.lastUpdated and a content version; a death date alone gives
// deceasedDateTime; decimals are JSON numbers.
func testEHRNames(t *testing.T, w ehrWorld) {
	ctx := context.Background()
	for _, i := range []int{4, 5, 7, 8} {
		p := seed.EHRPatientData(i)
		res, err := w.be.Read(ctx, "Patient", p.GUID)
		if err != nil {
			t.Fatalf("patient %d: %v", i, err)
		}
		m := decode(t, res.JSON)
		meta := m["meta"].(map[string]any)
		_, hasLU := meta["lastUpdated"]
		if hasLU != (p.ModifiedAt != nil) || (p.ModifiedAt == nil && !strings.HasPrefix(res.VersionID, "h")) {
			t.Errorf("patient %d (ModifiedAt %v): meta %v, version %s", i, p.ModifiedAt, meta, res.VersionID)
		}
		name := m["name"].([]any)[0].(map[string]any)
		if _, ok := name["prefix"]; ok != (p.Prefix != "") {
			t.Errorf("patient %d: prefix %v, stored %q", i, name["prefix"], p.Prefix)
		}
		if _, ok := m["deceasedDateTime"]; ok != (p.DeathDate != nil) {
			t.Errorf("patient %d: deceasedDateTime %v, stored %v", i, m["deceasedDateTime"], p.DeathDate)
		}
		// SQLite keeps decimals as REAL (41.749640 becomes 41.74964): the
		// scale survives where the database keeps it
		if lat := strings.TrimRight(p.Lat, "0"); p.Lat != "" && !strings.Contains(string(res.JSON), `"valueDecimal":`+p.Lat) &&
			!(w.sqlite && strings.Contains(string(res.JSON), `"valueDecimal":`+lat)) {
			t.Errorf("patient %d: latitude %s not a JSON number with its scale: %s", i, p.Lat, res.JSON)
		}
	}
	// one value[x] only: a text result with a default unit has no Quantity
	for _, m := range w.all("Observation", "") {
		if _, q := m["valueQuantity"]; q {
			if _, s := m["valueString"]; s {
				t.Fatalf("Observation/%s has valueQuantity and valueString", m["id"])
			}
		}
	}
	if got := *w.search("Patient", "family=o&_count=1", 1).Total; got == 0 {
		t.Error("family=o: nothing (quoted LastName not searched?)")
	}
	// letters beyond ASCII fold too (SQLite's own LIKE folds ASCII only)
	// (patients 22 and 25 are named José)
	for _, q := range []string{"given=JOS%C3%89", "given=jos%C3%A9", "name=JOS%C3%89"} {
		name, _ := url.QueryUnescape(strings.SplitN(q, "=", 2)[1])
		// MariaDB's utf8mb4_unicode_ci also ignores accents (as FHIR
		// asks): José finds Jose there
		fold := strings.NewReplacer("é", "e").Replace
		count := func(norm func(string) string) int {
			n := 0
			for i := 1; i <= ehrPatients; i++ {
				p := seed.EHRPatientData(i)
				for _, v := range []string{p.Last, p.First, p.Middle} {
					if strings.HasPrefix(norm(strings.ToLower(v)), norm(strings.ToLower(name))) && (v != p.Last || strings.HasPrefix(q, "name")) {
						n++
						break
					}
				}
			}
			return n
		}
		want := count(func(s string) string { return s })
		if w.mysql {
			want = count(fold)
		}
		if got := *w.search("Patient", q, 1).Total; got != want || want == 0 {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
}

// testEHRSort: _sort=-date pages through every Observation, each once,
// newest instant first — on SQLite too, where offset texts do not sort as
// instants.
func testEHRSort(t *testing.T, w ehrWorld) {
	got := w.all("Observation", "_sort=-date")
	if len(got) != ehrPatients*seed.EHRResultsPerPatient {
		t.Fatalf("%d Observations over the pages, want %d", len(got), ehrPatients*seed.EHRResultsPerPatient)
	}
	seen := map[string]bool{}
	var prev time.Time
	for i, m := range got {
		id := m["id"].(string)
		if seen[id] {
			t.Fatalf("%s twice", id)
		}
		seen[id] = true
		at, err := time.Parse(time.RFC3339, m["effectiveDateTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && at.After(prev) {
			t.Fatalf("entry %d at %s after %s: not newest first", i, at, prev)
		}
		prev = at
	}
}

// testEHRSortNullable: _sort=_lastUpdated over a nullable datetimeoffset
// pages through every Patient once, stamped rows first in order, the
// NULL-stamped ones (no meta.lastUpdated) last.
func testEHRSortNullable(t *testing.T, w ehrWorld) {
	for _, order := range []string{"_lastUpdated", "-_lastUpdated"} {
		got := w.all("Patient", "_sort="+order)
		if len(got) != ehrPatients {
			t.Fatalf("%s: %d Patients over the pages, want %d", order, len(got), ehrPatients)
		}
		seen := map[string]bool{}
		var prev time.Time
		nulls := false
		for i, m := range got {
			id := m["id"].(string)
			if seen[id] {
				t.Fatalf("%s: %s twice", order, id)
			}
			seen[id] = true
			lu, ok := m["meta"].(map[string]any)["lastUpdated"].(string)
			if !ok {
				nulls = true
				continue
			}
			if nulls {
				t.Fatalf("%s: entry %d has a stamp after unstamped ones", order, i)
			}
			at, _ := time.Parse(time.RFC3339Nano, lu)
			if i > 0 && !prev.IsZero() && (order == "_lastUpdated" && at.Before(prev) || order == "-_lastUpdated" && at.After(prev)) {
				t.Fatalf("%s: entry %d at %s out of order after %s", order, i, at, prev)
			}
			prev = at
		}
		if !nulls {
			t.Fatalf("%s: no unstamped Patient seen (the seed has some)", order)
		}
	}
}

// testEHRProbe: what a probe of the running facade on this schema found
// (each failed before its fix).
func testEHRProbe(t *testing.T, w ehrWorld) {
	ctx := context.Background()
	// paging one by one by a millisecond-rounded instant ends (SQLite
	// repeated the page's last row forever)
	if got := w.allBy("Patient", "_sort=_lastUpdated", 1); len(got) != ehrPatients {
		t.Errorf("_sort=_lastUpdated one per page: %d Patients, want %d", len(got), ehrPatients)
	}
	// every Patient is found by its own meta.lastUpdated
	for _, m := range w.all("Patient", "") {
		lu, ok := m["meta"].(map[string]any)["lastUpdated"].(string)
		if !ok {
			continue
		}
		if n := len(w.search("Patient", "_id="+m["id"].(string)+"&_lastUpdated="+url.QueryEscape(lu), 5).Resources); n != 1 {
			t.Errorf("Patient/%s not found by its lastUpdated %s", m["id"], lu)
		}
	}
	p := seed.EHRPatientData(2)
	for _, c := range []struct {
		q    string
		want int // -1: any number, no error
	}{
		{"value-quantity=82|http://x|mg/dL", 0}, // bound values of a no-match were left over: 503
		{"value-quantity=82|a|b|c", 0},
		{"patient=Patient/" + p.GUID + "/_history/1", seed.EHRResultsPerPatient},
		{"code:not=http://x|GLU", ehrPatients * seed.EHRResultsPerPatient},
	} {
		if got := *w.search("Observation", c.q, 1).Total; c.want >= 0 && got != c.want {
			t.Errorf("Observation?%s: %d, want %d", c.q, got, c.want)
		}
	}
	if got := *w.search("Patient", "gender:not=bogus", 1).Total; got != ehrPatients {
		t.Errorf("gender:not=bogus: %d, want %d", got, ehrPatients)
	}
	// the key's order is the database's (MariaDB's uuid type does not
	// sort as its text): descending is ascending reversed
	asc, desc := w.all("Patient", "_sort=_id"), w.all("Patient", "_sort=-_id")
	for i := range desc {
		if desc[i]["id"] != asc[len(asc)-1-i]["id"] {
			t.Fatalf("_sort=-_id: entry %d is %s, want %s (ascending reversed)", i, desc[i]["id"], asc[len(asc)-1-i]["id"])
		}
	}
	for _, q := range []string{"patient:foo=Patient/" + p.GUID, "gender=", "value-quantity=1/3"} {
		vals, _ := url.ParseQuery(q)
		sq, err := search.ParseQuery(vals)
		if err == nil {
			_, err = w.be.Search(ctx, "Observation", sq, backend.SearchOptions{Count: 1})
			if strings.HasPrefix(q, "gender") {
				_, err = w.be.Search(ctx, "Patient", sq, backend.SearchOptions{Count: 1})
			}
		}
		if !errors.Is(err, backend.ErrInvalid) && !errors.Is(err, backend.ErrNotSupported) {
			t.Errorf("%s: %v, want a 400", q, err)
		}
	}
	if _, err := w.be.Read(ctx, "Patient", strings.ToUpper(p.GUID)); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("read by an upper-case spelling of the id: %v, want not found", err)
	}
}
