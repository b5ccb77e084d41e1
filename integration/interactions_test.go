package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/seed"
)

// TestFHIRRefusesWhatTheMappingForbids: on a `fhir` route a create, update
// or delete that the type's mapping does not allow at all (the EHR schema's
// Location has no create, its Encounter no write-back) is refused before
// it goes upstream, with the status, issue code and words legacy answers
// on the legacy route — nothing reaches the FHIR server, no mirror row is
// queued. Before, the FHIR server took it (201/200) and its reverse mirror
// failed. With Prefer: handling=lenient it is stored and its mirror row
// is unmirrorable.
func TestFHIRRefusesWhatTheMappingForbids(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			db := d.legacy(t)
			w := newWorldOn(t, db, d.ctl(t), false, testutil.SeedEHR(t, db, 12))
			visit := seed.EHRPatientData(5).Visits[0].GUID
			loc := w.want(w.do("GET", "/fhir/Location?_count=1", ""), 200, "a Location to copy").body["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
			delete(loc, "id")
			delete(loc, "meta")
			loc["name"] = "Refusedward"
			enc := w.want(w.do("GET", "/fhir/Encounter/"+visit, ""), 200, "an Encounter to change").body
			enc["status"] = "cancelled"
			cases := []struct {
				name, typ, method, path string
				body                    any
				want                    string // legacy's words
			}{
				{"create of a type legacy cannot create", "Location", "POST", "/fhir/Location", loc, "create of Location is not allowed by its mapping"},
				{"update of a type legacy cannot update", "Encounter", "PUT", "/fhir/Encounter/" + visit, enc, "update of Encounter is not allowed by its mapping"},
				{"delete of a type legacy cannot delete", "Encounter", "DELETE", "/fhir/Encounter/" + visit, nil, "delete of Encounter is not allowed by its mapping"},
			}
			send := func(method, path string, body any, hdr ...string) resp {
				raw := ""
				if body != nil {
					b, _ := json.Marshal(body)
					raw = string(b)
				}
				return w.do(method, path, raw, hdr...)
			}
			onLegacy := map[string]resp{}
			for _, c := range cases {
				r := send(c.method, c.path, c.body)
				if r.status != 400 || !strings.Contains(string(r.raw), c.want) {
					t.Fatalf("%s on legacy: %d %s, want 400 saying %q", c.name, r.status, r.raw, c.want)
				}
				onLegacy[c.name] = r
			}
			w.toFHIR("Location", "Encounter")
			encVersion := w.want(w.do("GET", "/fhir/Encounter/"+visit, ""), 200, "read on fhir").body["meta"].(map[string]any)["versionId"]
			for _, c := range cases {
				before := w.outboxRows(c.typ)
				r := send(c.method, c.path, c.body)
				l := onLegacy[c.name]
				if r.status != l.status || issue(r, "code") != issue(l, "code") || !strings.HasPrefix(issue(r, "diagnostics"), issue(l, "diagnostics")) {
					t.Fatalf("%s on fhir: %d %s\nwant as on legacy: %d %s", c.name, r.status, r.raw, l.status, l.raw)
				}
				if after := w.outboxRows(c.typ); after != before {
					t.Fatalf("%s on fhir queued mirror rows: %d -> %d", c.name, before, after)
				}
			}
			if found, _ := w.want(w.do("GET", "/fhir/Location?name=Refusedward", ""), 200, "search on fhir").body["entry"].([]any); len(found) != 0 {
				t.Fatalf("the refused create reached the FHIR server: %v", found)
			}
			if v := w.want(w.do("GET", "/fhir/Encounter/"+visit, ""), 200, "read on fhir").body["meta"].(map[string]any)["versionId"]; v != encVersion {
				t.Fatalf("the refused update reached the FHIR server: version %v -> %v", encVersion, v)
			}
			// a transaction's entries are checked as single writes are
			tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Encounter/` + visit + `"}}]}`
			if r := w.do("POST", "/fhir", tx); r.status != 400 || !strings.Contains(issue(r, "diagnostics"), "delete of Encounter is not allowed by its mapping") {
				t.Fatalf("transaction deleting an Encounter on fhir: %d %s", r.status, r.raw)
			}
			// lenient: stored on FHIR, never mirrored
			want := map[string]int{}
			for _, c := range cases {
				if r := send(c.method, c.path, c.body, "Prefer", "handling=lenient"); r.status >= 300 {
					t.Fatalf("%s, lenient: %d %s", c.name, r.status, r.raw)
				}
				want[c.typ]++
				if n := w.unmirrorable(c.typ); n != want[c.typ] {
					t.Fatalf("%s, lenient: %d unmirrorable %s writes, want %d", c.name, n, c.typ, want[c.typ])
				}
			}
		})
	}
}

// outboxRows counts the reverse mirror's rows of typ.
func (w *world) outboxRows(typ string) int {
	w.t.Helper()
	var n int
	q := "SELECT COUNT(*) FROM outbox WHERE target = 'legacy' AND resource_type = " + w.ctl.DB.Dialect.Placeholder(1)
	if err := w.ctl.DB.QueryRowContext(w.ctx, q, typ).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// issue is a field of an OperationOutcome's first issue ("" if none).
func issue(r resp, field string) string {
	iss, _ := r.body["issue"].([]any)
	if len(iss) == 0 {
		return ""
	}
	s, _ := iss[0].(map[string]any)[field].(string)
	return s
}
