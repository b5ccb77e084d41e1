package legacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// testEHRQuantityNumbers: quantity search numbers a second probe of the
// running facade sent (each case failed before its fix): a long fraction
// panicked (10^64 overflowed int64 to 0: division by zero, a 500), Go's
// number syntax beyond FHIR's (0x10, 1_0) was read as another number, an
// exponent was counted as fraction digits, and -1e999 with ap matched
// every result.
func testEHRQuantityNumbers(t *testing.T, w ehrWorld) {
	numeric := *w.search("Observation", "value-quantity:missing=false", 1).Total
	for _, c := range []struct {
		q    string
		same string // a query that must give the same total; "" for none
		want int    // the total when same is ""; -1: a 400
	}{
		{q: "value-quantity=5." + strings.Repeat("1", 63), want: 0},
		{q: "value-quantity=5." + strings.Repeat("1", 18), want: 0},
		{q: "value-quantity=1.0e1", same: "value-quantity=10"},
		{q: "value-quantity=100e-1", same: "value-quantity=10.0"},
		{q: "value-quantity=ap-1e999", want: 0},
		{q: "value-quantity=ap1e999", want: 0},
		{q: "value-quantity=1e9999999", want: 0},
		{q: "value-quantity=ne1e9999999", want: numeric},
		{q: "value-quantity=lt1e999", want: numeric},
		{q: "value-quantity=gt-1e999", want: numeric},
		{q: "value-quantity=lt-1e999", want: 0},
		{q: "value-quantity=0x10", want: -1},
		{q: "value-quantity=0x1p4", want: -1},
		{q: "value-quantity=1_0", want: -1},
		{q: "value-quantity=.5", want: -1},
		{q: "value-quantity=5.", want: -1},
		{q: "value-quantity=Inf", want: -1},
		{q: "value-quantity=1e", want: -1},
	} {
		t.Run(c.q, func(t *testing.T) {
			w := w
			w.t = t
			if c.want < 0 {
				vals, _ := url.ParseQuery(c.q)
				sq, err := search.ParseQuery(vals)
				if err == nil {
					_, err = w.be.Search(context.Background(), "Observation", sq, backend.SearchOptions{Count: 1})
				}
				if !errors.Is(err, backend.ErrInvalid) {
					t.Fatalf("%v, want a 400", err)
				}
				return
			}
			want := c.want
			if c.same != "" {
				want = *w.search("Observation", c.same, 1).Total
			}
			if got := *w.search("Observation", c.q, 1).Total; got != want {
				t.Fatalf("%d results, want %d", got, want)
			}
		})
	}
}

// TestEHRDerivedWrites: writes a probe of the running facade found
// answered 200 with data lost or changed. A write that gives an output-only (| derived)
// value the stored row does not give back is refused (422 naming it),
// not answered 200 with the value lost — a race extension (its codes come
// from a lookup table the Patient write does not set), a Location's
// address (its facility's), a Condition's local or ICD-10 code (found
// from the SNOMED CT code). A PUT of another SNOMED CT code stores its
// diagnosis (the update left the looked-up key as it was: 200, old
// diagnosis); one without a code is a 422 (it kept the old one too).
// Each case failed before its fix; values a read gives still write back.
func TestEHRDerivedWrites(t *testing.T) {
	// a Condition whose diagnosis has an ICD-10-CM code (all seeded but DX012's)
	const withICD10 = "code=http://hl7.org/fhir/sid/icd-10-cm|E11.9,I10,E78.5,J45.909,J44.9,F32.9,I48.91,N18.9,M19.90,K21.9,N39.0"
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		be := legacy.New(db, testutil.SeedEHR(t, db, 10))
		sqlite := db.Dialect.Name() == "sqlite"
		for _, c := range []struct {
			name, typ, query string
			edit             func(m map[string]any)
			path             string // the element refused; "" for a write that succeeds
			sqliteOK         bool   // SQLite stores it as given: no refusal there
			after            func(t *testing.T, m map[string]any)
		}{
			{name: "as read", typ: "Condition", query: withICD10, edit: func(map[string]any) {}},
			{name: "location as read", typ: "Location", edit: func(map[string]any) {}},
			// times legacy cannot hold: PostgreSQL stored year 10000 and
			// year 0 and served them (no FHIR dateTime), SQLite refused
			// its own row after storing it, an offset past ±14:00 passed
			{name: "death in year 10000 there", typ: "Patient", edit: func(m map[string]any) {
				m["deceasedDateTime"] = "9999-12-31T23:59:59-14:00"
			}, path: "Patient.deceasedDateTime"},
			{name: "death in year 0 there", typ: "Patient", edit: func(m map[string]any) {
				m["deceasedDateTime"] = "0001-01-01T00:00:00+14:00"
			}, path: "Patient.deceasedDateTime"},
			{name: "offset +15:00", typ: "Patient", edit: func(m map[string]any) {
				m["deceasedDateTime"] = "2020-01-01T10:00:00+15:00"
			}, path: "Patient.deceasedDateTime"},
			{name: "born in year 0", typ: "Patient", edit: func(m map[string]any) {
				m["birthDate"] = "0000-01-01"
			}, path: "Patient.birthDate"},
			{name: "born 9999-12-31", typ: "Patient", edit: func(m map[string]any) {
				m["birthDate"] = "9999-12-31"
			}},
			// Latitude is decimal(9,6): PostgreSQL and MariaDB rounded
			// more digits away behind a 200 (SQLite keeps them)
			// a text longer than its column: the database's refusal named
			// no element (422 "a value is too long"); SQLite stores it
			{name: "family too long", typ: "Patient", edit: func(m map[string]any) {
				m["name"].([]any)[0].(map[string]any)["family"] = strings.Repeat("é", 61)
			}, path: "Patient.name[0].family", sqliteOK: true},
			{name: "family as long as the column", typ: "Patient", edit: func(m map[string]any) {
				m["name"].([]any)[0].(map[string]any)["family"] = strings.Repeat("é", 60)
			}},
			// a reference to an id no uuid key can hold: PostgreSQL's
			// refusal named no element, SQLite's foreign key gave a 409
			{name: "encounter not a uuid", typ: "MedicationRequest", edit: func(m map[string]any) {
				m["encounter"] = map[string]any{"reference": "Encounter/xyz"}
			}, path: "MedicationRequest.encounter.reference"},
			{name: "patient in upper case", typ: "MedicationRequest", edit: func(m map[string]any) {
				s := m["subject"].(map[string]any)
				s["reference"] = "Patient/" + strings.ToUpper(strings.TrimPrefix(s["reference"].(string), "Patient/"))
			}, path: "MedicationRequest.subject.reference"},
			// the refusal names the element, not the legacy table (it
			// named dbo.Formulary)
			{name: "unknown RxNorm code", typ: "MedicationRequest", edit: func(m map[string]any) {
				m["medicationCodeableConcept"] = map[string]any{"coding": []any{map[string]any{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999999"}}}
			}, path: "MedicationRequest.medicationCodeableConcept.coding[0].code"},
			{name: "latitude rounded", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
				m["address"] = geoAddress("42.6525801234")
			}, path: "valueDecimal", sqliteOK: true},
			{name: "latitude with trailing zeros", typ: "Patient", edit: func(m map[string]any) {
				m["address"] = geoAddress("42.6525800")
			}},
			{name: "race", typ: "Patient", edit: func(m map[string]any) {
				m["extension"] = []any{map[string]any{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": []any{
					map[string]any{"url": "ombCategory", "valueCoding": map[string]any{"system": "urn:oid:2.16.840.1.113883.6.238", "code": "9999-9"}}}}}
			}, path: "Patient.extension[0].extension[0].valueCoding.code"},
			{name: "location city", typ: "Location", edit: func(m map[string]any) {
				m["address"].(map[string]any)["city"] = "Elsewhere"
			}, path: "Location.address.city"},
			{name: "local code", typ: "Condition", query: withICD10, edit: func(m map[string]any) {
				setCoding(m, "urn:oid:2.16.840.1.113883.3.7777.2.4", "DX999")
			}, path: ".code"},
			{name: "icd-10 code", typ: "Condition", query: withICD10, edit: func(m map[string]any) {
				setCoding(m, "http://hl7.org/fhir/sid/icd-10-cm", "Z99.89")
			}, path: ".code"},
			{name: "code left out", typ: "Condition", query: withICD10, edit: func(m map[string]any) {
				delete(m, "code") // DiagnosisCode is NOT NULL
			}, path: "code"},
			{name: "another diagnosis", typ: "Condition", query: "code=http://snomed.info/sct|51868009", edit: func(m map[string]any) {
				m["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "44054006"}}}
			}, after: func(t *testing.T, m map[string]any) {
				if c := m["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"]; c != "44054006" {
					t.Errorf("SNOMED CT code %v after a PUT of 44054006 (the old diagnosis was kept)", c)
				}
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				vals, _ := url.ParseQuery(c.query)
				q, err := search.ParseQuery(vals)
				if err != nil {
					t.Fatal(err)
				}
				res, err := be.Search(ctx, c.typ, q, backend.SearchOptions{Count: 1})
				if err != nil || len(res.Resources) == 0 {
					t.Fatalf("no %s?%s: %v", c.typ, c.query, err)
				}
				r := res.Resources[0]
				m := bodyOf(t, r.JSON)
				c.edit(m)
				if c.sqliteOK && sqlite {
					c.path = ""
				}
				upd, _, err := be.Update(ctx, c.typ, r.ID, m, "")
				if err != nil && strings.Contains(err.Error(), "dbo.") {
					t.Errorf("the refusal names a legacy table: %v", err)
				}
				var ee *backend.ElementError
				switch {
				case c.path == "" && err != nil:
					t.Fatalf("update: %v", err)
				case c.path != "" && (!errors.As(err, &ee) || !strings.HasSuffix(ee.Path, c.path)):
					t.Fatalf("update: %v, want a 422 at %s", err, c.path)
				case c.path != "":
					if now, _ := be.Read(ctx, c.typ, r.ID); now == nil || now.VersionID != r.VersionID {
						t.Errorf("the refused update was stored")
					}
				case c.after != nil:
					c.after(t, bodyOf(t, upd.JSON))
				}
			})
		}
	})
}

// geoAddress is a home address in Albany at latitude lat.
func geoAddress(lat string) []any {
	return []any{map[string]any{"use": "home", "city": "Albany", "extension": []any{map[string]any{"url": "http://hl7.org/fhir/StructureDefinition/geolocation",
		"extension": []any{map[string]any{"url": "latitude", "valueDecimal": json.Number(lat)}, map[string]any{"url": "longitude", "valueDecimal": json.Number("-73.75623")}}}}}}
}

// setCoding gives the resource's code a coding of system, replacing one
// it has.
func setCoding(m map[string]any, system, code string) {
	cc := m["code"].(map[string]any)
	codings, _ := cc["coding"].([]any)
	for _, x := range codings {
		if x.(map[string]any)["system"] == system {
			x.(map[string]any)["code"] = code
			return
		}
	}
	cc["coding"] = append(codings, map[string]any{"system": system, "code": code})
}

// testEHRDateEdges: dates at the ends of what legacy columns hold (years
// 1 to 9999). Each case failed before its fix: PostgreSQL refused the
// year 0 a day boundary west of UTC gives (503), SQLite compared year
// 10000 as text ("10000-01-01" sorts before "1963-…": wrong rows).
func testEHRDateEdges(t *testing.T, w ehrWorld) {
	for _, c := range []struct {
		typ, q string
		same   string // a query that must give the same total; "" for none
	}{
		{"Patient", "birthdate=0001-01-01T00:00:00Z", ""},
		{"Patient", "birthdate=0000-01-01", ""},
		{"Patient", "birthdate=ap0001", ""},
		{"Patient", "birthdate=9999-12-31T23:59:59Z", ""},
		{"Patient", "birthdate=sa9999-12-31T23:59:59Z", ""},
		{"Patient", "birthdate=lt9999-12-31T23:59:59Z", "birthdate:missing=false"},
		{"Patient", "birthdate=ne9999-12-31T23:59:59Z", "birthdate:missing=false"},
		{"Patient", "birthdate=gt0001-01-01T00:00:00Z", "birthdate:missing=false"},
		{"Patient", "_lastUpdated=lt9999-12-31T23:59:59Z", "_lastUpdated:missing=false"},
		{"Encounter", "date=lt9999-12-31T23:59:59Z", "date:missing=false"},
		{"Encounter", "date=ap9999", "date=ge9000"},
		{"Observation", "date=lt9999-12-31T23:59:59Z", "date:missing=false"},
		{"Observation", "date=ge0001-01-01T00:00:00%2B14:00", "date:missing=false"},
	} {
		t.Run(c.typ+"?"+c.q, func(t *testing.T) {
			w := w
			w.t = t
			want := 0
			if c.same != "" {
				want = *w.search(c.typ, c.same, 1).Total
			}
			if got := *w.search(c.typ, c.q, 1).Total; got != want {
				t.Fatalf("%d results, want %d", got, want)
			}
		})
	}
}

// testEHRWallClockPaging: a datetime2(3) last-updated column (Department,
// FacilityMaster, ProviderMaster, PatientVisit) pages one row at a time
// without repeating or losing rows, and every resource is found by its
// own meta.lastUpdated. On SQLite the stored text 08:00:00.000 sorted
// after the bound 08:00:00: ascending pages repeated one row forever,
// descending ones stopped after two (failed before the fix).
func testEHRWallClockPaging(t *testing.T, w ehrWorld) {
	for _, typ := range []string{"Location", "Organization", "Practitioner", "Encounter"} {
		total := *w.search(typ, "_summary=count", 1).Total
		for _, order := range []string{"_lastUpdated", "-_lastUpdated"} {
			seen := map[string]bool{}
			got := w.allBy(typ, "_sort="+order, 1)
			for _, m := range got {
				seen[m["id"].(string)] = true
			}
			if len(got) != total || len(seen) != total {
				t.Errorf("%s?_sort=%s one per page: %d entries, %d distinct, want %d", typ, order, len(got), len(seen), total)
			}
		}
		for _, m := range w.allBy(typ, "_count=5", 5)[:3] {
			lu := m["meta"].(map[string]any)["lastUpdated"].(string)
			if n := len(w.search(typ, "_id="+m["id"].(string)+"&_lastUpdated="+url.QueryEscape(lu), 5).Resources); n != 1 {
				t.Errorf("%s/%s not found by its lastUpdated %s", typ, m["id"], lu)
			}
		}
	}
}
