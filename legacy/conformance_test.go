package legacy_test

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/backend/backendtest"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestConformance runs the Backend conformance suite on the legacy backend
// over each SQL dialect that runs here (the demo schema, seeded).
func TestConformance(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		backendtest.Exercise(t, func(t *testing.T) backend.Backend {
			db := open(t)
			return legacy.New(db, testutil.Seed(t, db, 5))
		})
	})
}
