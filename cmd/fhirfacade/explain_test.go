package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestExplainSpecs: on the demo schema, no search parameter or sort that
// an index of the schema serves is reported; once ix_lab_collected is
// dropped, the date sort (and search) of Observation is, with the index
// that would serve it.
func TestExplainSpecs(t *testing.T) {
	testutil.Dialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		ctx := context.Background()
		db := open(t)
		if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
			t.Fatal(err)
		}
		if err := seed.Run(ctx, db, seed.Options{Patients: 20}); err != nil {
			t.Fatal(err)
		}
		reg, err := mappings.LoadEmbedded()
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.BindLive(ctx, db); err != nil {
			t.Fatal(err)
		}
		out := explainOut(t, reg, db)
		// the parameters and sorts whose columns lead an index of the
		// demo schema (Observation code also reads a joined table)
		for _, ok := range []string{
			"Patient?identifier=", "Patient?family=", "Patient?birthdate=", "Patient?_id=", "Patient?_lastUpdated=",
			"Patient?_sort=birthdate", "Patient?_sort=_id", "Patient?_sort=-_id", "Patient?_sort=_lastUpdated",
			"Encounter?patient=", "Encounter?subject=", "Encounter?_id=", "Encounter?_lastUpdated=",
			"Encounter?_sort=date", "Encounter?_sort=date (next page)", "Encounter?_sort=-_lastUpdated",
			"Observation?patient=", "Observation?subject=", "Observation?encounter=", "Observation?date=",
			"Observation?_id=", "Observation?_lastUpdated=", "Observation?_sort=date", "Observation?_sort=-date",
			"Observation?_sort=-date (next page)", "Observation?_sort=-_lastUpdated",
		} {
			line := "scan    " + ok
			if !strings.HasSuffix(ok, "=") {
				line += " reads"
			}
			if strings.Contains(out, line) {
				t.Errorf("%s reported as a whole-table read though an index serves it:\n%s", ok, out)
			}
		}
		// not indexed: reported, with the index to create
		if !strings.Contains(out, "scan    Observation?status=corrected reads the whole of lab_result") ||
			!strings.Contains(out, "CREATE INDEX ix_lab_result_result_status ON lab_result (result_status);") {
			t.Errorf("Observation status (no index) not reported with its index:\n%s", out)
		}
		if _, err := db.ExecContext(ctx, "DROP INDEX ix_lab_collected"); err != nil {
			t.Fatal(err)
		}
		out = explainOut(t, reg, db)
		for _, want := range []string{
			"scan    Observation?_sort=date reads the whole of lab_result",
			"scan    Observation?_sort=-date reads the whole of lab_result",
			"CREATE INDEX ix_lab_result_collected_dttm_result_id ON lab_result (collected_dttm, result_id);",
			"CREATE INDEX ix_lab_result_collected_dttm_result_id_desc ON lab_result (collected_dttm DESC, result_id DESC);",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("without ix_lab_collected: no %q in\n%s", want, out)
			}
		}
	})
}

func explainOut(t *testing.T, reg *mappings.Registry, db *sqldb.DB) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := explainSpecs(context.Background(), &buf, reg, db); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
