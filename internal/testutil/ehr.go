package testutil

import (
	"context"
	"testing"

	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// SeedEHR creates the second demo legacy schema (migrations.LegacyEHR,
// dbo.PatientMaster ...) in db and seeds patients patients (2 visits and 8
// lab results each; seed.EHRPatientData(i) names their values).
func SeedEHR(t testing.TB, db *sqldb.DB, patients int) {
	t.Helper()
	if err := migrations.Up(db.DB, migrations.LegacyEHR, db.Dialect.Name()); err != nil {
		t.Fatal(err)
	}
	if err := seed.RunEHR(context.Background(), db, seed.Options{Patients: patients}); err != nil {
		t.Fatal(err)
	}
}
