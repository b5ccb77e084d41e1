package idmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
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

// TestCheckWriteID: which ids the reverse mirror can carry back. An id
// legacy cannot produce gets a new paired row; one of the legacy key form
// must be an existing legacy row when a client chose it, and is never
// mirrored when the FHIR server assigned it (it could overwrite an
// unrelated legacy row).
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
