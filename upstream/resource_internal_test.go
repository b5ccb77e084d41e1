package upstream

import (
	"errors"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TestToResource: the envelope is read from the top level only, and
// anything that is not one JSON resource is refused as an upstream fault.
func TestToResource(t *testing.T) {
	lu := time.Date(2026, 11, 29, 10, 0, 0, 123000000, time.UTC)
	cases := []struct {
		name, raw    string
		typ, id, vid string
		lu           time.Time
		bad          bool
	}{
		{"plain", `{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-29T10:00:00.123Z"}}`, "Patient", "p1", "3", lu, false},
		{"nested names ignored", `{"contained":[{"resourceType":"Practitioner","id":"x","meta":{"versionId":"9"}}],"meta":{"lastUpdated":"2026-11-29T10:00:00.123Z","versionId":"4"},"id":"o1","resourceType":"Observation"}`, "Observation", "o1", "4", lu, false},
		{"no meta", `{"resourceType":"Patient","id":"p2"}`, "Patient", "p2", "", time.Time{}, false},
		{"escaped id", `{"resourceType":"Patient","id":"p\u0033"}`, "Patient", "p3", "", time.Time{}, false},
		{"truncated", `{"resourceType":"Patient","id":"p1"`, "", "", "", time.Time{}, true},
		{"not an object", `["resourceType"]`, "", "", "", time.Time{}, true},
		{"no type", `{"id":"p1"}`, "", "", "", time.Time{}, true},
		{"type not a string", `{"resourceType":7,"id":"p1"}`, "", "", "", time.Time{}, true},
		{"html", `<html>bad gateway</html>`, "", "", "", time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := toResource([]byte(c.raw))
			if c.bad {
				if !errors.Is(err, backend.ErrUnavailable) {
					t.Fatalf("want ErrUnavailable, got %v %+v", err, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != c.typ || r.ID != c.id || r.VersionID != c.vid || !r.LastUpdated.Equal(c.lu) || string(r.JSON) != c.raw {
				t.Fatalf("got %s/%s v%s %v", r.Type, r.ID, r.VersionID, r.LastUpdated)
			}
		})
	}
}

func BenchmarkToResource(b *testing.B) {
	raw := []byte(`{"resourceType":"Patient","id":"1","meta":{"versionId":"1","lastUpdated":"2026-11-29T10:00:00.123Z","source":"#legacy"},"identifier":[{"system":"urn:oid:2.16.840.1.113883.3.0","value":"MRN0000001"}],"active":true,"name":[{"use":"official","family":"Smith","given":["Anna","Maria"]}],"telecom":[{"system":"phone","value":"555-0101","use":"home"}],"gender":"female","birthDate":"1970-01-01","address":[{"line":["1 Main St"],"city":"Springfield","state":"IL","postalCode":"62701"}]}`)
	for b.Loop() {
		if _, err := toResource(raw); err != nil {
			b.Fatal(err)
		}
	}
}
