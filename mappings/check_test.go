package mappings_test

import (
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TestCheckWrite: WriteValues with every join lookup taken to succeed
// (CheckWrite, in export_test.go) refuses what Decode and the required
// columns refuse, naming the element, and does not refuse a required
// column a lookup fills (the local test code found from LOINC).
func TestCheckWrite(t *testing.T) {
	reg := registry(t)
	const (
		mrn   = `"identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"M1"}]`
		loinc = `{"system":"http://loinc.org","code":"2345-7"}`
		local = `{"system":"urn:oid:2.16.840.1.113883.3.7777.3","code":"GLU"}`
		obs   = `"resourceType":"Observation","status":"final","subject":{"reference":"Patient/1"},"effectiveDateTime":"2024-01-01T10:00:00Z"`
	)
	cases := []struct {
		name, typ, body, path string // path "": accepted
	}{
		{"valid Patient", "Patient", `{"resourceType":"Patient",` + mrn + `,"name":[{"family":"A"}]}`, ""},
		{"Patient without the MRN", "Patient", `{"resourceType":"Patient","name":[{"family":"A"}]}`, "Patient.identifier[0].value"},
		{"Patient without a family name", "Patient", `{"resourceType":"Patient",` + mrn + `}`, "Patient.name[0].family"},
		{"element legacy lacks", "Patient", `{"resourceType":"Patient",` + mrn + `,"name":[{"family":"A"}],"maritalStatus":{"text":"M"}}`, "Patient.maritalStatus"},
		{"Observation coded by LOINC only", "Observation", `{` + obs + `,"code":{"coding":[` + loinc + `]}}`, ""},
		{"Observation coded by both codes", "Observation", `{` + obs + `,"code":{"coding":[` + loinc + `,` + local + `]}}`, ""},
		{"Observation without a code", "Observation", `{` + obs + `}`, "Observation.code.coding[1].code"},
		{"Observation with a Patient id legacy cannot have", "Observation", `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/x-1"}}`, "Observation.subject.reference"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := reg.Spec(c.typ).CheckWrite(decode(t, c.body))
			if c.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ee *backend.ElementError
			if !errors.As(err, &ee) || ee.Path != c.path {
				t.Fatalf("got %v, want an ElementError at %s", err, c.path)
			}
		})
	}
}

// TestSomeID: a stand-in id the spec's key can take.
func TestSomeID(t *testing.T) {
	reg := registry(t)
	for _, typ := range reg.Types() {
		id, ok := reg.Spec(typ).SomeID()
		if _, err := reg.Spec(typ).KeyOf(id); !ok || err != nil {
			t.Fatalf("%s: %q %v %v", typ, id, ok, err)
		}
	}
}
