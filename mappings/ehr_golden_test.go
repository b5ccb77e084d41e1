package mappings_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/seed"
)

// TestEHRSQLGolden pins the SQL of the EHR-style specs, bound to a live
// (SQLite) copy of that schema so that the SQL uses the live names and
// column kinds: each dialect's quoting of PascalCase, spaced and
// schema-qualified names (T-SQL's brackets are parsed in CI by
// TestGoldenTSQLParses), uuid and instant arguments, NOT NULL sort columns
// without NULL handling.
func TestEHRSQLGolden(t *testing.T) {
	db := testutil.SQLite(t)
	reg := testutil.SeedEHR(t, db, 1)
	p := seed.EHRPatientData(1)
	cases := []struct {
		name, typ, query string
		after            []any
	}{
		{"ehr-patient-id", "Patient", "_id=" + p.GUID + ",not-a-uuid", nil},
		{"ehr-patient-deceased-name", "Patient", "deceased=true&name=o&_sort=family", nil},
		{"ehr-observation-date-sorted", "Observation", "patient=" + p.GUID + "&date=ge2024-03-01T10:00:00-05:00&_sort=-date", nil},
		{"ehr-observation-page2", "Observation", "_sort=-date", []any{"t:2024-03-01T15:55:06-05:00", "s:" + p.Results[0].GUID}},
		{"ehr-patient-family-page2", "Patient", "_sort=-family", []any{"s:Smith", "s:" + p.GUID}},
		{"ehr-encounter-period", "Encounter", "subject=Patient/" + p.GUID + "&date=le2024-06-01", nil},
		// the clinical lists (migration 000004): codes through a lookup
		// join, status words and letters through code maps, instants
		{"ehr-condition-code-status", "Condition", "patient=" + p.GUID + "&code=http://snomed.info/sct|44054006&category=problem-list-item&clinical-status=active,resolved", nil},
		{"ehr-allergyintolerance-category", "AllergyIntolerance", "patient=" + p.GUID + "&category=medication&criticality=high&_sort=-date", nil},
		{"ehr-medicationrequest-rxnorm", "MedicationRequest", "code=http://www.nlm.nih.gov/research/umls/rxnorm|314076&status=stopped&authoredon=ge2024-01-01T00:00:00-05:00", nil},
		{"ehr-immunization-lot", "Immunization", "lot-number=lot0&vaccine-code=http://hl7.org/fhir/sid/cvx|140&_sort=-date", nil},
		{"ehr-procedure-period", "Procedure", "subject=Patient/" + p.GUID + "&date=ge2024-01-01&status=completed,in-progress", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { searchGolden(t, reg.Spec(c.typ), c.name, c.query, c.after) })
	}
}

// TestEHRClinicalResourceGolden pins the clinical lists' resources of one
// seeded EHR patient as served from live SQLite: codes through the lookup
// joins, status words and letters mapped, datetimeoffset times with their
// own offsets (+00:00 rows too), decimals, references to the patient's
// visit and the directory's providers. (SQLite keeps no decimal scale:
// 90.50 is 90.5 there.)
func TestEHRClinicalResourceGolden(t *testing.T) {
	db := testutil.SQLite(t)
	reg := testutil.SeedEHR(t, db, 12)
	be := legacy.New(db, reg)
	i := 0
	for n := 1; n <= 12 && i == 0; n++ {
		full := true
		for _, c := range seed.EHRClinicalCounts(n) {
			full = full && c > 0
		}
		if full {
			i = n
		}
	}
	if i == 0 {
		t.Fatal("no patient of 1..12 has rows in every clinical list")
	}
	guid := seed.EHRPatientGUID(i)
	for _, c := range []struct{ typ, param string }{
		{"Condition", "patient"}, {"AllergyIntolerance", "patient"}, {"MedicationRequest", "patient"},
		{"Immunization", "patient"}, {"Procedure", "patient"},
	} {
		t.Run(c.typ, func(t *testing.T) {
			q, err := search.ParseQuery(url.Values{c.param: {guid}, "_sort": {"_id"}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := be.Search(context.Background(), c.typ, q, backend.SearchOptions{Count: 20})
			if err != nil || len(res.Resources) == 0 {
				t.Fatalf("%s of patient %d: %v, %d resources", c.typ, i, err, len(res.Resources))
			}
			var out bytes.Buffer
			for _, r := range res.Resources {
				if err := json.Indent(&out, r.JSON, "", "  "); err != nil {
					t.Fatal(err)
				}
				out.WriteByte('\n')
			}
			golden(t, "resources/ehr-"+strings.ToLower(c.typ)+".json", out.Bytes())
		})
	}
}

// TestGivenKeys: only a uuid key may be given a key chosen outside the
// legacy database, so only its INSERT may carry the key (pinned per
// dialect; T-SQL parsed by TestGoldenTSQLParses); integer identities and
// text codes, and a spec not bound to a live schema, may not.
func TestGivenKeys(t *testing.T) {
	db := testutil.SQLite(t)
	ehr := testutil.SeedEHR(t, db, 1)
	demoDB := testutil.SQLite(t)
	demo := testutil.Seed(t, demoDB, 1)
	for _, c := range []struct {
		name string
		spec *mappings.Spec
		want bool
	}{
		{"EHR Patient (uuid)", ehr.Spec("Patient"), true},
		{"EHR Location (text code)", ehr.Spec("Location"), false},
		{"demo Patient (integer identity)", demo.Spec("Patient"), false},
		{"unbound", registry(t).Spec("Patient"), false},
	} {
		if got := c.spec.GivenKeys(); got != c.want {
			t.Errorf("%s: GivenKeys %v, want %v", c.name, got, c.want)
		}
	}
	s := ehr.Spec("Patient")
	id := "6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"
	key, err := s.KeyOf(id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.WriteValues(decode(t, `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.2","value":"M1"}],"name":[{"family":"Keyed"}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	stamp := mappings.DateTimeVal{Time: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	for _, d := range goldenDialects {
		st := s.InsertKeyedStmt(d, key, v, stamp)
		fmt.Fprintf(&out, "-- %s\n%s\n-- args: %s\n\n", d.Name(), st.SQL, fmtArgs(st.Args))
	}
	golden(t, "sql/ehr-write-patient-keyed.sql", out.Bytes())
}
