package tombstone_test

import (
	"context"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/backend/backendtest"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/tombstone"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// controlStore opens a fresh control store on dsn.
func controlStore(t *testing.T, dsn string) *control.Store {
	t.Helper()
	ctl, err := control.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return ctl
}

// TestConformance runs the Backend conformance suite on the tombstone
// wrapper around legacy (each SQL dialect that runs here) and around the
// test FHIR server, with tombstones in SQLite and PostgreSQL control
// stores. Around both, a deleted resource is gone (410), which neither
// answers by itself.
func TestConformance(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		t.Run("legacy", func(t *testing.T) {
			testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
				backendtest.Exercise(t, func(t *testing.T) backend.Backend {
					db := open(t)
					return &tombstone.Backend{Inner: legacy.New(db, testutil.Seed(t, db, 3)), Store: controlStore(t, dsn)}
				})
			})
		})
		t.Run("fhir", func(t *testing.T) {
			backendtest.Exercise(t, func(t *testing.T) backend.Backend {
				c, err := upstream.New(upstream.Config{BaseURL: testutil.StartFHIRServer(t).URL()})
				if err != nil {
					t.Fatal(err)
				}
				return &tombstone.Backend{Inner: upstream.NewBackend(c), Store: controlStore(t, dsn)}
			}, backendtest.TestServerDeviations...)
		})
	})
}
