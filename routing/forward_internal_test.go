package routing

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/events"
)

// TestEntryChange: the change event of one entry of a forwarded
// transaction, from its method and the transaction-response's answer.
func TestEntryChange(t *testing.T) {
	cases := []struct {
		name, method, status, location, etag string
		want                                 written
	}{
		{"create", "POST", "201 Created", "Patient/a/_history/1", `W/"1"`, written{"a", "1", events.Created}},
		{"conditional create that matched", "POST", "200 OK", "Patient/a/_history/4", `W/"4"`, written{"a", "4", ""}},
		{"update", "PUT", "200 OK", "Patient/a/_history/5", "", written{"a", "5", events.Updated}},
		{"update-as-create", "PUT", "201 Created", "Patient/a/_history/1", "", written{"a", "1", events.Created}},
		{"version from the ETag alone", "PUT", "200", "Patient/a", `W/"7"`, written{"a", "7", events.Updated}},
		{"delete", "DELETE", "204 No Content", "", "", written{"a", "", events.Deleted}},
	}
	for _, c := range cases {
		if got := entryChange(c.method, c.status, "a", c.location, c.etag); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestDeleteType: the type a transaction's DELETE entry names, which the
// fhir route's pre-check asks legacy about.
func TestDeleteType(t *testing.T) {
	for url, want := range map[string]string{
		"Encounter/1":                     "Encounter",
		"Encounter/1/_history/2":          "Encounter",
		"Encounter?identifier=urn:x|1":    "Encounter",
		"/Encounter?status=cancelled":     "Encounter",
		"http://h/fhir/Encounter/1":       "Encounter",
		"http://h/fhir/Encounter?subject": "Encounter",
	} {
		if got := deleteType(url); got != want {
			t.Errorf("%s: %q, want %q", url, got, want)
		}
	}
}
