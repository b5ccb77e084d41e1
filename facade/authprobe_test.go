package facade_test

import (
	"encoding/json"
	"testing"
)

// Regression tests for defects found by the authorization and audit probe
// of a running facade (real JWTs from a local issuer, both routes). Each
// fails on the code it was written against.

// TestProbeConditionalUpdateIDOracle: a patient-scoped conditional update
// whose condition matches nothing in the token's compartment, with a body
// id, answers alike whether that id names another patient's resource or
// nothing at all — a read answers 404 for both so that a token cannot
// probe for other patients' ids, and the conditional update must not be
// the oracle (it answered 409 "names an existing one" for the other
// patient's resource and 404 for a missing one).
func TestProbeConditionalUpdateIDOracle(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route, tombstones: true})
			full := s.token("system/*.cruds", "")
			tokA := s.token("patient/Observation.cruds", "1")
			first := func(p string) map[string]any {
				r := s.as(full, "GET", "/fhir/Observation?subject=Patient/"+p+"&_count=1", "")
				s.wantStatus(r, 200, "observations of "+p)
				return entries(r, "match")[0]
			}
			obsB := first("2")
			before := s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), "")
			mine := first("1")
			delete(mine, "meta")
			for _, c := range []struct {
				name, id string
				want     int
			}{
				{"another patient's observation", obsB["id"].(string), 404},
				{"no such observation", "987654321", 404},
			} {
				t.Run(c.name, func(t *testing.T) {
					s.t = t
					mine["id"] = c.id
					body, _ := json.Marshal(mine)
					got := s.as(tokA, "PUT", "/fhir/Observation?code=http://loinc.org|no-such-code", string(body))
					s.wantStatus(got, c.want, "conditional update naming "+c.name)
				})
			}
			s.t = t
			after := s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), "")
			if after.header.Get("ETag") != before.header.Get("ETag") {
				t.Fatalf("the other patient's observation changed: %s -> %s", before.header.Get("ETag"), after.header.Get("ETag"))
			}
		})
	}
}
