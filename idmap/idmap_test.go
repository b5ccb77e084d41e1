package idmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

func setup(t *testing.T) (*idmap.Backend, *control.Store) {
	t.Helper()
	return setupOn(t, testutil.Seed)
}

// setupOn is setup on the demo schema seed makes (testutil.Seed or
// testutil.SeedEHR).
func setupOn(t *testing.T, seed func(testing.TB, *sqldb.DB, int) *mappings.Registry) (*idmap.Backend, *control.Store) {
	t.Helper()
	ctx := context.Background()
	db := testutil.SQLite(t)
	reg := seed(t, db, 2)
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	m := idmap.New(ctl)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return &idmap.Backend{Inner: legacy.New(db, reg), Map: m, Reg: reg}, ctl
}

func patient(family string) map[string]any {
	return map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": family}}, "gender": "male",
		"identifier": []any{map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.1", "value": "MRN-" + family}}}
}

// TestCreateThroughMap: an update of a FHIR id inserts one legacy row and
// pairs it; a second update hits the same row; another process sees the
// pair; the legacy id never answers as itself.
func TestCreateThroughMap(t *testing.T) {
	b, ctl := setup(t)
	ctx := context.Background()
	id := "7f3c2a9e-1b2c-4d5e-8f90-123456789abc"
	r, created, err := b.Update(ctx, "Patient", id, patient("One"), "")
	if err != nil || !created || r.ID != id {
		t.Fatalf("%v %v %+v", err, created, r)
	}
	lid, _ := b.Map.ToLegacy("Patient", id)
	if _, created, err = b.Update(ctx, "Patient", id, patient("Two"), ""); err != nil || created {
		t.Fatalf("second update: %v created=%v", err, created)
	}
	// a second process with its own (stale) cache
	other := &idmap.Backend{Inner: b.Inner, Map: idmap.New(ctl), Reg: b.Reg}
	got, err := other.Read(ctx, "Patient", id)
	if err != nil || got.ID != id {
		t.Fatalf("other process: %v %+v", err, got)
	}
	if lr, _ := b.Read(ctx, "Patient", lid); lr.ID != id {
		t.Fatalf("legacy id answered as %s", lr.ID)
	}
	if err := b.Delete(ctx, "Patient", id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Inner.Read(ctx, "Patient", lid); !errors.Is(err, backend.ErrNotFound) && !errors.Is(err, backend.ErrGone) {
		t.Fatalf("legacy row after delete: %v", err)
	}
}

// TestInterruptedReservation: a reservation left without a legacy id (a
// crash between the legacy insert and recording it) stops the retry with a
// conflict instead of inserting a second row.
func TestInterruptedReservation(t *testing.T) {
	b, ctl := setup(t)
	ctx := context.Background()
	id := "0b9d3c1e-aaaa-bbbb-cccc-123456789abc"
	if _, err := ctl.DB.ExecContext(ctx, "INSERT INTO id_map (resource_type, fhir_id, legacy_id, created_at) VALUES ('Patient', ?1, NULL, '2026-11-29T00:00:00Z')", id); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		res, err := b.Inner.Search(ctx, "Patient", &search.Query{}, backend.SearchOptions{Count: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Resources)
	}
	before := count()
	_, _, err := b.Update(ctx, "Patient", id, patient("Again"), "")
	if !errors.Is(err, backend.ErrConflict) || !errors.Is(err, idmap.ErrInterrupted) {
		t.Fatalf("want a conflict naming the interruption, got %v", err)
	}
	if after := count(); after != before {
		t.Fatalf("a row was inserted: %d -> %d", before, after)
	}
}

// TestDeleteReferencedNamesFHIRID: a resource created on FHIR that legacy
// refuses to delete (a result refers to it) is named by its FHIR id in the
// 409, never by the legacy key behind it.
func TestDeleteReferencedNamesFHIRID(t *testing.T) {
	b, _ := setup(t)
	ctx := context.Background()
	id := "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
	if _, _, err := b.Update(ctx, "Patient", id, patient("Referred"), ""); err != nil {
		t.Fatal(err)
	}
	lid, _ := b.Map.ToLegacy("Patient", id)
	obs := map[string]any{"resourceType": "Observation", "status": "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2345-7"}}},
		"subject":           map[string]any{"reference": "Patient/" + id},
		"effectiveDateTime": "2025-01-02T08:00:00-05:00",
		"valueQuantity":     map[string]any{"value": json.Number("5.4"), "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}
	if _, _, err := b.Create(ctx, "Observation", obs, nil); err != nil {
		t.Fatal(err)
	}
	err := b.Delete(ctx, "Patient", id, "")
	var re *backend.ReferencedError
	if !errors.As(err, &re) || !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("delete: %v, want a ReferencedError", err)
	}
	want := "Observation resources refer to Patient/" + id + "; delete them first"
	if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "Patient/"+lid+";") {
		t.Fatalf("delete: %q, want it to say %q (the FHIR id, not legacy's %s)", msg, want, lid)
	}
}
