package seed

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestEHRPatientDataPinned: the clinical lists draw from streams of their
// own, so the older EHR tables' rows are what they were before them
// (the digest of patients 1..60 as of migration 000003).
func TestEHRPatientDataPinned(t *testing.T) {
	h := sha256.New()
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(h, "%+v\n", EHRPatientData(i))
	}
	if got, want := fmt.Sprintf("%x", h.Sum(nil)), ehrPatientDigest; got != want {
		t.Fatalf("EHR patients 1..60 changed: digest %s, want %s", got, want)
	}
}

// TestEHRClinicalRows: the clinical rows of patients 1..60 have distinct
// keys, name their own patient, only visits that took place and only the
// directory's providers, keep the status rules (a resolution date only on
// a resolved problem, an end only on a completed procedure, after its
// start), and show the oddities the specs must handle.
func TestEHRClinicalRows(t *testing.T) {
	a := ehrArgs{d: sqldb.SQLite{}}
	providers := map[any]bool{nil: true}
	for _, k := range ehrProviders {
		providers[EHRProviderGUID(k)] = true
	}
	keys, seen := map[any]bool{}, map[string]bool{}
	cols := func(table string) map[string]int {
		m := map[string]int{}
		for i, c := range ehrColumns[table] {
			m[c] = i
		}
		return m
	}
	for i := 1; i <= 60; i++ {
		p := EHRPatientData(i)
		visits := map[any]bool{nil: true}
		for _, v := range p.Visits {
			visits[v.GUID] = v.Status != "P" && v.Status != "X"
		}
		for _, ct := range ehrClinicalTables {
			rows := ct.rows(a, &p)
			seen[fmt.Sprintf("%s: %d rows", ct.table, len(rows))] = true
			c := cols(ct.table)
			for _, r := range rows {
				if len(r) != len(c) || keys[r[0]] || r[1] != p.GUID {
					t.Fatalf("%s row %v: %d columns of %d, repeated key or another patient", ct.table, r, len(r), len(c))
				}
				keys[r[0]] = true
				if v, ok := c["VisitGUID"]; ok && !visits[r[v]] {
					t.Errorf("%s %v: visit %v is not one of the patient's that took place", ct.table, r[0], r[v])
				}
				for name, at := range c {
					if strings.HasSuffix(name, "GUID") && name != "PatientGUID" && name != "VisitGUID" && at > 0 && !providers[r[at]] {
						t.Errorf("%s %v: %s %v is no provider of the directory", ct.table, r[0], name, r[at])
					}
					if s, ok := r[at].(string); ok && strings.HasSuffix(s, "+00:00") {
						seen[ct.table+": +00:00"] = true
					}
					if r[at] == nil {
						seen[ct.table+": NULL "+name] = true
					}
				}
				checkEHRClinicalRule(t, ct.table, c, r)
			}
		}
	}
	for _, k := range []string{"ProblemList: 0 rows", "ProblemList: 4 rows", "PatientAllergy: 0 rows", "ProcedureHistory: 2 rows",
		"ProblemList: NULL VerificationCode", "ProblemList: NULL ProblemStatus", "ProblemList: NULL VisitGUID", "ProblemList: +00:00",
		"PatientAllergy: NULL Criticality", "PatientAllergy: NULL ReactionSNOMED", "MedicationOrder: NULL DispenseQty",
		"VaccineAdministration: NULL RefusalReason", "VaccineAdministration: NULL LotNumber", "VaccineAdministration: NULL PrimarySource",
		"ProcedureHistory: NULL CPTCode", "ProcedureHistory: NULL EndedAt", "ProcedureHistory: NULL SurgeonGUID"} {
		if !seen[k] {
			t.Errorf("no patient of 1..60 shows %q", k)
		}
	}
}

// checkEHRClinicalRule checks the status rules of one row.
func checkEHRClinicalRule(t *testing.T, table string, c map[string]int, r []any) {
	t.Helper()
	at := func(name string) time.Time {
		v, _ := time.Parse(time.RFC3339, fmt.Sprint(r[c[name]]))
		return v
	}
	switch table {
	case "ProblemList":
		if (r[c["ProblemStatus"]] == "Resolved") != (r[c["ResolvedDate"]] != nil) {
			t.Errorf("problem %v: status %v, resolved %v", r[0], r[c["ProblemStatus"]], r[c["ResolvedDate"]])
		}
	case "ProcedureHistory":
		done := r[c["StatusCode"]] == "C"
		if done != (r[c["EndedAt"]] != nil) || (done && at("EndedAt").Before(at("StartedAt"))) {
			t.Errorf("procedure %v: status %v, %v to %v", r[0], r[c["StatusCode"]], r[c["StartedAt"]], r[c["EndedAt"]])
		}
	case "VaccineAdministration":
		if (r[c["AdminStatus"]] == "R") != (r[c["RefusalReason"]] != nil) {
			t.Errorf("vaccine %v: status %v, refusal %v", r[0], r[c["AdminStatus"]], r[c["RefusalReason"]])
		}
	}
}

// ehrPatientDigest is the digest of EHRPatientData(1..60) as of migration
// 000003 (before the clinical lists).
const ehrPatientDigest = "e16e3a7c9f208d771f5fed4171772ca0d934811465fbd693a08716edff062333"
