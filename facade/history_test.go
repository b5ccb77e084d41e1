package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// patientBody is a Patient both backends can hold, with an MRN to find it
// by (id "" for none).
func patientBody(id, family, mrn string) string {
	p := map[string]any{"resourceType": "Patient", "gender": "female", "birthDate": "1980-02-03",
		"name": []any{map[string]any{"use": "official", "family": family, "given": []any{"Hana"}}},
		"identifier": []any{map[string]any{"use": "usual", "system": "urn:oid:2.16.840.1.113883.3.7777.1", "value": mrn,
			"type": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}}}}}
	if id != "" {
		p["id"] = id
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// historyEntries are the entries of a history Bundle.
func historyEntries(t *testing.T, r resp) []map[string]any {
	t.Helper()
	if r.body["type"] != "history" {
		t.Fatalf("not a history Bundle: %s", r.raw)
	}
	var out []map[string]any
	es, _ := r.body["entry"].([]any)
	for _, x := range es {
		out = append(out, x.(map[string]any))
	}
	return out
}

func method(e map[string]any) string { return e["request"].(map[string]any)["method"].(string) }
func etag(e map[string]any) string   { return e["response"].(map[string]any)["etag"].(string) }

// interactions lists the audit records' interactions with their status.
func (s *secure) interactions() []string {
	s.t.Helper()
	var out []string
	if err := s.audit.Each(context.Background(), time.Time{}, func(r *audit.Record) error {
		out = append(out, fmt.Sprintf("%s %d", r.Interaction, r.Status))
		return nil
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *secure) wantAudited(want ...string) {
	s.t.Helper()
	got := strings.Join(s.interactions(), ",")
	for _, w := range want {
		if !strings.Contains(","+got+",", ","+w+",") {
			s.t.Errorf("no audit record %q among %s", w, got)
		}
	}
}

// TestVersions: vread, instance history and tombstones over real HTTP, on
// legacy (current version only, and 410 from the tombstone) and on the
// test FHIR server (every version kept; it forgets deletes, the tombstone
// answers 410).
func TestVersions(t *testing.T) {
	for _, tc := range []struct {
		route        string
		pastVersions bool
	}{{"legacy", false}, {"fhir", true}} {
		t.Run(tc.route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: tc.route, tombstones: true})
			tok := s.token("system/*.cruds", "")
			cr := s.as(tok, "POST", "/fhir/Patient", patientBody("", "Verso", "V-1"))
			s.wantStatus(cr, 201, "create")
			id, v1 := cr.body["id"].(string), cr.body["meta"].(map[string]any)["versionId"].(string)
			base := "/fhir/Patient/" + id

			vr := s.as(tok, "GET", base+"/_history/"+v1, "")
			s.wantStatus(vr, 200, "vread of the current version")
			if vr.header.Get("ETag") != `W/"`+v1+`"` || vr.body["id"] != id {
				t.Fatalf("vread: %v %s", vr.header, vr.raw)
			}
			s.wantStatus(s.as(tok, "GET", base+"/_history/"+v1, "", "If-None-Match", `W/"`+v1+`"`), 304, "vread If-None-Match")
			s.wantStatus(s.as(tok, "GET", base+"/_history/424242", ""), 404, "vread of an unknown version")

			up := s.as(tok, "PUT", base, patientBody(id, "Versoo", "V-1"))
			s.wantStatus(up, 200, "update")
			v2 := up.body["meta"].(map[string]any)["versionId"].(string)
			old := s.as(tok, "GET", base+"/_history/"+v1, "")
			if tc.pastVersions {
				s.wantStatus(old, 200, "vread of the past version")
			} else {
				s.wantStatus(old, 404, "vread of a past version on legacy")
				if !strings.Contains(outcomeText(old), "keeps no history") {
					t.Fatalf("the 404 does not say legacy keeps no history: %s", old.raw)
				}
			}

			h := s.as(tok, "GET", base+"/_history", "")
			s.wantStatus(h, 200, "history")
			es := historyEntries(t, h)
			want := map[bool]int{false: 1, true: 2}[tc.pastVersions]
			if len(es) != want || etag(es[0]) != `W/"`+v2+`"` || es[0]["fullUrl"] != s.srv.URL+base || es[0]["resource"] == nil {
				t.Fatalf("history: %d entries (want %d), newest %v", len(es), want, es)
			}

			s.wantStatus(s.as(tok, "DELETE", base, ""), 204, "delete")
			s.wantStatus(s.as(tok, "GET", base, ""), 410, "read after delete")
			s.wantStatus(s.as(tok, "GET", base+"/_history/"+v2, ""), 410, "vread after delete")
			h = s.as(tok, "GET", base+"/_history", "")
			s.wantStatus(h, 200, "history after delete")
			if es := historyEntries(t, h); len(es) == 0 || method(es[0]) != "DELETE" || es[0]["resource"] != nil {
				t.Fatalf("history after delete: %s", h.raw)
			}
			s.wantStatus(s.as(tok, "GET", "/fhir/Patient/424242/_history", ""), 404, "history of an unknown resource")

			for _, path := range []string{"/fhir/Patient/_history", "/fhir/_history"} {
				s.wantStatus(s.as(tok, "GET", path, ""), 405, path)
			}
			s.wantStatus(s.as(tok, "GET", base+"/_history?_since=2020-01-01", ""), 400, "_since")
			page := s.as(tok, "GET", "/fhir/Patient?_count=1", "")
			s.wantStatus(page, 200, "a paged search")
			next, err := url.Parse(link(page, "next"))
			if err != nil || next.Query().Get("_page") == "" {
				t.Fatalf("fixture: no next page: %s", page.raw)
			}
			s.wantStatus(s.as(tok, "GET", "/fhir/Patient/1/_history?_page="+url.QueryEscape(next.Query().Get("_page")), ""), 400, "a search's page token")
			s.wantStatus(s.as(tok, "GET", "/fhir/Patient/1/_history?_page=garbage", ""), 400, "a forged page token")
			s.wantAudited("vread 200", "vread 404", "history-instance 200", "delete 204", "read 410", "vread 410", "history-type 405")
		})
	}
}

// TestHistoryScopes: vread and history need read; a patient token sees
// the history of its own resources only (another patient's is 404, as
// for a read).
func TestHistoryScopes(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true})
	full := s.token("system/*.rs", "")
	p1 := s.as(full, "GET", "/fhir/Patient/1", "")
	s.wantStatus(p1, 200, "fixture")
	v := p1.body["meta"].(map[string]any)["versionId"].(string)
	for _, c := range []struct {
		name, scope, patient, path string
		want                       int
	}{
		{"search only", "system/Patient.s", "", "/fhir/Patient/1/_history", 403},
		{"read", "system/Patient.r", "", "/fhir/Patient/1/_history", 200},
		{"own vread", "patient/*.rs", "1", "/fhir/Patient/1/_history/" + v, 200},
		{"own history", "patient/*.rs", "1", "/fhir/Patient/1/_history", 200},
		{"other's vread", "patient/*.rs", "2", "/fhir/Patient/1/_history/" + v, 404},
		{"other's history", "patient/*.rs", "2", "/fhir/Patient/1/_history", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			s.wantStatus(s.as(s.token(c.scope, c.patient), "GET", c.path, ""), c.want, c.name)
		})
	}
}

// TestConditionalWrites: PUT and DELETE [type]?search on both routes — no
// match, one match, several matches — and the refusals.
func TestConditionalWrites(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route, tombstones: true})
			tok := s.token("system/*.cruds", "")
			mrn := "urn:oid:2.16.840.1.113883.3.7777.1|C-" + route
			cond := "/fhir/Patient?identifier=" + mrn

			made := s.as(tok, "PUT", cond, patientBody("", "Condo", "C-"+route))
			s.wantStatus(made, 201, "no match: create")
			id := made.body["id"].(string)
			again := s.as(tok, "PUT", cond, patientBody("", "Condor", "C-"+route))
			s.wantStatus(again, 200, "one match: update")
			if again.body["id"] != id || again.body["name"].([]any)[0].(map[string]any)["family"] != "Condor" {
				t.Fatalf("the update did not land on %s: %s", id, again.raw)
			}
			s.wantStatus(s.as(tok, "PUT", cond, patientBody("999999", "Condor", "C-"+route)), 400, "body id of another resource")
			s.wantStatus(s.as(tok, "PUT", cond, patientBody("", "Condor", "C-"+route), "If-Match", `W/"stale"`), 412, "stale If-Match")

			s.wantStatus(s.as(tok, "POST", "/fhir/Patient", patientBody("", "Twinn", "T1-"+route)), 201, "twin 1")
			s.wantStatus(s.as(tok, "POST", "/fhir/Patient", patientBody("", "Twinn", "T2-"+route)), 201, "twin 2")
			s.wantStatus(s.as(tok, "PUT", "/fhir/Patient?family:exact=Twinn", patientBody("", "Twinn", "T3-"+route)), 412, "several matches: update")
			s.wantStatus(s.as(tok, "DELETE", "/fhir/Patient?family:exact=Twinn", ""), 412, "several matches: delete")

			s.wantStatus(s.as(tok, "PUT", "/fhir/Patient", patientBody("", "Nocond", "N-1")), 400, "PUT without a condition")
			s.wantStatus(s.as(tok, "DELETE", "/fhir/Patient", ""), 400, "DELETE without a condition")
			s.wantStatus(s.as(tok, "PUT", "/fhir/Patient?bogus-param=1", patientBody("", "Nocond", "N-1")), 400, "unknown parameter")
			s.wantStatus(s.as(tok, "PUT", cond, patientBody("", "Condor", "C-"+route), "If-None-Match", "*"), 400, "If-None-Match on a write")

			s.wantStatus(s.as(tok, "DELETE", cond, ""), 204, "one match: delete")
			s.wantStatus(s.as(tok, "GET", "/fhir/Patient/"+id, ""), 410, "read after the conditional delete")
			s.wantStatus(s.as(tok, "DELETE", cond, ""), 204, "no match: delete")
			s.wantAudited("conditional-update 201", "conditional-update 200", "conditional-update 412", "conditional-delete 204", "conditional-delete 412")
		})
	}
}

// TestConditionalNarrowing: a patient token's conditional writes are
// narrowed like its searches: another patient's match is neither updated
// nor deleted, and does not show through as a 412.
func TestConditionalNarrowing(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true})
	full := s.token("system/*.cruds", "")
	a, b := "1", "2"
	tokA := s.token("patient/Observation.cruds", a)
	obsOf := func(p string) map[string]any {
		r := s.as(full, "GET", "/fhir/Observation?subject=Patient/"+p+"&_count=1", "")
		s.wantStatus(r, 200, "obs of "+p)
		return entries(r, "match")[0]
	}
	obsB := obsOf(b)
	ident := obsB["identifier"].([]any)[0].(map[string]any)
	condB := "/fhir/Observation?identifier=" + ident["system"].(string) + "|" + ident["value"].(string)
	before := s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), "")

	// A's delete of B's observation: nothing in A's compartment matches
	s.wantStatus(s.as(tokA, "DELETE", condB, ""), 204, "A deletes by B's identifier")
	after := s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), "")
	s.wantStatus(after, 200, "B's observation after A's conditional delete")

	// A's update by B's identifier: not B's resource; a new one of A's
	mine := obsOf(a)
	delete(mine, "id")
	delete(mine, "meta")
	mine["identifier"] = []any{ident}
	raw, _ := json.Marshal(mine)
	made := s.as(tokA, "PUT", condB, string(raw))
	s.wantStatus(made, 201, "A updates by B's identifier")
	if made.body["id"] == obsB["id"] {
		t.Fatal("A's conditional update overwrote B's observation")
	}
	if again := s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), ""); again.header.Get("ETag") != before.header.Get("ETag") {
		t.Fatalf("B's observation changed: %s -> %s", before.header.Get("ETag"), again.header.Get("ETag"))
	}
	// now two match for a system token, one for A: A sees no 412
	s.wantStatus(s.as(full, "DELETE", condB, ""), 412, "system token: two matches")
	s.wantStatus(s.as(tokA, "DELETE", condB, ""), 204, "A: its one match")
	s.wantStatus(s.as(full, "GET", "/fhir/Observation/"+made.body["id"].(string), ""), 410, "A's observation deleted")
	s.wantStatus(s.as(full, "GET", "/fhir/Observation/"+obsB["id"].(string), ""), 200, "B's observation kept")
	// B's token writing about A is refused by the body check
	s.wantStatus(s.as(s.token("patient/Observation.cruds", b), "PUT", condB, string(raw)), 403, "a body about another patient")
}

// TestCapabilityVersions: the CapabilityStatement lists vread and
// history-instance only where a backend serves them, readHistory only where
// past versions are kept, and the conditional writes the mapping allows.
func TestCapabilityVersions(t *testing.T) {
	patientEntry := func(r resp) map[string]any {
		for _, x := range r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
			if res := x.(map[string]any); res["type"] == "Patient" {
				return res
			}
		}
		t.Fatalf("no Patient in %s", r.raw)
		return nil
	}
	codes := func(res map[string]any) string {
		var out []string
		for _, i := range res["interaction"].([]any) {
			out = append(out, i.(map[string]any)["code"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		name        string
		meta        func(t *testing.T) resp
		history     bool
		readHistory bool
	}{
		{"legacy without tombstones", func(t *testing.T) resp { return newEnv(t, testutil.SQLite).get("/fhir/metadata") }, false, false},
		{"legacy", func(t *testing.T) resp {
			return newSecure(t, secureOpts{route: "legacy", tombstones: true}).get("/fhir/metadata")
		}, true, false},
		{"fhir", func(t *testing.T) resp {
			return newSecure(t, secureOpts{route: "fhir", tombstones: true}).get("/fhir/metadata")
		}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := patientEntry(c.meta(t))
			got := codes(res)
			if strings.Contains(got, "vread") != c.history || strings.Contains(got, "history-instance") != c.history {
				t.Errorf("interactions %s; history served: %v", got, c.history)
			}
			if strings.Contains(got, "history-type") || strings.Contains(got, "history-system") {
				t.Errorf("type or system history listed: %s", got)
			}
			if res["readHistory"] != c.readHistory || res["versioning"] != "versioned" || res["conditionalUpdate"] != true || res["conditionalDelete"] != "single" {
				t.Errorf("readHistory %v versioning %v conditionalUpdate %v conditionalDelete %v", res["readHistory"], res["versioning"], res["conditionalUpdate"], res["conditionalDelete"])
			}
		})
	}
}
