package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// raceCode is where the EHR schema's Patient serves its US Core race
// (ombCategory) code: derived from the RaceCode lookup table, which no
// Patient write sets.
const raceCode = "Patient.extension[0].extension[0].valueCoding.code"

// latitude is where the EHR schema's Patient serves its home address's
// latitude: a decimal(9,6) column.
const latitude = "Patient.address[0].extension[0].extension[0].valueDecimal"

// TestFHIRWritesKeepDerived: on a `fhir` route a write giving an
// output-only (| derived) value legacy would not give back — a race on the
// EHR schema's Patient other than the one legacy derives for the row, or
// any race on a new Patient — or a decimal with more digits than its
// column keeps — a latitude of 41.7496401 for decimal(9,6), which
// PostgreSQL and MariaDB round (SQLite keeps it: there it goes through) —
// is refused up front: 422 naming the element in the legacy route's words,
// nothing sent to the FHIR server, no mirror row. Before, the FHIR server
// took it (200/201) and its reverse mirror was refused by legacy's write:
// a failed outbox row for the update (the stores diverged; the move back
// was blocked), and for the create an unmirrorable one (the FHIR server's
// uuid is of the legacy key form). A PUT giving the race back as legacy
// derives it for the stored row goes through and is mirrored.
func TestFHIRWritesKeepDerived(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			db := d.legacy(t)
			w := newWorldOn(t, db, d.ctl(t), false, testutil.SeedEHR(t, db, 12))
			w.toFHIR("Patient")
			id := testutil.RacedEHRPatient(t, 12)
			read := func() map[string]any {
				return w.want(w.do("GET", "/fhir/Patient/"+id, ""), 200, "read on fhir").body
			}
			cur := read()
			version := cur["meta"].(map[string]any)["versionId"]
			for _, c := range keepDerivedCases(id) {
				if c.rounded && db.Dialect.Name() == "sqlite" {
					continue // SQLite stores every digit: nothing to refuse
				}
				body := read()
				c.edit(body)
				raw, _ := json.Marshal(body)
				before := w.mirrorRows()
				r := w.do(c.method, c.path, string(raw))
				if r.status != 422 {
					t.Errorf("%s: %d, want 422; the outbox after a drain: %s", c.name, r.status, w.drainedRows(before))
					continue
				}
				if !strings.Contains(string(r.raw), `"expression":["`+c.element+`"]`) || !strings.Contains(string(r.raw), c.msg) {
					t.Fatalf("%s: want an OperationOutcome naming %s as the legacy route does: %s", c.name, c.element, r.raw)
				}
				if after := w.mirrorRows(); after != before {
					t.Fatalf("%s: mirror rows queued: %q -> %q", c.name, before, after)
				}
			}
			if v := read()["meta"].(map[string]any)["versionId"]; v != version {
				t.Fatalf("a refused update reached the FHIR server: version %v -> %v", version, v)
			}
			for _, family := range []string{"Racecreate", "Latcreate"} {
				if n := w.onFHIR(family); n != 0 {
					t.Fatalf("the refused create of %s reached the FHIR server: %d", family, n)
				}
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

// keepDeriveCase is one write TestFHIRWritesKeepDerived expects refused
// up front, at element with msg.
type keepDeriveCase struct {
	name, method, path string
	edit               func(m map[string]any)
	element, msg       string
	rounded            bool // refused for a column's rounding: not on SQLite
}

// keepDerivedCases are the writes on Patient id (a raced one) that legacy
// could not give back.
func keepDerivedCases(id string) []keepDeriveCase {
	const (
		derived = "legacy does not store this value"
		rounded = "has more digits than the legacy column keeps"
	)
	asNew := func(m map[string]any, family string) {
		delete(m, "id")
		delete(m, "meta")
		m["identifier"].([]any)[0].(map[string]any)["value"] = "MRN-" + strings.ToUpper(family)
		m["name"].([]any)[0].(map[string]any)["family"] = family
	}
	return []keepDeriveCase{
		{"update with another race", "PUT", "/fhir/Patient/" + id, func(m map[string]any) {
			setRace(m, "2028-9")
		}, raceCode, derived, false},
		{"create with a race", "POST", "/fhir/Patient", func(m map[string]any) {
			asNew(m, "Racecreate")
		}, raceCode, derived, false},
		{"update with a latitude decimal(9,6) rounds", "PUT", "/fhir/Patient/" + id, func(m map[string]any) {
			m["address"] = geoAddress("41.7496401")
		}, latitude, rounded, true},
		{"create with a latitude rounded at the half", "POST", "/fhir/Patient", func(m map[string]any) {
			asNew(m, "Latcreate")
			delete(m, "extension") // no race: the latitude is the one thing refused
			m["address"] = geoAddress("41.7496405")
		}, latitude, rounded, true},
	}
}

// geoAddress is a home address in Albany at latitude lat.
func geoAddress(lat string) []any {
	return []any{map[string]any{"use": "home", "city": "Albany", "extension": []any{map[string]any{"url": "http://hl7.org/fhir/StructureDefinition/geolocation",
		"extension": []any{map[string]any{"url": "latitude", "valueDecimal": json.Number(lat)}, map[string]any{"url": "longitude", "valueDecimal": json.Number("-73.75623")}}}}}}
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
