package upstream_test

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/backend/backendtest"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// TestConformance runs the Backend conformance suite on the upstream
// backend against the real test FHIR server, whose known departures from
// R4 search the suite checks are still there.
func TestConformance(t *testing.T) {
	backendtest.Exercise(t, func(t *testing.T) backend.Backend {
		return newBackend(t, testutil.StartFHIRServer(t).URL(), upstream.Config{})
	}, append(backendtest.TestServerDeviations, backendtest.TestServerForgetsDeletes)...)
}
