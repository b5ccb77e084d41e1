package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestRunEHR migrates the EHR schema next to the first demo schema, seeds
// it in two resumed runs, and reads back what a spec writer relies on:
// counts, NULLs, offsets, decimals, uuids, the spaced column and the view.
func TestRunEHR(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		d := db.Dialect
		for _, s := range []migrations.Store{migrations.Legacy, migrations.LegacyEHR, migrations.LegacyEHR} {
			if err := migrations.Up(db.DB, s, d.Name()); err != nil {
				t.Fatal(err)
			}
		}
		const n = 45
		for _, upTo := range []int{20, n, n} { // the second and third runs resume
			if err := seed.RunEHR(ctx, db, seed.Options{Patients: upTo, BatchSize: 7}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(from, where string) int {
			var c int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+from+" WHERE "+where).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		tbl := func(name string) string { return seed.EHRTable(d, name) }
		col := func(name string) string { return seed.EHRColumn(d, name) }
		nullMod, prefixOnly := 0, 0
		clinical := map[string]int{}
		for i := 1; i <= n; i++ {
			for table, c := range seed.EHRClinicalCounts(i) {
				clinical[table] += c
			}
			p := seed.EHRPatientData(i)
			if p.ModifiedAt == nil {
				nullMod++
			}
			if p.Prefix != "" && p.Middle == "" {
				prefixOnly++
			}
		}
		for _, c := range []struct {
			from, where string
			want        int
		}{
			{tbl("PatientMaster"), "1 = 1", n},
			{tbl("PatientVisit"), "1 = 1", n * seed.EHRVisitsPerPatient},
			{tbl("LabResult"), "1 = 1", n * seed.EHRResultsPerPatient},
			{tbl("vw_LabResultDetail"), "1 = 1", n * seed.EHRResultsPerPatient},
			{tbl("RaceCode"), "1 = 1", len(seed.EHRRaceCodes)},
			{tbl("LabTest"), "1 = 1", len(seed.EHRLabTests)},
			{tbl("PatientMaster"), col("ModifiedAt") + " IS NULL", nullMod},
			{tbl("PatientMaster"), col("Name Prefix") + " IS NOT NULL AND " + col("MiddleName") + " IS NULL", prefixOnly},
			{"pat_master", "1 = 1", 0}, // the first demo schema lives beside it
			{tbl("DiagnosisCode"), "1 = 1", len(seed.Problems)},
			{tbl("Formulary"), "1 = 1", len(seed.Drugs)},
			// the clinical lists, resumed with their patients' batches
			{tbl("ProblemList"), "1 = 1", clinical["ProblemList"]},
			{tbl("PatientAllergy"), "1 = 1", clinical["PatientAllergy"]},
			{tbl("MedicationOrder"), "1 = 1", clinical["MedicationOrder"]},
			{tbl("VaccineAdministration"), "1 = 1", clinical["VaccineAdministration"]},
			{tbl("ProcedureHistory"), "1 = 1", clinical["ProcedureHistory"]},
		} {
			if got := count(c.from, c.where); got != c.want {
				t.Errorf("%s WHERE %s: %d rows, want %d", c.from, c.where, got, c.want)
			}
		}
		if nullMod == 0 {
			t.Fatal("no patient with a NULL ModifiedAt among the seeded ones")
		}
		checkEHRPatient(t, db, 12)
		checkEHRResults(t, db, 12)
	})
}

// checkEHRPatient reads patient i back column by column.
func checkEHRPatient(t *testing.T, db *sqldb.DB, i int) {
	t.Helper()
	d := db.Dialect
	p := seed.EHRPatientData(i)
	text := func(c string) string {
		if d.Name() == "postgres" {
			return seed.EHRColumn(d, c) + "::text"
		}
		return seed.EHRColumn(d, c)
	}
	q := "SELECT " + text("PatientGUID") + ", " + text("MRN") + ", " + seed.EHRColumn(d, "Name Prefix") + ", " + text("Latitude") +
		" FROM " + seed.EHRTable(d, "PatientMaster") + " WHERE " + seed.EHRColumn(d, "MRN") + " = " + d.Placeholder(1)
	var guid, mrn, prefix, lat string
	if err := db.QueryRowContext(context.Background(), q, seed.EHRMRN(i)).Scan(&guid, &mrn, &prefix, &lat); err != nil {
		t.Fatal(err)
	}
	if guid != seed.EHRPatientGUID(i) || mrn != "00000012" || prefix != p.Prefix || prefix == "" || lat != p.Lat {
		t.Fatalf("patient %d: guid %s mrn %s prefix %q lat %s, want %s %s %q %s", i, guid, mrn, prefix, lat, p.GUID, p.MRN, p.Prefix, p.Lat)
	}
}

// checkEHRResults: every datetimeoffset of patient i's results is the same
// instant when read back (PostgreSQL: as timestamptz; MariaDB: as a UTC
// TIMESTAMP; SQLite: the exact text with its offset), the decimals keep
// their scale on PostgreSQL and MariaDB, and
// the view joins the LOINC code.
func checkEHRResults(t *testing.T, db *sqldb.DB, i int) {
	t.Helper()
	d := db.Dialect
	c := func(n string) string { return seed.EHRColumn(d, n) }
	num := c("NumericValue")
	if d.Name() == "postgres" {
		num += "::text" // numeric's own text: the scale shows
	}
	q := "SELECT " + c("CollectedAt") + ", " + c("ModifiedAt") + ", " + c("LOINC") + ", " + num +
		" FROM " + seed.EHRTable(d, "vw_LabResultDetail") + " WHERE " + c("ResultGUID") + " = " + d.Placeholder(1)
	offsets := map[int]bool{}
	for _, r := range seed.EHRPatientData(i).Results {
		var at, mod any
		var loinc, val *string
		if err := db.QueryRowContext(context.Background(), q, r.GUID).Scan(&at, &mod, &loinc, &val); err != nil {
			t.Fatalf("result %s: %v", r.GUID, err)
		}
		_, off := r.CollectedAt.Zone()
		offsets[off] = true
		switch v := at.(type) {
		case time.Time:
			if !v.Equal(r.CollectedAt) || !mod.(time.Time).Equal(r.ModifiedAt) {
				t.Errorf("result %s: CollectedAt %s ModifiedAt %s, want the instants %s %s", r.GUID, v, mod, r.CollectedAt, r.ModifiedAt)
			}
		case string:
			if want := r.CollectedAt.Format("2006-01-02T15:04:05-07:00"); v != want {
				t.Errorf("result %s: CollectedAt %q, want %q", r.GUID, v, want)
			}
			if want := r.ModifiedAt.Format("2006-01-02T15:04:05.0000000-07:00"); mod != want {
				t.Errorf("result %s: ModifiedAt %q, want %q", r.GUID, mod, want)
			}
		default:
			t.Fatalf("CollectedAt read as %T", at)
		}
		if d.Name() != "sqlite" && r.Numeric != "" && (val == nil || *val != r.Numeric) {
			t.Errorf("result %s: NumericValue %v, want %s", r.GUID, val, r.Numeric)
		}
		for _, lt := range seed.EHRLabTests {
			if lt.Local == r.Test && (lt.LOINC == "") != (loinc == nil) {
				t.Errorf("result %s: view LOINC %v for test %s", r.GUID, loinc, r.Test)
			}
		}
	}
	if len(offsets) < 2 {
		t.Errorf("patient %d's results use offsets %v: want several", i, offsets)
	}
}
