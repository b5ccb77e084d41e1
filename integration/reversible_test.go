package integration

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/facade/admin"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/search"
)

const mrnSystem = "urn:oid:2.16.840.1.113883.3.7777.1"

// TestFHIRWritesStayReversible: on a `fhir` route every create, update and
// conditional create is checked against the legacy write-back mapping
// before it goes upstream. What legacy cannot hold is refused (422 naming
// the element, nothing sent to the FHIR server) unless the client sends
// Prefer: handling=lenient: then it is stored, its reverse-mirror row is
// unmirrorable, counted per type, and the move back to shadow is refused
// until later writes that legacy can hold supersede those rows. References
// to resources created on FHIR and not mirrored yet are not refused; an
// update creating an id of the legacy key form that legacy has no row for
// is refused (legacy assigns those keys itself). On
// `fhir-only` nothing is checked.
func TestFHIRWritesStayReversible(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			w := newWorld(t, d.legacy(t), d.ctl(t))
			w.toFHIR("Patient", "Encounter")
			ids := w.fhirWrites()
			w.unmirrorableAfterwards(ids)
			w.fhirOnlyUnchecked()
		})
	}
}

// patientJSON is a Patient in the form legacy answers it (so the two sides
// compare equal); mrn "" leaves out the identifier legacy requires.
func patientJSON(id, family, mrn string, extra map[string]any) string {
	m := map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"use": "official", "family": family}}, "deceasedBoolean": false}
	if id != "" {
		m["id"] = id
	}
	if mrn != "" {
		m["identifier"] = []any{map[string]any{"use": "usual", "system": mrnSystem, "value": mrn,
			"type": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}}}}
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// onFHIR counts the FHIR server's Patients with a family name.
func (w *world) onFHIR(family string) int {
	w.t.Helper()
	q, _ := search.ParseQuery(url.Values{"family:exact": {family}})
	res, err := w.fhir.Search(w.ctx, "Patient", q, backend.SearchOptions{Count: 10})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(res.Resources)
}

func (w *world) unmirrorable(typ string) int {
	w.t.Helper()
	st, err := w.routes.Statuses(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range st {
		if r.Type == typ {
			return r.Unmirrorable
		}
	}
	return -1
}

// fhirWrites runs the write cases on Patient and Encounter (both on fhir)
// and returns the ids the created resources got.
func (w *world) fhirWrites() map[string]string {
	ids := map[string]string{}
	encounter := func(subject string) string {
		r := w.want(w.do("GET", "/fhir/Encounter/1", ""), 200, "an Encounter to copy")
		delete(r.body, "id")
		delete(r.body, "meta")
		r.body["subject"] = map[string]any{"reference": subject}
		b, _ := json.Marshal(r.body)
		return string(b)
	}
	cases := []struct {
		name, method, path string
		body               func() string
		hdr                []string
		status             int
		expr               string // the element a 422 names
		family             string // Patient family the write carries: on FHIR after 2xx, absent after 422
		unmirrorable       int    // Patient's count afterwards
		save               string // remember the created id under this name
	}{
		{name: "create without the MRN", method: "POST", path: "/fhir/Patient",
			body: func() string { return patientJSON("", "Refusedcreate", "", nil) }, status: 422, expr: "Patient.identifier[0].value", family: "Refusedcreate"},
		{name: "create with an element legacy lacks", method: "POST", path: "/fhir/Patient",
			body: func() string {
				return patientJSON("", "Refusedmarital", "MRN-R2", map[string]any{"maritalStatus": map[string]any{"text": "M"}})
			},
			status: 422, expr: "Patient.maritalStatus", family: "Refusedmarital"},
		{name: "conditional create without the MRN", method: "POST", path: "/fhir/Patient",
			body: func() string { return patientJSON("", "Refusedcond", "", nil) }, hdr: []string{"If-None-Exist", "identifier=" + mrnSystem + "|NOSUCH"},
			status: 422, expr: "Patient.identifier[0].value", family: "Refusedcond"},
		{name: "update dropping the MRN", method: "PUT", path: "/fhir/Patient/3",
			body: func() string { return patientJSON("3", "Refusedupdate", "", nil) }, status: 422, expr: "Patient.identifier[0].value", family: "Refusedupdate"},
		{name: "Prefer: handling=strict is not lenient", method: "POST", path: "/fhir/Patient",
			body: func() string { return patientJSON("", "Refusedstrict", "", nil) }, hdr: []string{"Prefer", "handling=strict"},
			status: 422, expr: "Patient.identifier[0].value", family: "Refusedstrict"},
		{name: "lenient create without the MRN", method: "POST", path: "/fhir/Patient",
			body: func() string { return patientJSON("", "Lenientcreate", "", nil) }, hdr: []string{"Prefer", "handling=lenient"},
			status: 201, family: "Lenientcreate", unmirrorable: 1, save: "lenient"},
		{name: "lenient update dropping the MRN", method: "PUT", path: "/fhir/Patient/4",
			body: func() string { return patientJSON("4", "Lenientupdate", "", nil) }, hdr: []string{"Prefer", "return=minimal, handling=lenient"},
			status: 200, family: "Lenientupdate", unmirrorable: 2},
		{name: "valid create", method: "POST", path: "/fhir/Patient",
			body: func() string { return patientJSON("", "Validcreate", "MRN-VALID-1", nil) }, status: 201, family: "Validcreate", unmirrorable: 2, save: "valid"},
		{name: "Encounter about a Patient created on FHIR and not mirrored yet", method: "POST", path: "/fhir/Encounter",
			body: func() string { return encounter("Patient/" + ids["valid"]) }, status: 201, unmirrorable: 2, save: "encounter"},
		{name: "Encounter about a Group", method: "POST", path: "/fhir/Encounter",
			body: func() string { return encounter("Group/1") }, status: 422, expr: "Encounter.subject.reference", unmirrorable: 2},
		// legacy assigns its numeric keys itself: a PUT creating Patient/987654
		// on FHIR could never be mirrored back (and a later legacy row 987654
		// would be a different patient under the same id)
		{name: "update-as-create of an id of the legacy key form", method: "PUT", path: "/fhir/Patient/987654",
			body: func() string { return patientJSON("987654", "Refusednewid", "MRN-NEWID", nil) }, status: 422, expr: "Patient.id", family: "Refusednewid", unmirrorable: 2},
	}
	for _, c := range cases {
		r := w.do(c.method, c.path, c.body(), c.hdr...)
		if r.status != c.status {
			w.t.Fatalf("%s: %d, want %d: %s", c.name, r.status, c.status, r.raw)
		}
		if c.expr != "" {
			iss, _ := r.body["issue"].([]any)
			if len(iss) == 0 || !strings.Contains(string(r.raw), `"expression":["`+c.expr+`"]`) || !strings.Contains(string(r.raw), "Prefer: handling=lenient") {
				w.t.Fatalf("%s: want an OperationOutcome naming %s: %s", c.name, c.expr, r.raw)
			}
		}
		if c.family != "" {
			want := 0
			if c.status < 300 {
				want = 1
			}
			if n := w.onFHIR(c.family); n != want {
				w.t.Fatalf("%s: %d Patients named %s on the FHIR server, want %d", c.name, n, c.family, want)
			}
		}
		if n := w.unmirrorable("Patient"); n != c.unmirrorable {
			w.t.Fatalf("%s: %d unmirrorable Patient writes, want %d", c.name, n, c.unmirrorable)
		}
		if c.save != "" {
			ids[c.save] = r.body["id"].(string)
		}
	}
	if n := w.unmirrorable("Encounter"); n != 0 {
		w.t.Fatalf("%d unmirrorable Encounter writes", n)
	}
	return ids
}

// unmirrorableAfterwards: the drainer mirrors what legacy can hold and
// leaves the unmirrorable rows; the counts show in /admin/routes; the move
// back is refused naming them until writes legacy can hold supersede them.
func (w *world) unmirrorableAfterwards(ids map[string]string) {
	t := w.t
	w.drain()
	if n := w.unmirrorable("Patient"); n != 2 {
		t.Fatalf("after the drain: %d unmirrorable", n)
	}
	if got := w.legacyFamily(ids["valid"]); got != "Validcreate" {
		t.Fatalf("valid create not mirrored back: %q", got)
	}
	enc, err := w.legacy.Read(w.ctx, "Encounter", ids["encounter"])
	if err != nil || !strings.Contains(string(enc.JSON), `"Patient/`+ids["valid"]+`"`) {
		t.Fatalf("Encounter about the FHIR-created Patient not mirrored back: %v %s", err, enc.JSON)
	}
	if _, err := w.legacy.Read(w.ctx, "Patient", ids["lenient"]); err == nil {
		t.Fatal("an unmirrorable create reached legacy")
	}
	if got := w.legacyFamily("4"); got == "Lenientupdate" {
		t.Fatal("an unmirrorable update reached legacy")
	}
	rec := httptest.NewRecorder()
	admin.Routes(w.routes).ServeHTTP(rec, httptest.NewRequest("GET", "/admin/routes", nil))
	if !strings.Contains(rec.Body.String(), `"type":"Patient","state":"fhir"`) || !strings.Contains(rec.Body.String(), `"unmirrorable":2`) {
		t.Fatalf("/admin/routes: %s", rec.Body)
	}
	_, err = w.routes.Set(w.ctx, routing.Move{Type: "Patient", To: routing.Shadow, Actor: "t", Reason: "roll back"})
	if err == nil || !strings.Contains(err.Error(), "2 writes made on FHIR with Prefer: handling=lenient are unmirrorable") {
		t.Fatalf("move back with unmirrorable writes: %v", err)
	}
	// the clients write both resources again in a form legacy can hold
	w.want(w.do("PUT", "/fhir/Patient/4", patientJSON("4", "Fixedupdate", "MRN-FIX-4", nil)), 200, "fix the update")
	w.want(w.do("PUT", "/fhir/Patient/"+ids["lenient"], patientJSON(ids["lenient"], "Fixedcreate", "MRN-FIX-L", nil)), 200, "fix the create")
	w.drain()
	if n := w.unmirrorable("Patient"); n != 0 {
		t.Fatalf("superseded writes still unmirrorable: %d", n)
	}
	if w.legacyFamily("4") != "Fixedupdate" || w.legacyFamily(ids["lenient"]) != "Fixedcreate" {
		t.Fatal("the fixed writes did not reach legacy")
	}
	w.flip("Patient", routing.Shadow, false)
	w.same("Patient")
}

// fhirOnlyUnchecked: on fhir-only legacy is retired: nothing is checked and
// nothing is queued.
func (w *world) fhirOnlyUnchecked() {
	w.flip("Encounter", routing.FHIROnly, false)
	var before int
	_ = w.ctl.DB.QueryRowContext(w.ctx, "SELECT COUNT(*) FROM outbox WHERE resource_type = 'Encounter'").Scan(&before)
	// a class legacy has no code for, and an element it has no column for
	body := `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"},"priority":{"text":"urgent"},"subject":{"reference":"Patient/1"}}`
	r := w.want(w.do("POST", "/fhir/Encounter", body), 201, "fhir-only create legacy cannot hold")
	id := r.body["id"].(string)
	w.want(w.do("PUT", "/fhir/Encounter/"+id, strings.Replace(body, `{"resourceType"`, `{"id":"`+id+`","resourceType"`, 1), "Prefer", "handling=strict"), 200, "fhir-only update legacy cannot hold")
	var after int
	_ = w.ctl.DB.QueryRowContext(w.ctx, "SELECT COUNT(*) FROM outbox WHERE resource_type = 'Encounter'").Scan(&after)
	if after != before || w.unmirrorable("Encounter") != 0 {
		w.t.Fatalf("fhir-only writes queued mirror rows: %d -> %d", before, after)
	}
}
