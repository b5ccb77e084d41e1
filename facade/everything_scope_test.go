package facade_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
)

// TestEverythingScopes: a patient/ token reaches only its own patient's
// $everything (another patient is a 404, as a read is), its scopes limit
// the types, a page token serves no other principal, and each request is
// audited as an operation naming the patient — on both routes.
func TestEverythingScopes(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route})
			types := func(tok, path string) map[string]int {
				keys, _ := s.walk(path, "Authorization", "Bearer "+tok)
				out := map[string]int{}
				for _, k := range keys {
					out[strings.SplitN(strings.Fields(k)[1], "/", 2)[0]]++
				}
				return out
			}
			cases := []struct {
				name, scope, patient, of string
				want                     map[string]int
				status                   int
			}{
				{"own patient", "patient/*.rs", "1", "1", map[string]int{"Patient": 1, "Encounter": 3, "Observation": 20}, 200},
				{"another patient", "patient/*.rs", "1", "2", nil, 404},
				{"observations only", "patient/Observation.rs", "1", "1", map[string]int{"Observation": 20}, 200},
				{"observations only, another patient", "patient/Observation.rs", "1", "2", nil, 404},
				{"no search grant", "patient/Observation.c", "1", "1", nil, 403},
				{"system", "system/*.rs", "", "2", map[string]int{"Patient": 1, "Encounter": 3, "Observation": 20}, 200},
				{"user, Encounter only", "user/Encounter.rs", "", "2", map[string]int{"Encounter": 3}, 200},
				// a Patient grant restricted away from patient 2: 404, as its
				// read is (it was 200 with the observations: the patient's
				// existence, which the grant hides)
				{"Patient grant excludes the patient", "user/Patient.rs?_id=1 user/Observation.rs", "", "2", nil, 404},
				{"Patient grant includes the patient", "user/Patient.rs?_id=2 user/Observation.rs", "", "2", map[string]int{"Patient": 1, "Observation": 20}, 200},
				// no Patient grant: an unknown patient is an empty Bundle, as
				// the Encounter search is (a 404 told which ids exist)
				{"no Patient grant, unknown patient", "user/Encounter.rs", "", "999999", map[string]int{}, 200},
			}
			for _, c := range cases {
				tok := s.token(c.scope, c.patient)
				// the types the cases name (the rest of the compartment and the
				// referenced directory types are TestEverything's)
				path := "/fhir/Patient/" + c.of + "/$everything?_type=Patient,Encounter,Observation&_count=6"
				if c.status != 200 {
					s.wantStatus(s.as(tok, "GET", path, ""), c.status, c.name)
					continue
				}
				if got := types(tok, path); !sameCounts(got, c.want) {
					t.Fatalf("%s: %v, want %v", c.name, got, c.want)
				}
			}
			// a page token of patient 1's token serves no other token
			tokA, sys := s.token("patient/*.rs", "1"), s.token("system/*.rs", "")
			next := link(s.as(tokA, "GET", "/fhir/Patient/1/$everything?_count=2", ""), "next")
			if next == "" {
				t.Fatal("no next page")
			}
			s.wantStatus(s.as(sys, "GET", next, ""), 403, "another principal's page token")
			s.wantStatus(s.as(tokA, "GET", next, ""), 200, "own page token")
			s.waitAudited(t, "Patient/1")
		})
	}
}

// waitAudited waits for an audit record of a $everything naming patient.
func (s *secure) waitAudited(t *testing.T, patient string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		found := false
		_ = s.audit.Each(context.Background(), time.Time{}, func(r *audit.Record) error {
			if r.Interaction == "operation" && strings.HasSuffix(r.Path, "/$everything") && r.Status == 200 &&
				len(r.Patients) == 1 && r.Patients[0] == patient && len(r.IDs) > 0 {
				found = true
			}
			return nil
		})
		if found {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no audit record of an operation naming %s", patient)
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
