package seed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The EHR schema's clinical lists (legacy_ehr migration 000004): problem
// list, allergies, medication orders, vaccine administrations and
// procedure history of EHR patient i. Each table draws from its own random
// stream (the patient number and the table's salt), never from the one
// EHRPatientData draws from, so the older tables' rows are exactly what they
// were before these existed. Keys are uuid v5 of the table and row number.

// Per-patient maxima of the EHR clinical lists (a patient has 0..max rows).
const (
	EHRProblemsPerPatient   = 4
	EHRAllergiesPerPatient  = 2
	EHROrdersPerPatient     = 5
	EHRVaccinesPerPatient   = 3
	EHRProceduresPerPatient = 2
)

// salts of the EHR clinical tables' streams (distinct from the demo
// schema's and from EHRPatientData's 0xe4; changing one changes that
// table's rows).
const (
	saltEHRProblem = 0xe4c1 + iota
	saltEHRAllergy
	saltEHROrder
	saltEHRVaccine
	saltEHRProcedure
)

// EHRDiagnosisCode is the DiagnosisCode lookup's local code of Problems[n].
func EHRDiagnosisCode(n int) string { return fmt.Sprintf("DX%03d", n+1) }

// ehrClinicalTables lists the clinical tables in write order (after the
// patients, visits and providers their foreign keys name) with their row
// builders; the columns are in ehrColumns.
var ehrClinicalTables = []struct {
	table string
	rows  func(a ehrArgs, p *EHRPatient) [][]any
}{
	{"ProblemList", ehrArgs.problems},
	{"PatientAllergy", ehrArgs.allergies},
	{"MedicationOrder", ehrArgs.orders},
	{"VaccineAdministration", ehrArgs.vaccines},
	{"ProcedureHistory", ehrArgs.procedures},
}

// ehrClinicalLookups are the rows of the clinical code tables.
func ehrClinicalLookups(a ehrArgs) []struct {
	table string
	rows  [][]any
} {
	var dx, drugs, vax [][]any
	for n, c := range Problems {
		dx = append(dx, []any{EHRDiagnosisCode(n), c.SNOMED, nz(c.ICD10), c.Desc, a.bit(true)})
	}
	for _, d := range Drugs {
		drugs = append(drugs, []any{d.Local, d.RxNorm, d.Name, a.bit(true)})
	}
	for _, v := range append(slices.Clone(Vaccines), lookupOnlyVaccines...) {
		vax = append(vax, []any{v.CVX, v.Name, a.bit(true)})
	}
	return []struct {
		table string
		rows  [][]any
	}{{"DiagnosisCode", dx}, {"Formulary", drugs}, {"VaccineCode", vax}}
}

// ehrStd is the standard-time offset of patient p's site.
func ehrStd(p *EHRPatient) int {
	for _, s := range ehrSites {
		if s.code == p.Site {
			return s.std
		}
	}
	return serverStd
}

// ehrSeen is one of p's visits that took place (neither planned nor
// cancelled), or nil.
func ehrSeen(r *rand.Rand, p *EHRPatient) *EHRVisit {
	v := &p.Visits[r.IntN(len(p.Visits))]
	if v.Status == "P" || v.Status == "X" {
		return nil
	}
	return v
}

// ehrClinician is the ProviderGUID of one of the directory's providers.
func ehrClinician(r *rand.Rand) string {
	return EHRProviderGUID(ehrProviders[r.IntN(len(ehrProviders))])
}

// ehrRecorded is t as a datetimeoffset of the site (k%3 == 0: at +00:00,
// from the interface engine), never after the synthetic now.
func (a ehrArgs) recorded(t time.Time, std, k int) any {
	if t.After(base) {
		t = base
	}
	if k%3 == 0 {
		t = utc(t)
	} else {
		t = usLocal(t, std)
	}
	return a.offset(&t, 0)
}

// stamp7 is a datetimeoffset(7) last-updated stamp some hours after t.
func (a ehrArgs) stamp7(r *rand.Rand, t time.Time, std int) any {
	u := usLocal(t.Add(time.Duration(1+r.IntN(72))*time.Hour+time.Duration(r.IntN(1e6))*time.Microsecond), std)
	return a.offset(&u, 7)
}

// stamp3 is a datetime2(3) last-updated stamp (server wall clock).
func (a ehrArgs) stamp3(r *rand.Rand, t time.Time) any {
	u := usLocal(t.Add(time.Duration(1+r.IntN(72))*time.Hour+time.Duration(r.IntN(1000))*time.Millisecond), serverStd)
	return a.wall(&u, 3)
}

func (a ehrArgs) bit(b bool) any { return sqldb.BoolArg(a.d, b) }

// EHRClinicalCounts is how many rows EHR patient i has in each clinical
// table (by table name), as RunEHR writes them.
func EHRClinicalCounts(i int) map[string]int {
	p := EHRPatientData(i)
	out := map[string]int{}
	for _, t := range ehrClinicalTables {
		out[t.table] = len(t.rows(ehrArgs{d: sqldb.SQLite{}}, &p))
	}
	return out
}
