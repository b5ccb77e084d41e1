package testutil

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Seed creates the demo legacy schema in db, seeds patients patients (3
// visits and 20 results each) and returns the embedded mapping specs.
func Seed(t testing.TB, db *sqldb.DB, patients int) *mappings.Registry {
	t.Helper()
	if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
		t.Fatal(err)
	}
	if err := seed.Run(context.Background(), db, seed.Options{Patients: patients}); err != nil {
		t.Fatal(err)
	}
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	// bound as a facade binds them: live names, column kinds
	if err := reg.BindLive(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return reg
}

// Sealer is a page-token sealer with a fresh random key.
func Sealer(t testing.TB) *pagetoken.Sealer {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := pagetoken.New(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
