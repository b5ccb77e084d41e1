package sample_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/mappings/sample"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestShippedSpecsSample: every sampled row of both demo schemas maps to
// a resource the R4 schema accepts, live on SQLite and PostgreSQL; a type
// with fewer rows than asked gives all it has.
func TestShippedSpecsSample(t *testing.T) {
	val := testutil.FHIRValidator(t)
	testutil.Dialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		for _, sc := range []struct {
			name string
			seed func(testing.TB, *sqldb.DB, int) *mappings.Registry
			rows map[string]int // with 10 patients, 50 asked
		}{
			{"ehr", testutil.SeedEHR, map[string]int{"Patient": 10, "Encounter": 20, "Observation": 50,
				"Location": len(seed.Depts), "Organization": 3, "Practitioner": 5,
				// the clinical lists: what the EHR seed draws for patients 1-10
				"AllergyIntolerance": 16, "Condition": 16, "Immunization": 9, "MedicationRequest": 19, "Procedure": 10}},
			{"demo", testutil.Seed, map[string]int{"Patient": 10, "Encounter": 30, "Observation": 50,
				"Location": len(seed.Depts), "Organization": len(seed.Facilities), "Practitioner": seed.Providers,
				// the clinical lists: what the seed draws for patients 1-10
				"AllergyIntolerance": 11, "Condition": 29, "Immunization": 16, "MedicationRequest": 21, "Procedure": 13}},
		} {
			t.Run(sc.name, func(t *testing.T) {
				db := open(t)
				reg := sc.seed(t, db, 10)
				res, err := sample.Run(context.Background(), legacy.New(db, reg), reg, val, 50)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if r.Rows != sc.rows[r.Type] {
						t.Errorf("%s: %d rows sampled, want %d", r.Type, r.Rows, sc.rows[r.Type])
					}
					for _, f := range r.Failures {
						t.Errorf("failure: %s", f)
					}
				}
			})
		}
	})
}

// TestSampleFailures: a code the map lacks (the row does not map) and a
// code map target that is no FHIR code (the resource breaks the schema)
// are each reported with the row's id, the element and the column.
func TestSampleFailures(t *testing.T) {
	db := testutil.SQLite(t)
	testutil.SeedEHR(t, db, 10)
	spec, err := os.ReadFile("../specs_ehr/patient.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// M is left out of the map; F maps to a code administrative-gender lacks
	broken := strings.Replace(string(spec), "gender: {M: male, F: female, U: unknown}", "gender: {F: femme, U: unknown}", 1)
	if broken == string(spec) {
		t.Fatal("the EHR patient spec's gender map changed: update this test")
	}
	reg, err := mappings.Load(fstest.MapFS{"patient.yaml": {Data: []byte(broken)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.BindLive(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	res, err := sample.Run(context.Background(), legacy.New(db, reg), reg, testutil.FHIRValidator(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Rows != 10 {
		t.Fatalf("results %+v", res)
	}
	var unmapped, invalid int
	for _, f := range res[0].Failures {
		if f.ID == "" || f.Element != "Patient.gender" || f.Column != "SexCode" {
			t.Errorf("failure without row, element or column: %s", f)
		}
		switch {
		case strings.Contains(f.Msg, `legacy code "M" is not in code map gender`):
			unmapped++
		case strings.Contains(f.Msg, "must be one of 'male', 'female'"):
			invalid++
		default:
			t.Errorf("unexpected failure: %s", f)
		}
	}
	if unmapped == 0 || invalid == 0 {
		t.Errorf("want both kinds of failure, got %d unmapped and %d invalid: %v", unmapped, invalid, res[0].Failures)
	}
}
