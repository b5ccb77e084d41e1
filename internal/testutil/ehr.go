package testutil

import (
	"context"
	"testing"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// SeedEHR creates the second demo legacy schema (migrations.LegacyEHR,
// dbo.PatientMaster ...) in db, seeds patients patients (2 visits and 8
// lab results each; seed.EHRPatientData(i) names their values) and
// returns its shipped specs, bound to db.
func SeedEHR(t testing.TB, db *sqldb.DB, patients int) *mappings.Registry {
	t.Helper()
	if err := migrations.Up(db.DB, migrations.LegacyEHR, db.Dialect.Name()); err != nil {
		t.Fatal(err)
	}
	if err := seed.RunEHR(context.Background(), db, seed.Options{Patients: patients}); err != nil {
		t.Fatal(err)
	}
	reg, err := mappings.LoadEmbeddedEHR()
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.BindLive(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return reg
}

// RacedEHRPatient is the id of a seeded EHR Patient (one of the first
// patients) whose race is White or Black: its first extension is the US
// Core race, with a CDC code other than Asian's (2028-9).
func RacedEHRPatient(t testing.TB, patients int) string {
	t.Helper()
	for i := 1; i <= patients; i++ {
		if p := seed.EHRPatientData(i); p.Race == "W" || p.Race == "B" {
			return p.GUID
		}
	}
	t.Fatal("no seeded EHR Patient with a race")
	return ""
}
