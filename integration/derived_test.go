package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// raceCode is where the EHR schema's Patient serves its US Core race
// (ombCategory) code: derived from the RaceCode lookup table, which no
// Patient write sets.
const raceCode = "Patient.extension[0].extension[0].valueCoding.code"

// TestFHIRWritesKeepDerived: on a `fhir` route a write giving an
// output-only (| derived) value legacy would not give back — a race on the
// EHR schema's Patient other than the one legacy derives for the row, or
// any race on a new Patient — is refused up front: 422 naming the element
// in the legacy route's words, nothing sent to the FHIR server, no mirror
// row. Before, the FHIR server took it (200/201) and its reverse mirror
// was refused by legacy's write: a failed outbox row for the update (the
// stores diverged; the move back was blocked), and for the create an
// unmirrorable one (the FHIR server's uuid is of the legacy key form). A
// PUT giving the race back as legacy derives it for the stored row goes
// through and is mirrored.
func TestFHIRWritesKeepDerived(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			db := d.legacy(t)
			w := newWorldOn(t, db, d.ctl(t), false, testutil.SeedEHR(t, db, 12))
			w.copyAll("Patient")
			w.flip("Patient", routing.Shadow, false)
			w.prove("Patient")
			w.flip("Patient", routing.FHIR, false)
			id := testutil.RacedEHRPatient(t, 12)
			read := func() map[string]any {
				return w.want(w.do("GET", "/fhir/Patient/"+id, ""), 200, "read on fhir").body
			}
			cur := read()
			version := cur["meta"].(map[string]any)["versionId"]
			for _, c := range []struct {
				name, method, path string
				edit               func(m map[string]any)
			}{
				{"update with another race", "PUT", "/fhir/Patient/" + id, func(m map[string]any) {
					setRace(m, "2028-9")
				}},
				{"create with a race", "POST", "/fhir/Patient", func(m map[string]any) {
					delete(m, "id")
					delete(m, "meta")
					m["identifier"].([]any)[0].(map[string]any)["value"] = "MRN-RACE-NEW"
					m["name"].([]any)[0].(map[string]any)["family"] = "Racecreate"
				}},
			} {
				body := read()
				c.edit(body)
				raw, _ := json.Marshal(body)
				before := w.mirrorRows()
				r := w.do(c.method, c.path, string(raw))
				if r.status != 422 {
					t.Errorf("%s: %d, want 422; the outbox after a drain: %s", c.name, r.status, w.drainedRows(before))
					continue
				}
				if !strings.Contains(string(r.raw), `"expression":["`+raceCode+`"]`) || !strings.Contains(string(r.raw), "legacy does not store this value") {
					t.Fatalf("%s: want an OperationOutcome naming %s as the legacy route does: %s", c.name, raceCode, r.raw)
				}
				if after := w.mirrorRows(); after != before {
					t.Fatalf("%s: mirror rows queued: %q -> %q", c.name, before, after)
				}
			}
			if v := read()["meta"].(map[string]any)["versionId"]; v != version {
				t.Fatalf("the refused update reached the FHIR server: version %v -> %v", version, v)
			}
			if n := w.onFHIR("Racecreate"); n != 0 {
				t.Fatalf("the refused create reached the FHIR server: %d", n)
			}
			// the race as legacy derives it, with another family name
			cur["name"].([]any)[0].(map[string]any)["family"] = "Keptrace"
			raw, _ := json.Marshal(cur)
			w.want(w.do("PUT", "/fhir/Patient/"+id, string(raw)), 200, "update keeping the race")
			w.drain()
			if rows := w.mirrorRows(); !strings.HasSuffix(rows, id+"=done") {
				t.Fatalf("the update's mirror row: %s", rows)
			}
			if got := w.legacyFamily(id); got != "Keptrace" {
				t.Fatalf("legacy family after the mirror: %q", got)
			}
		})
	}
}

// setRace gives the Patient's race (its first extension) the ombCategory
// code.
func setRace(m map[string]any, code string) {
	race := m["extension"].([]any)[0].(map[string]any)
	race["extension"].([]any)[0].(map[string]any)["valueCoding"].(map[string]any)["code"] = code
}

// mirrorRows lists the Patient rows of the reverse mirror (id=state, in
// order).
func (w *world) mirrorRows() string {
	w.t.Helper()
	rows, err := w.ctl.DB.QueryContext(w.ctx, "SELECT resource_id, state FROM outbox WHERE target = 'legacy' AND resource_type = 'Patient' ORDER BY id")
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, id+"="+state)
	}
	return strings.Join(out, " ")
}

// drainedRows drains the outbox and tells what became of the rows queued
// since before (the reverse mirror of a write the facade let through),
// with the reasons of failed and unmirrorable ones.
func (w *world) drainedRows(before string) string {
	w.t.Helper()
	for i := 0; i < 20; i++ {
		if _, err := w.outbox.Drain(w.ctx, w.ends()); err != nil {
			return err.Error()
		}
	}
	after := strings.TrimSpace(strings.TrimPrefix(w.mirrorRows(), before))
	failed, _ := w.outbox.Failed(w.ctx)
	return fmt.Sprintf("new rows %q; failed %q; unmirrorable Patient writes %d", after, failed, w.unmirrorable("Patient"))
}
