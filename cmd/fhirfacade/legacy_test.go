package main

import (
	"context"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestLegacySchemaFlag: `legacy migrate|seed --schema ehr` build and fill
// the EHR schema beside the default demo one, a second seed resumes, and an
// unknown schema is refused by name.
func TestLegacySchemaFlag(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		env := []string{"FHIRFACADE_LEGACY_DSN=" + dsn}
		for _, args := range [][]string{
			{"legacy", "migrate"},
			{"legacy", "migrate", "--schema", "ehr"},
			{"legacy", "seed", "--schema", "ehr", "--patients", "12", "--batch", "5"},
			{"legacy", "seed", "--schema", "ehr", "--patients", "30"},
		} {
			if out, err := command(t, t.TempDir(), env, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
		out, err := command(t, t.TempDir(), env, "legacy", "seed", "--schema", "dbo").CombinedOutput()
		if err == nil || !strings.Contains(string(out), `--schema "dbo": want demo or ehr`) {
			t.Fatalf("unknown schema: %v\n%s", err, out)
		}
		db, err := sqldb.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for table, want := range map[string]int{
			seed.EHRTable(db.Dialect, "PatientMaster"): 30,
			seed.EHRTable(db.Dialect, "LabResult"):     30 * seed.EHRResultsPerPatient,
			"pat_master":                               0,
		} {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
	})
}
