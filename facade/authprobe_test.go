package facade_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
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

// TestProbeRestrictedPastVersions: a v2 scope restricted by a search
// (?code=…) grants the resources that match it now; a past version of such
// a resource may not have matched (the code was changed), and whether it
// did cannot be checked by a search, so vread and history disclose only
// the current version under a restriction (they disclosed every version
// once the current one matched). Unrestricted and compartment-only tokens
// still see every version of their resources.
func TestProbeRestrictedPastVersions(t *testing.T) {
	s := newSecure(t, secureOpts{route: "fhir", tombstones: true})
	full := s.token("system/*.cruds", "")
	r := s.as(full, "GET", "/fhir/Observation?subject=Patient/1&_count=1", "")
	s.wantStatus(r, 200, "an observation of patient 1")
	obs := entries(r, "match")[0]
	delete(obs, "id")
	delete(obs, "meta")
	withCode := func(code, id string) string {
		obs["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": code}}}
		if id != "" {
			obs["id"] = id
		}
		b, _ := json.Marshal(obs)
		return string(b)
	}
	made := s.as(full, "POST", "/fhir/Observation", withCode("2345-7", ""))
	s.wantStatus(made, 201, "version 1: glucose")
	id := made.body["id"].(string)
	v1 := made.body["meta"].(map[string]any)["versionId"].(string)
	up := s.as(full, "PUT", "/fhir/Observation/"+id, withCode("2951-2", id))
	s.wantStatus(up, 200, "version 2: sodium")
	v2 := up.body["meta"].(map[string]any)["versionId"].(string)
	base := "/fhir/Observation/" + id

	for _, c := range []struct {
		name, scope, patient string
		pastVisible          bool
	}{
		{"unrestricted", "user/Observation.rs", "", true},
		{"compartment only", "patient/Observation.rs", "1", true},
		{"restricted to the current code", "user/Observation.rs?code=http://loinc.org|2951-2", "", false},
		{"compartment and restriction", "patient/Observation.rs?code=http://loinc.org|2951-2", "1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			tok := s.token(c.scope, c.patient)
			s.wantStatus(s.as(tok, "GET", base, ""), 200, "read of the current version")
			s.wantStatus(s.as(tok, "GET", base+"/_history/"+v2, ""), 200, "vread of the current version")
			old := s.as(tok, "GET", base+"/_history/"+v1, "")
			h := s.as(tok, "GET", base+"/_history", "")
			s.wantStatus(h, 200, "history")
			es := historyEntries(t, h)
			if c.pastVisible {
				s.wantStatus(old, 200, "vread of the past version")
				if len(es) != 2 {
					t.Fatalf("history: %d entries, want both versions: %s", len(es), h.raw)
				}
				return
			}
			s.wantStatus(old, 403, "vread of a past version under a restriction")
			if len(es) != 1 || etag(es[0]) != `W/"`+v2+`"` {
				t.Fatalf("history under a restriction: %d entries, want the current version only: %s", len(es), h.raw)
			}
		})
	}
	s.t = t
	s.wantStatus(s.as(s.token("user/Observation.rs?code=http://loinc.org|2345-7", ""), "GET", base+"/_history/"+v1, ""), 404,
		"vread under a restriction the current version does not match")
}

// recordOf is the audit record of the request that got answer r.
func (s *secure) recordOf(r resp) *audit.Record {
	s.t.Helper()
	id := r.header.Get("X-Request-Id")
	var out *audit.Record
	if err := s.audit.Each(context.Background(), time.Time{}, func(rec *audit.Record) error {
		if rec.RequestID == id {
			out = rec
		}
		return nil
	}); err != nil {
		s.t.Fatal(err)
	}
	if out == nil {
		s.t.Fatalf("no audit record for request %q (%d %s)", id, r.status, r.raw)
	}
	return out
}

// TestProbeRefusedQueriesAudited: the record of an authenticated request
// that asked a search names that search (query) whatever the answer — a
// 403 for the scopes, a 400 for a bad value, a page token presented by
// another principal (the search it carries), a bulk kick-off refused —
// and a conditional create names its If-None-Exist search, which selects
// what a 200 discloses. Only answered searches and conditional
// updates/deletes named theirs: the compliance reviewer saw that a token
// was refused, not what it had asked for.
func TestProbeRefusedQueriesAudited(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", bulk: true})
	full := s.token("system/*.cruds", "")
	tokA := s.token("patient/*.rs patient/Observation.c", "1")
	page := s.as(full, "GET", "/fhir/Observation?category=laboratory&_count=1", "")
	s.wantStatus(page, 200, "a system search with a next page")
	mine := s.as(full, "GET", "/fhir/Observation?subject=Patient/1&_count=1", "")
	obs := entries(mine, "match")[0]
	delete(obs, "id")
	delete(obs, "meta")
	body, _ := json.Marshal(obs)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	for _, c := range []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		query                    string // the record's query must hold this
	}{
		{"search of a type the scope does not reach", "GET", "/fhir/Practitioner?name=Jones", "", nil, 403, "name=Jones"},
		{"search refused for a bad value", "GET", "/fhir/Patient?birthdate=1980-13-45", "", nil, 400, "birthdate=1980-13-45"},
		{"POST _search refused", "POST", "/fhir/Practitioner/_search", "name=Jones", form, 403, "name=Jones"},
		{"another principal's page token", "GET", link(page, "next"), "", nil, 403, "category=laboratory"},
		{"conditional create", "POST", "/fhir/Observation", string(body), []string{"If-None-Exist", "identifier=urn:x|probe-1"}, 201, "identifier=urn:x|probe-1"},
		{"bulk kick-off refused", "GET", "/fhir/Patient/$export?_type=Observation", "", []string{"Prefer", "respond-async"}, 403, "_type=Observation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			r := s.as(tokA, c.method, c.path, c.body, c.hdr...)
			s.wantStatus(r, c.status, c.name)
			rec := s.recordOf(r)
			q, _ := url.QueryUnescape(rec.Query)
			if !strings.Contains(q, c.query) || rec.User != "user-1" {
				t.Fatalf("record %+v: query %q does not name %q", rec, rec.Query, c.query)
			}
			if strings.Contains(rec.Query, "_page") {
				t.Fatalf("record %+v keeps the sealed page token", rec)
			}
		})
	}
}

// TestProbeForwardedDisclosuresAudited: a transaction forwarded whole to
// the FHIR server discloses what its GET entries read, and each entry's
// record names those resources and their patients as a batch entry's (or
// a lone request's) record does — the accounting of disclosures finds a
// patient by them. The forwarded records named no resource of a search
// entry and no patient at all, so patient 3's observations read through a
// transaction were in no record of patient 3.
func TestProbeForwardedDisclosuresAudited(t *testing.T) {
	s := newSecure(t, secureOpts{route: "fhir"})
	tok := s.token("system/*.cruds", "")
	for _, typ := range []string{"batch", "transaction"} {
		t.Run(typ, func(t *testing.T) {
			s.t = t
			r := s.as(tok, "POST", "/fhir", bundleOf(typ, get("Observation?subject=Patient/3&_count=2"), get("Patient/4")))
			s.wantStatus(r, 200, typ)
			_, recs := s.recordsOf(r.header.Get("X-Request-Id"))
			if got := summary(recs); got != "search-type Observation 200; read Patient 200" {
				t.Fatalf("entry records: %s", got)
			}
			search, read := recs[0], recs[1]
			if q, _ := url.QueryUnescape(search.Query); len(search.IDs) != 2 || strings.Join(search.Patients, ",") != "Patient/3" || !strings.Contains(q, "subject=Patient/3") {
				t.Errorf("the search entry's record does not name what it disclosed: ids %v patients %v query %q", search.IDs, search.Patients, search.Query)
			}
			if strings.Join(read.IDs, ",") != "Patient/4" || strings.Join(read.Patients, ",") != "Patient/4" {
				t.Errorf("the read entry's record: ids %v patients %v", read.IDs, read.Patients)
			}
			for _, rec := range recs {
				if rec.Backend != "fhir" || strings.Contains(rec.Path, "?") {
					t.Errorf("entry record %+v: backend %q, path %q", rec, rec.Backend, rec.Path)
				}
			}
		})
	}
}

// TestProbeWriteReferencesInCompartment: a patient-scoped write may name
// only its own patient, and only resources of its patient's compartment,
// in any reference — not just in the element that places it in the
// compartment. A patient 1 token could attach an observation to patient
// 2's encounter (stored: patient 2's encounter then listed it) or name
// patient 2 as its performer, which puts it in patient 2's compartment.
func TestProbeWriteReferencesInCompartment(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route})
			full := s.token("system/*.cruds", "")
			tokA := s.token("patient/*.rs patient/Observation.cu", "1")
			encOf := func(p string) string {
				r := s.as(full, "GET", "/fhir/Encounter?subject=Patient/"+p+"&_count=1", "")
				s.wantStatus(r, 200, "encounters of "+p)
				return entries(r, "match")[0]["id"].(string)
			}
			encA, encB := encOf("1"), encOf("2")
			obs := func(enc string, extra map[string]any) string {
				var m map[string]any
				_ = json.Unmarshal([]byte(observationJSON("Patient/1", enc, "2345-7")), &m)
				for k, v := range extra {
					m[k] = v
				}
				b, _ := json.Marshal(m)
				return string(b)
			}
			made := s.as(tokA, "POST", "/fhir/Observation", obs("Encounter/"+encA, nil))
			s.wantStatus(made, 201, "an observation on the patient's own encounter")
			id := made.body["id"].(string)
			cases := []struct {
				name, body string
				want       int
			}{
				{"another patient's encounter", obs("Encounter/"+encB, nil), 403},
				{"another patient's encounter by absolute URL", obs("http://elsewhere.example/fhir/Encounter/"+encB, nil), 403},
				{"a missing encounter", obs("Encounter/987654321", nil), 403},
			}
			if route == "fhir" { // legacy holds a Practitioner performer only
				cases = append(cases,
					struct {
						name, body string
						want       int
					}{"another patient as performer", obs("Encounter/"+encA, map[string]any{"performer": []any{map[string]any{"reference": "Patient/2"}}}), 403},
					struct {
						name, body string
						want       int
					}{"a practitioner as performer", obs("Encounter/"+encA, map[string]any{"performer": []any{map[string]any{"reference": "Practitioner/DR0001"}}}), 201})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					s.t = t
					s.wantStatus(s.as(tokA, "POST", "/fhir/Observation", c.body), c.want, "create naming "+c.name)
					var m map[string]any
					_ = json.Unmarshal([]byte(c.body), &m)
					m["id"] = id
					b, _ := json.Marshal(m)
					want := c.want
					if want == 201 {
						want = 200
					}
					s.wantStatus(s.as(tokA, "PUT", "/fhir/Observation/"+id, string(b)), want, "update naming "+c.name)
				})
			}
			// a resource the same Bundle creates for the patient is inside
			// (a transaction on legacy sees its own writes; on the FHIR
			// server a patient token sends a batch)
			s.t = t
			const enc = "urn:uuid:5c2e7d10-0000-4000-8000-0000000000e1"
			bt := map[string]string{"legacy": "transaction", "fhir": "batch"}[route]
			tokAE := s.token("patient/*.rs patient/Observation.c patient/Encounter.c", "1")
			b := s.as(tokAE, "POST", "/fhir", bundleOf(bt, post(enc, "Encounter", encounterJSON("Patient/1")), post("", "Observation", observationJSON("Patient/1", enc, "2345-7"))))
			s.wantStatus(b, 200, bt+" creating an encounter and an observation on it")
			if got := statuses(s.env, b); got != "201 Created; 201 Created" {
				t.Fatalf("%s statuses %s: %s", bt, got, b.raw)
			}
			r := s.as(full, "GET", "/fhir/Observation?encounter=Encounter/"+encB+"&subject=Patient/1", "")
			s.wantStatus(r, 200, "patient 1's observations on patient 2's encounter")
			if n := len(entries(r, "match")); n != 0 {
				t.Fatalf("%d of patient 1's observations hang on patient 2's encounter: %s", n, r.raw)
			}
		})
	}
}

// TestProbeGroupExportRestricted: Group/[id]/$export reads the Group under
// the token's Group grant, as a read does: a Group its restriction
// excludes (read: 404) is the 404 of a missing one, not an export of its
// members — the membership of a cohort the token may not see was
// disclosed through the export of its members' data.
func TestProbeGroupExportRestricted(t *testing.T) {
	s := newSecure(t, secureOpts{route: "fhir", bulk: true, upstreamTypes: true})
	full := s.token("system/*.cruds", "")
	g := s.as(full, "POST", "/fhir/Group", `{"resourceType":"Group","type":"person","actual":true,"identifier":[{"system":"urn:cohort","value":"secret"}],"member":[{"entity":{"reference":"Patient/1"}},{"entity":{"reference":"Patient/2"}}]}`)
	s.wantStatus(g, 201, "a cohort")
	path := "/fhir/Group/" + g.body["id"].(string)
	for _, c := range []struct {
		name, scope string
		read, kick  int
	}{
		{"unrestricted Group grant", "user/Patient.rs user/Group.r", 200, 202},
		{"restriction the Group matches", "user/Patient.rs user/Group.rs?identifier=urn:cohort|secret", 200, 202},
		{"restriction the Group does not match", "user/Patient.rs user/Group.rs?identifier=urn:cohort|allowed", 404, 404},
		{"no Group grant", "user/Patient.rs", 403, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			tok := s.token(c.scope, "")
			s.wantStatus(s.as(tok, "GET", path, ""), c.read, "read of the Group")
			k := s.as(tok, "GET", path+"/$export", "", "Prefer", "respond-async")
			s.wantStatus(k, c.kick, "kick-off of its export")
			if loc := k.header.Get("Content-Location"); loc != "" {
				// cancelled: the engine runs two jobs at most
				s.wantStatus(s.as(tok, "DELETE", strings.TrimPrefix(loc, s.srv.URL), ""), 202, "cancel")
			}
		})
	}
}
