package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The clinical lists (migration 000003) served from their specs alone:
// Condition, AllergyIntolerance, MedicationRequest, Immunization, Procedure.
var clinicalTypes = []string{"Condition", "AllergyIntolerance", "MedicationRequest", "Immunization", "Procedure"}

const clinicalPatients = 30

func clinicalBackend(t *testing.T, open func(testing.TB) *sqldb.DB) *legacy.Backend {
	t.Helper()
	db := open(t)
	return legacy.New(db, testutil.Seed(t, db, clinicalPatients))
}

// allIDs pages through a search and returns the ids found.
func allIDs(t *testing.T, be *legacy.Backend, typ, query string) []string {
	t.Helper()
	res := allResources(t, be, typ, query)
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids
}

func allResources(t *testing.T, be *legacy.Backend, typ, query string) []*backend.Resource {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(vals)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	var out []*backend.Resource
	cursor := ""
	for range 1000 {
		res, err := be.Search(context.Background(), typ, q, backend.SearchOptions{Count: 50, Cursor: cursor, Strict: true})
		if err != nil {
			t.Fatalf("%s?%s: %v", typ, query, err)
		}
		out = append(out, res.Resources...)
		if cursor = res.Next; cursor == "" {
			return out
		}
	}
	t.Fatalf("%s?%s: no last page", typ, query)
	return nil
}

// TestClinicalGolden pins one seeded row of each clinical type as mapped
// (refresh with -update and read the diff): code systems, status codings,
// references to patients, encounters and practitioners, the zones.
func TestClinicalGolden(t *testing.T) {
	cases := []struct{ typ, id string }{
		{"Condition", "7"},          // resolved problem-list item with abatement
		{"AllergyIntolerance", "4"}, // with a reaction
		{"MedicationRequest", "30"}, // a plan, in an encounter
		{"Immunization", "21"},      // not done, with its reason
		{"Procedure", "61"},         // CPT only, completed
	}
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		be := clinicalBackend(t, open)
		for _, c := range cases {
			r, err := be.Read(context.Background(), c.typ, c.id)
			if err != nil {
				t.Fatalf("%s/%s: %v", c.typ, c.id, err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, r.JSON, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "golden", "clinical", c.typ+"-"+c.id+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s/%s differs from %s:\n--- got\n%s\n--- want\n%s", c.typ, c.id, path, pretty.Bytes(), want)
			}
		}
	})
}

// TestClinicalValidate: every seeded resource of every clinical type is
// valid R4 (strict handling: an unmappable row fails the search), and each
// type has rows.
func TestClinicalValidate(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		be := clinicalBackend(t, open)
		for _, typ := range clinicalTypes {
			res := allResources(t, be, typ, "")
			if len(res) < clinicalPatients {
				t.Errorf("%s: only %d resources for %d patients", typ, len(res), clinicalPatients)
			}
			for _, r := range res {
				if err := testutil.ValidateFHIR(t, typ, r.JSON); err != nil {
					t.Errorf("%s/%s: %v\n%s", typ, r.ID, err, r.JSON)
				}
			}
		}
	})
}

// TestClinicalSearch: each search parameter of the clinical specs finds a
// known seeded row and not another (the values are those the seed draws
// for the first 30 patients).
func TestClinicalSearch(t *testing.T) {
	cases := []struct {
		typ, query string
		want, not  string
	}{
		{"Condition", "patient=2", "6", "11"},
		{"Condition", "subject=Patient/3", "11", "6"},
		{"Condition", "encounter=Encounter/5", "6", "7"},
		{"Condition", "patient=2&category=encounter-diagnosis", "6", "7"},
		{"Condition", "patient=2&category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item", "7", "6"},
		{"Condition", "patient=2&clinical-status=resolved", "7", "9"},
		{"Condition", "patient=2&verification-status=unconfirmed", "8", "9"},
		{"Condition", "code=http://snomed.info/sct|55822004", "7", "9"},
		{"Condition", "patient=2&code=http://hl7.org/fhir/sid/icd-10-cm|I10", "9", "7"},
		{"Condition", "patient=2&onset-date=2020-02-12", "7", "8"},
		{"Condition", "patient=2&abatement-date=ge2020-11-01", "7", "9"},
		{"Condition", "patient=2&recorded-date=2020-05-23", "8", "9"},
		{"AllergyIntolerance", "patient=2", "4", "9"},
		{"AllergyIntolerance", "clinical-status=resolved", "9", "4"},
		{"AllergyIntolerance", "verification-status=unconfirmed", "9", "4"},
		{"AllergyIntolerance", "category=environment", "4", "9"},
		{"AllergyIntolerance", "criticality=unable-to-assess", "28", "4"},
		{"AllergyIntolerance", "code=http://snomed.info/sct|111088007", "4", "9"},
		{"AllergyIntolerance", "date=2020-08-20", "4", "9"},
		{"AllergyIntolerance", "recorder=Practitioner/DR0025", "4", "9"},
		{"MedicationRequest", "patient=5", "30", "1"},
		{"MedicationRequest", "subject=Patient/1", "1", "30"},
		{"MedicationRequest", "encounter=Encounter/15", "28", "1"},
		{"MedicationRequest", "status=on-hold", "28", "30"},
		{"MedicationRequest", "intent=plan", "30", "28"},
		{"MedicationRequest", "authoredon=2021-11-28", "1", "8"},
		{"MedicationRequest", "code=http://www.nlm.nih.gov/research/umls/rxnorm|476872", "1", "8"},
		{"MedicationRequest", "requester=Practitioner/DR0010", "1", "8"},
		{"Immunization", "patient=6", "21", "60"},
		{"Immunization", "patient=6&status=not-done", "21", "22"},
		{"Immunization", "date=2024-08-12", "21", "23"},
		{"Immunization", "vaccine-code=http://hl7.org/fhir/sid/cvx|43", "60", "21"},
		{"Immunization", "performer=Practitioner/DR0036", "22", "24"},
		{"Immunization", "lot-number=lot5547", "22", "24"},
		{"Procedure", "patient=8", "23", "1"},
		{"Procedure", "subject=Patient/1", "1", "23"},
		{"Procedure", "status=in-progress", "23", "1"},
		{"Procedure", "date=2018-02-15", "61", "1"},
		// in progress: its period is open, so it reaches any later date
		{"Procedure", "date=ge2025-01-01", "23", "61"},
		{"Procedure", "code=http://www.ama-assn.org/go/cpt|33249", "23", "1"},
		{"Procedure", "code=http://snomed.info/sct|609588000", "1", "23"},
		{"Procedure", "encounter=Encounter/23", "23", "1"},
		{"Procedure", "performer=Practitioner/DR0034", "23", "1"},
	}
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		be := clinicalBackend(t, open)
		for _, c := range cases {
			ids := allIDs(t, be, c.typ, c.query)
			if !slices.Contains(ids, c.want) || slices.Contains(ids, c.not) {
				t.Errorf("%s?%s: %v, want %s and not %s", c.typ, c.query, ids, c.want, c.not)
			}
		}
	})
}
