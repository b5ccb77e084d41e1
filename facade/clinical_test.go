package facade_test

import (
	"strconv"
	"testing"
)

// TestClinicalCompartment: the clinical types join the patient compartment
// through the parameters CompartmentDefinition/patient names for them
// (MedicationRequest through subject): a patient/ token's searches are
// narrowed to its patient, and another patient's resource reads as 404.
func TestClinicalCompartment(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	full := s.token("system/*.rs", "")
	for _, c := range []struct{ typ, element string }{
		{"Condition", "subject"}, {"AllergyIntolerance", "patient"}, {"MedicationRequest", "subject"},
		{"Immunization", "patient"}, {"Procedure", "subject"},
	} {
		t.Run(c.typ, func(t *testing.T) {
			s.t = t
			// each patient's resources, as a system token finds them
			byPatient := map[string][]string{}
			all := s.as(full, "GET", "/fhir/"+c.typ+"?_count=1000", "")
			s.wantStatus(all, 200, "all "+c.typ)
			for _, res := range entries(all, "match") {
				ref := res[c.element].(map[string]any)["reference"].(string)
				byPatient[ref] = append(byPatient[ref], res["id"].(string))
			}
			var a, b string
			for p := 1; p <= securePatients && (a == "" || b == ""); p++ {
				ref := "Patient/" + strconv.Itoa(p)
				if len(byPatient[ref]) == 0 {
					continue
				}
				if a == "" {
					a = ref
				} else {
					b = ref
				}
			}
			if a == "" || b == "" {
				t.Fatalf("fixture: fewer than two of %d patients have a %s", securePatients, c.typ)
			}
			tokA := s.token("patient/*.rs", a[len("Patient/"):])
			own := s.as(tokA, "GET", "/fhir/"+c.typ+"?_count=1000", "")
			s.wantStatus(own, 200, "own "+c.typ)
			got := entries(own, "match")
			if len(got) != len(byPatient[a]) {
				t.Fatalf("%s's token sees %d %s, want its %d", a, len(got), c.typ, len(byPatient[a]))
			}
			for _, res := range got {
				if ref := res[c.element].(map[string]any)["reference"]; ref != a {
					t.Fatalf("%s's token sees %s/%v of %v", a, c.typ, res["id"], ref)
				}
			}
			s.wantStatus(s.as(tokA, "GET", "/fhir/"+c.typ+"/"+byPatient[a][0], ""), 200, "own "+c.typ)
			s.wantStatus(s.as(tokA, "GET", "/fhir/"+c.typ+"/"+byPatient[b][0], ""), 404, "another patient's "+c.typ)
		})
	}
}
