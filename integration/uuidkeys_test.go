package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// ehrMRNSystem is the EHR schema's MRN identifier system.
const ehrMRNSystem = "urn:oid:2.16.840.1.113883.3.7777.2"

// ehrPatientJSON is an EHR Patient in the form legacy answers it (so the
// two sides compare equal), with no race (legacy derives it) and id when
// not "".
func ehrPatientJSON(id, family, mrn string) string {
	m := map[string]any{"resourceType": "Patient",
		"identifier": []any{map[string]any{"use": "usual", "system": ehrMRNSystem, "value": mrn,
			"type": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}}}},
		"name":   []any{map[string]any{"use": "official", "family": family, "given": []any{"Uma"}}},
		"gender": "female", "birthDate": "1981-02-03"}
	if id != "" {
		m["id"] = id
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestFHIRCreatesOnUUIDKeys: on the EHR schema (uuid keys) a resource
// created while its type is on `fhir` gets a uuid from the FHIR server,
// which is a valid legacy key: its reverse mirror inserts the legacy row
// under that very key (no id map pair), so the outbox row ends done, a
// direct-SQL consumer sees the FHIR id as the row's key, and after the
// move back to shadow Patient/<uuid> answers the same resource from
// legacy. A client's update-as-create of a new uuid is mirrored the same
// way. Before, every such create was queued unmirrorable ("an id of the
// legacy key form") and never reached legacy. A uuid that names an
// existing legacy row is a clash (uuidCollision).
func TestFHIRCreatesOnUUIDKeys(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			db := d.legacy(t)
			w := newWorldOn(t, db, d.ctl(t), false, testutil.SeedEHR(t, db, 12))
			w.toFHIR("Patient")

			created := w.want(w.do("POST", "/fhir/Patient", ehrPatientJSON("", "Uuidcreate", "MRN-UUID-1")), 201, "create on fhir").body["id"].(string)
			if rows := w.mirrorRows(); !strings.Contains(rows, created+"=pending") {
				t.Fatalf("mirror row of the create %s: %s (unmirrorable Patient writes: %d)", created, rows, w.unmirrorable("Patient"))
			}
			chosen := "3f0c6a52-9d1e-4b7a-8c21-5e6f7a8b9c0d"
			// (the test server answers an update-as-create 200)
			if r := w.do("PUT", "/fhir/Patient/"+chosen, ehrPatientJSON(chosen, "Uuidchosen", "MRN-UUID-2")); r.status != 200 && r.status != 201 {
				t.Fatalf("update-as-create of a new uuid on fhir: %d %s", r.status, r.raw)
			}
			if rows := w.mirrorRows(); !strings.Contains(rows, chosen+"=pending") {
				t.Fatalf("mirror row of the update-as-create: %s", rows)
			}
			w.drain()
			for id, family := range map[string]string{created: "Uuidcreate", chosen: "Uuidchosen"} {
				if rows := w.mirrorRows(); !strings.Contains(rows, id+"=done") {
					t.Fatalf("mirror row of %s after the drain: %s", id, rows)
				}
				// the row's key is the FHIR id itself: legacy without the
				// id map reads it, and the map holds no pair for it
				r, err := w.legacy.Inner.Read(w.ctx, "Patient", id)
				if err != nil || !strings.Contains(string(r.JSON), `"family":"`+family+`"`) {
					t.Fatalf("legacy row keyed %s: %v %s", id, err, r)
				}
				if l, ok := w.legacy.Map.ToLegacy("Patient", id); ok {
					t.Fatalf("%s was paired with legacy key %s; its own uuid is the key", id, l)
				}
			}
			// later writes on fhir reach the same row
			w.rename("Patient", created, "Uuidrenamed")
			w.drain()
			if got := w.legacyFamily(created); got != "Uuidrenamed" {
				t.Fatalf("legacy after the update on fhir: %q", got)
			}
			onFHIR := w.want(w.do("GET", "/fhir/Patient/"+created, ""), 200, "read on fhir").raw

			w.flip("Patient", routing.Shadow, false)
			onLegacy := w.want(w.do("GET", "/fhir/Patient/"+created, ""), 200, "read after the move back").raw
			if diff := compare.Diff(onFHIR, onLegacy); len(diff) > 0 {
				t.Fatalf("Patient/%s differs after the move back at %v:\nfhir   %s\nlegacy %s", created, diff, onFHIR, onLegacy)
			}
			w.same("Patient")

			w.prove("Patient")
			w.flip("Patient", routing.FHIR, false)
			w.uuidCollision()
		})
	}
}

// uuidCollision: a FHIR-assigned uuid that names an existing legacy row
// (another application inserted it into legacy; the test server keeps the
// id /_test/next-id names, so the clash can be staged) is another resource: its
// mirror row is unmirrorable, the drain leaves that row as it is, later
// writes of the id are refused (lenient: unmirrorable too), and the move
// back is blocked naming them.
func (w *world) uuidCollision() {
	t := w.t
	var other map[string]any
	_ = json.Unmarshal([]byte(ehrPatientJSON("", "Otherpatient", "MRN-OTHER-1")), &other)
	r, _, err := w.legacy.Inner.Create(w.ctx, "Patient", other, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := r.ID
	w.fhirSrv.NextID(id)
	got := w.want(w.do("POST", "/fhir/Patient", ehrPatientJSON("", "Collider", "MRN-COLLIDE-1")), 201, "create the server gives a legacy row's uuid").body["id"]
	if got != id {
		t.Fatalf("the test FHIR server gave the create id %v, not the one /_test/next-id named (%s): the clash cannot be staged", got, id)
	}
	if rows := w.mirrorRows(); !strings.HasSuffix(rows, id+"=unmirrorable") {
		t.Fatalf("mirror row of the clashing create: %s", rows)
	}
	var reason string
	q := "SELECT last_error FROM outbox WHERE resource_type = 'Patient' AND resource_id = " + w.ctl.DB.Dialect.Placeholder(1)
	if err := w.ctl.DB.QueryRowContext(w.ctx, q, id).Scan(&reason); err != nil || !strings.Contains(reason, "existing legacy row that is another resource") {
		t.Fatalf("the unmirrorable row's reason: %q %v", reason, err)
	}
	later := ehrPatientJSON(id, "Collider", "MRN-COLLIDE-2")
	r2 := w.want(w.do("PUT", "/fhir/Patient/"+id, later), 422, "a later update of the clashing id")
	if !strings.Contains(string(r2.raw), `"expression":["Patient.id"]`) {
		t.Fatalf("the refusal names no Patient.id: %s", r2.raw)
	}
	w.want(w.do("PUT", "/fhir/Patient/"+id, later, "Prefer", "handling=lenient"), 200, "a lenient later update of the clashing id")
	w.drain()
	if n := w.unmirrorable("Patient"); n != 2 {
		t.Fatalf("unmirrorable Patient writes: %d, want 2", n)
	}
	if got := w.legacyFamily(id); got != "Otherpatient" {
		t.Fatalf("the other patient's legacy row was overwritten: family %q", got)
	}
	_, err = w.routes.Set(w.ctx, routing.Move{Type: "Patient", To: routing.Shadow, Actor: "t", Reason: "roll back"})
	if err == nil || !strings.Contains(err.Error(), "2 writes made on FHIR") {
		t.Fatalf("move back with the clash: %v", err)
	}
}
