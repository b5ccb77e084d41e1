package legacy_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// checkCase is one write TestCheckWriteAgreesWithWrite sends to the check
// and then to legacy itself.
type checkCase struct {
	name, typ, query string // the resource edited: the first the search finds
	create           bool   // POST it as a new resource (a fresh business key)
	edit             func(m map[string]any)
	path             string // the element both refuse; "" when both accept
	rounded          bool   // a column's rounding or precision: SQLite, which keeps the digits, accepts
	refused          string // the interaction the mapping does not allow, which both refuse (400)
	newID            string // PUT to this id legacy has no row for (update-as-create)
}

// TestCheckWriteAgreesWithWrite: the write check (what a `fhir` route asks
// before a write goes upstream) refuses exactly what the real legacy
// create or update of the same body refuses, with the same words, on both
// demo schemas: it cannot drift from the reverse mirror. That includes
// output-only (| derived) values the stored row would not give back (a
// race on the EHR schema's new Patient, or another one than the row's; an
// ICD-10 code that is not the new diagnosis's: the check reads the joined
// row the write would leave), and not a derived value given back as legacy
// derives it, or a display (a rendering is never compared), and a decimal
// with more digits than its column's scale keeps (the check rounds it as
// the database does). Before, the check only decoded the body: every
// derived case passed it; and until the check knew the scale, a rounded
// latitude passed it too. A create or update the type's mapping does not
// allow is refused by both in the same words (the check let them pass); an
// update-as-create of a uuid legacy has no row for is a create under that
// key for both.
func TestCheckWriteAgreesWithWrite(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		for _, sc := range []struct {
			name  string
			seed  func(testing.TB, *sqldb.DB, int) *mappings.Registry
			cases func(w checkWorld) []checkCase
		}{
			{"demo", testutil.Seed, demoCheckCases},
			{"ehr", testutil.SeedEHR, ehrCheckCases},
		} {
			t.Run(sc.name, func(t *testing.T) {
				db := open(t)
				w := checkWorld{t: t, be: legacy.New(db, sc.seed(t, db, 10)), sqlite: db.Dialect.Name() == "sqlite"}
				for i, c := range sc.cases(w) {
					t.Run(c.name, func(t *testing.T) {
						w := w
						w.t = t
						w.agree(c, i)
					})
				}
			})
		}
	})
}

type checkWorld struct {
	t      *testing.T
	be     *legacy.Backend
	sqlite bool
}

// first is the id and body of the first typ the search finds.
func (w checkWorld) first(typ, query string) (string, map[string]any) {
	w.t.Helper()
	vals, _ := url.ParseQuery(query)
	q, err := search.ParseQuery(vals)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.be.Search(context.Background(), typ, q, backend.SearchOptions{Count: 1})
	if err != nil || len(res.Resources) == 0 {
		w.t.Fatalf("no %s?%s: %v", typ, query, err)
	}
	return res.Resources[0].ID, bodyOf(w.t, res.Resources[0].JSON)
}

// agree sends case c (number i) to CheckWrite, then to Create or Update,
// and compares the answers.
func (w checkWorld) agree(c checkCase, i int) {
	t, ctx := w.t, context.Background()
	id, body := w.first(c.typ, c.query)
	c.edit(body)
	if c.rounded && w.sqlite {
		c.path = "" // SQLite stores it as given
	}
	if ids, ok := body["identifier"].([]any); ok && (c.create || c.newID != "") { // unique business keys
		ids[0].(map[string]any)["value"] = fmt.Sprintf("CHK%d", i)
	}
	var checkErr, writeErr error
	if c.create {
		checkErr = w.be.CheckWrite(ctx, c.typ, "", body)
		_, _, writeErr = w.be.Create(ctx, c.typ, body, nil)
	} else {
		if c.newID != "" {
			id, body["id"] = c.newID, c.newID
		}
		checkErr = w.be.CheckWrite(ctx, c.typ, id, body)
		_, _, writeErr = w.be.Update(ctx, c.typ, id, body, "")
	}
	if c.refused != "" {
		for what, err := range map[string]error{"check": checkErr, "write": writeErr} {
			var ie *backend.InteractionError
			if !errors.Is(err, backend.ErrNotSupported) || !errors.As(err, &ie) || ie.Interaction != c.refused {
				t.Fatalf("%s: got %v, want the %s refused", what, err, c.refused)
			}
		}
		if checkErr.Error() != writeErr.Error() {
			t.Fatalf("the check says %q, the write %q", checkErr, writeErr)
		}
		return
	}
	for what, err := range map[string]error{"check": checkErr, "write": writeErr} {
		if c.path == "" {
			if err != nil {
				t.Fatalf("%s refused: %v", what, err)
			}
			continue
		}
		var ee *backend.ElementError
		if !errors.Is(err, backend.ErrUnprocessable) || !errors.As(err, &ee) || ee.Path != c.path {
			t.Fatalf("%s: got %v, want 422 at %s", what, err, c.path)
		}
	}
	if c.path != "" && checkErr.Error() != writeErr.Error() {
		t.Fatalf("the check says %q, the write %q", checkErr, writeErr)
	}
}

// demoCheckCases: the demo schema derives only renderings (displays,
// texts), which are never refused.
func demoCheckCases(checkWorld) []checkCase {
	obsCode := func(m map[string]any) []any { return m["code"].(map[string]any)["coding"].([]any) }
	same := func(map[string]any) {}
	return []checkCase{
		{name: "a Patient as read", typ: "Patient", create: true, edit: same},
		{name: "Patient without the MRN", typ: "Patient", create: true, edit: func(m map[string]any) { delete(m, "identifier") }, path: "Patient.identifier[0].value"},
		{name: "Patient with an element legacy lacks", typ: "Patient", create: true, edit: func(m map[string]any) { m["maritalStatus"] = map[string]any{"text": "M"} }, path: "Patient.maritalStatus"},
		{name: "Patient with a second name", typ: "Patient", create: true, edit: func(m map[string]any) { m["name"] = append(m["name"].([]any), map[string]any{"family": "B"}) }, path: "Patient.name[1]"},
		{name: "an Observation as read", typ: "Observation", create: true, edit: same},
		{name: "Observation by LOINC only", typ: "Observation", create: true, edit: func(m map[string]any) { m["code"].(map[string]any)["coding"] = obsCode(m)[:1] }},
		{name: "Observation without a status", typ: "Observation", create: true, edit: func(m map[string]any) { delete(m, "status") }, path: "Observation.status"},
		// the lookup runs in the check as in the write
		{name: "Observation with an unknown LOINC code", typ: "Observation", create: true, edit: func(m map[string]any) {
			c := obsCode(m)[:1]
			c[0].(map[string]any)["code"] = "0000-0"
			m["code"].(map[string]any)["coding"] = c
		}, path: "Observation.code.coding[0].code"},
		{name: "Encounter without a class", typ: "Encounter", create: true, edit: func(m map[string]any) { delete(m, "class") }, path: "Encounter.class.code"},
		{name: "Observation with another LOINC display", typ: "Observation", edit: func(m map[string]any) {
			obsCode(m)[0].(map[string]any)["display"] = "Something else"
			m["code"].(map[string]any)["text"] = "Something else"
		}},
		{name: "Location with another facility display", typ: "Location", edit: func(m map[string]any) {
			m["managingOrganization"].(map[string]any)["display"] = "Somewhere else"
		}},
		{name: "a new Location (no create in its mapping)", typ: "Location", create: true, edit: same, refused: "create"},
		{name: "a new Practitioner (no create in its mapping)", typ: "Practitioner", create: true, edit: same, refused: "create"},
	}
}

// ehrCheckCases: the EHR schema derives codes from lookup tables (race,
// ethnicity, a diagnosis's ICD-10 and local codes, a drug's local code)
// and a Location's address from its facility.
func ehrCheckCases(w checkWorld) []checkCase {
	const (
		diabetes     = "code=http://snomed.info/sct|44054006" // ICD-10-CM E11.9
		hypertension = "code=http://snomed.info/sct|38341003" // ICD-10-CM I10
	)
	withRace := "_id=" + testutil.RacedEHRPatient(w.t, 10)
	_, other := w.first("Condition", hypertension)
	noExt := func(m map[string]any) { delete(m, "extension") }
	return []checkCase{
		{name: "a Patient as read", typ: "Patient", query: withRace, edit: func(map[string]any) {}},
		{name: "Patient with another race", typ: "Patient", query: withRace, edit: func(m map[string]any) {
			raceItem(m, 0)["valueCoding"].(map[string]any)["code"] = "2028-9"
		}, path: "Patient.extension[0].extension[0].valueCoding.code"},
		{name: "Patient with another race text", typ: "Patient", query: withRace, edit: func(m map[string]any) {
			raceItem(m, 1)["valueString"] = "Asian"
		}, path: "Patient.extension[0].extension[1].valueString"},
		{name: "Patient with another race display", typ: "Patient", query: withRace, edit: func(m map[string]any) {
			raceItem(m, 0)["valueCoding"].(map[string]any)["display"] = "Asian"
		}},
		{name: "Patient without race and ethnicity", typ: "Patient", query: withRace, edit: noExt},
		{name: "a new Patient with a race", typ: "Patient", query: withRace, create: true, edit: func(map[string]any) {},
			path: "Patient.extension[0].extension[0].valueCoding.code"},
		{name: "a new Patient without race and ethnicity", typ: "Patient", query: withRace, create: true, edit: noExt},
		// 10 digits into decimal(9,6): PostgreSQL and MariaDB round them,
		// which the check knows from the column's scale (SQLite keeps
		// them); the half case rounds away from zero, up in magnitude
		{name: "latitude rounded", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("42.6525801234")
		}, path: "Patient.address[0].extension[0].extension[0].valueDecimal", rounded: true},
		{name: "latitude rounded at the half", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("42.6525805")
		}, path: "Patient.address[0].extension[0].extension[0].valueDecimal", rounded: true},
		{name: "latitude with trailing zeros past the scale", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("42.652580000")
		}},
		// four digits before the point into decimal(9,6), which holds
		// three: PostgreSQL's 22003 and MariaDB's 1264 named no element,
		// and the check let it through; the rounding's carry counts
		{name: "latitude with too many whole digits", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("1234.5")
		}, path: "Patient.address[0].extension[0].extension[0].valueDecimal", rounded: true},
		{name: "latitude whose rounding carries past the precision", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("-999.9999995")
		}, path: "Patient.address[0].extension[0].extension[0].valueDecimal", rounded: true},
		{name: "latitude with the most whole digits", typ: "Patient", query: "address-city:missing=false", edit: func(m map[string]any) {
			m["address"] = geoAddress("-999.999999")
		}},
		{name: "a Condition as read", typ: "Condition", query: diabetes, edit: func(map[string]any) {}},
		{name: "Condition with another SNOMED CT code, the old ICD-10 code", typ: "Condition", query: diabetes, edit: func(m map[string]any) {
			setCoding(m, "http://snomed.info/sct", "38341003")
		}, path: "Condition.code.coding[1].code"},
		{name: "Condition with another local code", typ: "Condition", query: diabetes, edit: func(m map[string]any) {
			setCoding(m, "urn:oid:2.16.840.1.113883.3.7777.2.4", "DX999")
		}, path: "Condition.code.coding[2].code"},
		{name: "a new Condition as read", typ: "Condition", query: diabetes, create: true, edit: func(map[string]any) {}},
		// last of the diabetes cases: it turns the Condition into another
		{name: "Condition with another diagnosis", typ: "Condition", query: diabetes, edit: func(m map[string]any) {
			m["code"] = other["code"]
		}},
		{name: "MedicationRequest with another local drug code", typ: "MedicationRequest", edit: func(m map[string]any) {
			m["medicationCodeableConcept"].(map[string]any)["coding"].([]any)[1].(map[string]any)["code"] = "XX999"
		}, path: "MedicationRequest.medicationCodeableConcept.coding[1].code"},
		{name: "Location with another city", typ: "Location", edit: func(m map[string]any) {
			m["address"].(map[string]any)["city"] = "Elsewhere"
		}, path: "Location.address.city"},
		{name: "a new Location (no create in its mapping)", typ: "Location", create: true, edit: func(map[string]any) {}, refused: "create"},
		{name: "an Encounter update (no write-back in its mapping)", typ: "Encounter", edit: func(m map[string]any) { m["status"] = "cancelled" }, refused: "update"},
		{name: "an Encounter create (no write-back in its mapping)", typ: "Encounter", create: true, edit: func(map[string]any) {}, refused: "create"},
		// uuid keys may be given: the write inserts the row under the id
		{name: "update-as-create of a new uuid", typ: "Patient", query: "_id=" + testutil.RacedEHRPatient(w.t, 10), edit: noExt, newID: "5b1e0c3a-7d2f-4e8a-9b6c-0d1e2f3a4b5c"},
		{name: "update-as-create of a new uuid with a race", typ: "Patient", query: withRace, edit: func(map[string]any) {},
			newID: "5b1e0c3a-7d2f-4e8a-9b6c-0d1e2f3a4b5d", path: "Patient.extension[0].extension[0].valueCoding.code"},
		{name: "update-as-create of a Location (no create in its mapping)", typ: "Location", edit: func(map[string]any) {}, newID: "NEWDEPT", refused: "create"},
	}
}

// raceItem is item i of the Patient's race extension (0: ombCategory, 1:
// text).
func raceItem(m map[string]any, i int) map[string]any {
	return m["extension"].([]any)[0].(map[string]any)["extension"].([]any)[i].(map[string]any)
}
