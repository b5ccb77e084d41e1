package idmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/seed"
)

// TestCheckWriteReferences: the write check sees references as the reverse
// mirror will write them — a mapped FHIR id as its legacy id, a FHIR id not
// mirrored yet as some legacy id — and leaves the body it was given (which
// goes upstream afterwards) exactly as it was.
func TestCheckWriteReferences(t *testing.T) {
	b, _ := setup(t)
	ctx := context.Background()
	mapped := "7f3c2a9e-1b2c-4d5e-8f90-0000000000aa"
	if _, _, err := b.Update(ctx, "Patient", mapped, patient("Mapped"), ""); err != nil {
		t.Fatal(err)
	}
	enc := func(subject string) map[string]any {
		return map[string]any{"resourceType": "Encounter", "status": "finished",
			"class":   map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
			"subject": map[string]any{"reference": subject}}
	}
	cases := []struct {
		name, subject, path string // path "": accepted
	}{
		{"legacy id", "Patient/1", ""},
		{"FHIR id in the map", "Patient/" + mapped, ""},
		{"FHIR id not mirrored yet", "Patient/0b9d3c1e-aaaa-bbbb-cccc-00000000000b", ""},
		{"a type legacy cannot point to", "Group/1", "Encounter.subject.reference"},
		{"an unmapped type with a FHIR id", "Group/0b9d3c1e-aaaa", "Encounter.subject.reference"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := enc(c.subject)
			before, _ := json.Marshal(body)
			err := b.CheckWrite(ctx, "Encounter", "", body)
			if after, _ := json.Marshal(body); string(after) != string(before) {
				t.Fatalf("the check changed the body: %s -> %s", before, after)
			}
			if c.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ee *backend.ElementError
			if !errors.Is(err, backend.ErrUnprocessable) || !errors.As(err, &ee) || ee.Path != c.path {
				t.Fatalf("got %v, want 422 at %s", err, c.path)
			}
		})
	}
}

// TestCheckWriteID: which ids the reverse mirror can carry back (integer
// keys). An id legacy cannot produce gets a new paired row; one of the
// legacy key form must be an existing legacy row when a client chose it,
// and is never mirrored when the FHIR server assigned it (it could
// overwrite an unrelated legacy row) — nor are later writes of it.
func TestCheckWriteID(t *testing.T) {
	b, _ := setup(t)
	ctx := context.Background()
	mapped := "7f3c2a9e-1b2c-4d5e-8f90-0000000000ab"
	if _, _, err := b.Update(ctx, "Patient", mapped, patient("Mapped"), ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, id string
		assigned bool
		refused  bool
	}{
		{"client update of a legacy row", "1", false, false},
		{"client update-as-create of a legacy-form id with no row", "987654", false, true},
		{"client id legacy cannot produce", "0b9d3c1e-aaaa-bbbb-cccc-00000000000c", false, false},
		{"client update of a mapped FHIR id", mapped, false, false},
		{"server-assigned uuid", "0b9d3c1e-aaaa-bbbb-cccc-00000000000d", true, false},
		{"server-assigned id of the legacy key form with a row", "1", true, true},
		// the clash is held: a later write of the id is not mirrored into
		// the unrelated row either
		{"client update of that id afterwards", "1", false, true},
		{"server-assigned id of the legacy key form without a row", "987655", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := b.CheckWriteID(ctx, "Patient", c.id, c.assigned)
			if got := errors.Is(err, backend.ErrUnprocessable); got != c.refused || (!c.refused && err != nil) {
				t.Fatalf("CheckWriteID(%q, assigned=%v) = %v, want refused %v", c.id, c.assigned, err, c.refused)
			}
		})
	}
}

// checkRecorder is a legacy backend whose write check also records the id
// it was asked about.
type checkRecorder struct {
	backend.Backend
	ids []string
}

func (r *checkRecorder) CheckWrite(ctx context.Context, typ, id string, body map[string]any) error {
	r.ids = append(r.ids, id)
	return r.Backend.(backend.WriteChecker).CheckWrite(ctx, typ, id, body)
}

// TestCheckWriteIDs: the write check asks legacy about the row the reverse
// mirror will write — the legacy row of a mapped FHIR id, a legacy id as
// itself — and about a create for a FHIR id with no legacy row yet (the
// mirror inserts one), so that values derived from the current row are
// judged against the right row, or none.
func TestCheckWriteIDs(t *testing.T) {
	b, _ := setup(t)
	ctx := context.Background()
	mapped := "7f3c2a9e-1b2c-4d5e-8f90-0000000000ac"
	if _, _, err := b.Update(ctx, "Patient", mapped, patient("Mapped"), ""); err != nil {
		t.Fatal(err)
	}
	legacyRow, _ := b.Map.ToLegacy("Patient", mapped)
	rec := &checkRecorder{Backend: b.Inner}
	b.Inner = rec
	cases := []struct{ name, id, want string }{
		{"a create", "", ""},
		{"a legacy id", "1", "1"},
		{"a mapped FHIR id", mapped, legacyRow},
		{"a FHIR id not mirrored yet", "0b9d3c1e-aaaa-bbbb-cccc-00000000000e", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec.ids = nil
			if err := b.CheckWrite(ctx, "Patient", c.id, patient("Checked")); err != nil {
				t.Fatal(err)
			}
			if len(rec.ids) != 1 || rec.ids[0] != c.want {
				t.Fatalf("legacy was asked about %q, want %q", rec.ids, c.want)
			}
		})
	}
}

// TestCheckWriteIDGivenKeys: on uuid keys a FHIR-assigned uuid, or a
// client's new one, is mirrored under itself — unless it names an
// existing legacy row (another resource): then it is refused, and held,
// so later writes of it are refused too, in every process. Before, every
// FHIR-assigned uuid and every client's new one was refused.
func TestCheckWriteIDGivenKeys(t *testing.T) {
	b, ctl := setupOn(t, testutil.SeedEHR)
	ctx := context.Background()
	row := seed.EHRPatientData(1).GUID
	other := &idmap.Backend{Inner: b.Inner, Map: idmap.New(ctl), Reg: b.Reg}
	cases := []struct {
		name, id string
		assigned bool
		refused  bool
		be       *idmap.Backend
	}{
		{"server-assigned uuid without a legacy row", "0b9d3c1e-aaaa-4bbb-8ccc-00000000000d", true, false, b},
		{"client update-as-create of a new uuid", "0b9d3c1e-aaaa-4bbb-8ccc-00000000000e", false, false, b},
		{"client update of a legacy row", row, false, false, b},
		{"server-assigned uuid of an existing legacy row", row, true, true, b},
		{"client update of that id afterwards", row, false, true, b},
		{"client update of that id in another process", row, false, true, other},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.be.CheckWriteID(ctx, "Patient", c.id, c.assigned)
			if got := errors.Is(err, backend.ErrUnprocessable); got != c.refused || (!c.refused && err != nil) {
				t.Fatalf("CheckWriteID(%q, assigned=%v) = %v, want refused %v", c.id, c.assigned, err, c.refused)
			}
		})
	}
}

// TestMirrorUnderGivenKey: the reverse mirror's update of a FHIR-assigned
// uuid inserts the legacy row under that uuid and pairs nothing: legacy
// alone reads it by the same id, and a second update changes that row.
func TestMirrorUnderGivenKey(t *testing.T) {
	b, _ := setupOn(t, testutil.SeedEHR)
	ctx := context.Background()
	id := "2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e0f"
	body := func(family string) map[string]any {
		return map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": family}},
			"identifier": []any{map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.2", "value": "MRN-GIVEN"}}}
	}
	r, created, err := b.Update(ctx, "Patient", id, body("Given"), "")
	if err != nil || !created || r.ID != id {
		t.Fatalf("mirror of a FHIR-created uuid: %v created=%v %+v", err, created, r)
	}
	if l, ok := b.Map.ToLegacy("Patient", id); ok {
		t.Fatalf("paired with %s", l)
	}
	if _, created, err = b.Update(ctx, "Patient", id, body("Again"), ""); err != nil || created {
		t.Fatalf("second mirror: %v created=%v", err, created)
	}
	got, err := b.Inner.Read(ctx, "Patient", id)
	if err != nil || !strings.Contains(string(got.JSON), `"family":"Again"`) {
		t.Fatalf("legacy alone reads %s: %v %s", id, err, got)
	}
}
