package idmap_test

import (
	"context"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/backend/backendtest"
)

// TestConformance runs the Backend conformance suite on the id-map wrapper
// over legacy, with the map holding a pair so that every call goes through
// the translation rather than the empty-map shortcut.
func TestConformance(t *testing.T) {
	backendtest.Exercise(t, func(t *testing.T) backend.Backend {
		b, _ := setup(t)
		if _, _, err := b.Update(context.Background(), "Patient", "made-on-fhir-1", patient("Mapped"), ""); err != nil {
			t.Fatal(err)
		}
		if b.Map.Empty() {
			t.Fatal("fixture: the map is empty")
		}
		return b
	})
}
