package facade_test

import (
	"strings"
	"testing"
)

// TestCreateIDNeverReplacesAnother: on the fhir route a create whose body
// names another resource's id — alone, in a batch, in a transaction sent
// whole to the FHIR server — gets an id of its own, and the other
// resource stands (the test server keeps an id it is sent: the create
// replaced Patient/4). The test server assigns its own ids inside a
// transaction, so the transaction case passes either way here;
// TestWithoutCreateIDs holds the forwarded Bundle to it.
func TestCreateIDNeverReplacesAnother(t *testing.T) {
	s := newSecure(t, secureOpts{route: "fhir"})
	tok := s.token("system/*.cruds", "")
	intruder := patientBody("4", "Intruder", "MRN-INTRUDER")
	cases := []struct{ name, method, path, body string }{
		{"create", "POST", "/fhir/Patient", intruder},
		{"batch", "POST", "/fhir", bundleOf("batch", post("", "Patient", intruder))},
		{"transaction", "POST", "/fhir", bundleOf("transaction", post("urn:uuid:6b1c2d1e-0000-4000-8000-000000000001", "Patient", intruder))},
	}
	for _, c := range cases {
		r := s.as(tok, c.method, c.path, c.body)
		if r.status != 201 && r.status != 200 {
			t.Fatalf("%s: %d %s", c.name, r.status, r.raw)
		}
		if strings.Contains(string(r.raw), `"Patient/4/`) || r.body["id"] == "4" {
			t.Errorf("%s: the create was given id 4: %s", c.name, r.raw)
		}
		if got := s.as(tok, "GET", "/fhir/Patient/4", ""); strings.Contains(string(got.raw), "Intruder") {
			t.Fatalf("%s replaced Patient/4: %s", c.name, got.raw)
		}
	}
}
