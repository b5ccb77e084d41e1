package seed

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// EHRTable is a table or view of the EHR schema as the dialect names it:
// dbo.[PatientMaster] on SQL Server, dbo."PatientMaster" on PostgreSQL,
// "PatientMaster" on SQLite (which has no schemas).
func EHRTable(d sqldb.Dialect, name string) string { return sqldb.TableSQL(d, "dbo", name) }

// EHRColumn quotes a (mixed-case, maybe spaced) name of the EHR schema.
func EHRColumn(d sqldb.Dialect, name string) string { return sqldb.QuoteName(d, name) }

// ehrArgs binds values of the EHR column types for one dialect.
type ehrArgs struct{ d sqldb.Dialect }

// fraction layouts by a column's fractional-seconds precision
var fracLayout = map[int]string{0: "", 3: ".000", 7: ".0000000"}

// offset binds a datetimeoffset(digits). SQLite keeps ISO-8601 text with
// the row's own offset; the others take the instant with its offset.
func (a ehrArgs) offset(t *time.Time, digits int) any {
	if t == nil {
		return nil
	}
	if sqldb.TimesAsText(a.d) {
		return t.Format("2006-01-02T15:04:05" + fracLayout[digits] + "-07:00")
	}
	return *t
}

// wall binds a datetime2(digits): the wall clock of t, zone dropped.
func (a ehrArgs) wall(t *time.Time, digits int) any {
	if t == nil {
		return nil
	}
	if sqldb.TimesAsText(a.d) {
		return t.Format("2006-01-02 15:04:05" + fracLayout[digits])
	}
	return a.d.TimeArg(*t)
}

func (a ehrArgs) date(t *time.Time) any {
	if t == nil {
		return nil
	}
	return a.d.DateArg(*t)
}

func (a ehrArgs) rows(p EHRPatient) (pat []any, visits, results [][]any) {
	pat = []any{p.GUID, p.MRN, p.Site, p.Last, nz(p.First), nz(p.Middle), nz(p.Prefix), a.date(p.DOB), nz(p.Sex),
		nz(p.Race), nz(p.Ethnicity), nz(p.Address), nz(p.City), nz(p.State), nz(p.Zip), nz(p.Lat), nz(p.Lon),
		nz(p.Phone), a.wall(p.DeathDate, 0), nz(p.SSN), sqldb.BoolArg(a.d, p.Active), a.offset(p.ModifiedAt, 7), a.wall(&p.CreatedAt, 7)}
	for _, v := range p.Visits {
		visits = append(visits, []any{v.GUID, p.GUID, v.Number, v.Type, v.Status, a.offset(&v.Admit, 0), a.offset(v.Discharge, 0),
			nz(v.Department), a.wall(&v.ModifiedAt, 3)})
	}
	for _, r := range p.Results {
		results = append(results, []any{r.GUID, p.GUID, nz(r.VisitGUID), r.Test, nz(r.Numeric), nz(r.Text), nz(r.Units), nz(r.Range),
			nz(r.Flag), r.Status, a.offset(&r.CollectedAt, 0), nz(r.Charge), nz(r.Provider), a.offset(&r.ModifiedAt, 7)})
	}
	return pat, visits, results
}

var ehrColumns = map[string][]string{
	"PatientMaster": {"PatientGUID", "MRN", "SiteCode", "LastName", "FirstName", "MiddleName", "Name Prefix", "DOB", "SexCode",
		"RaceCode", "EthnicityCode", "Address1", "City", "StateCode", "Zip", "Latitude", "Longitude",
		"HomePhone", "DeathDate", "SSN", "IsActive", "ModifiedAt", "CreatedAt"},
	"PatientVisit": {"VisitGUID", "PatientGUID", "VisitNumber", "VisitTypeCode", "StatusCode", "AdmitDateTime", "DischargeDateTime",
		"Department", "ModifiedAt"},
	"LabResult": {"ResultGUID", "PatientGUID", "VisitGUID", "TestCode", "NumericValue", "TextValue", "Units", "ReferenceRange",
		"AbnormalFlag", "ResultStatus", "CollectedAt", "Charge", "OrderingProviderID", "ModifiedAt"},
	"RaceCode":       {"Code", "Description", "CDCCode", "IsActive"},
	"EthnicityCode":  {"Code", "Description", "CDCCode", "IsActive"},
	"VisitType":      {"Code", "Description", "IsInpatient"},
	"LabTest":        {"LocalCode", "LOINC", "Display", "Unit"},
	"FacilityMaster": {"FacilityGUID", "FacilityName", "NPI", "Phone", "Address1", "City", "StateCode", "Zip", "IsActive", "ModifiedAt"},
	"Department":     {"Code", "Name", "FacilityGUID", "Phone", "IsActive", "ModifiedAt"},
	"ProviderMaster": {"ProviderGUID", "ProviderKey", "NPI", "LastName", "FirstName", "Credentials", "Phone", "IsActive", "ModifiedAt"},
	"DiagnosisCode":  {"Code", "SNOMEDCT", "ICD10CM", "Description", "IsActive"},
	"Formulary":      {"DrugCode", "RxNorm", "DrugName", "IsActive"},
	"VaccineCode":    {"CVXCode", "VaccineName", "IsActive"},
	"ProblemList": {"ProblemGUID", "PatientGUID", "VisitGUID", "DiagnosisCode", "ListType", "ProblemStatus", "VerificationCode",
		"OnsetDate", "ResolvedDate", "RecordedAt", "RecordedByGUID", "IsConfidential", "ModifiedAt"},
	"PatientAllergy": {"AllergyGUID", "PatientGUID", "AllergenSNOMED", "AllergenName", "AllergenType", "Criticality", "AllergyStatus",
		"VerificationCode", "ReactionSNOMED", "Reaction", "ReactionSeverity", "EnteredAt", "EnteredByGUID", "ModifiedAt"},
	"MedicationOrder": {"OrderGUID", "PatientGUID", "VisitGUID", "DrugCode", "OrderStatus", "OrderClass", "Sig", "DispenseQty",
		"OrderedAt", "PrescriberGUID", "ModifiedAt"},
	"VaccineAdministration": {"AdminGUID", "PatientGUID", "VisitGUID", "CVXCode", "AdminStatus", "RefusalReason", "AdministeredAt",
		"PrimarySource", "LotNumber", "DoseML", "AdministeredByGUID", "ModifiedAt"},
	"ProcedureHistory": {"ProcedureGUID", "PatientGUID", "VisitGUID", "CPTCode", "SNOMEDCode", "ProcedureName", "StatusCode",
		"StartedAt", "EndedAt", "SurgeonGUID", "ModifiedAt"},
}

// insertEHR writes rows into one EHR table.
func insertEHR(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, table string, rows [][]any) error {
	cols := make([]string, len(ehrColumns[table]))
	for i, c := range ehrColumns[table] {
		cols[i] = EHRColumn(d, c)
	}
	if err := insertRows(ctx, tx, d, "INSERT INTO "+EHRTable(d, table), cols, rows, ""); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// RunEHR seeds EHR patients 1..opts.Patients into the EHR demo schema
// (migrations.LegacyEHR), after its lookup tables. Like Run it skips the
// patients already present, so a killed run resumes where it stopped; each
// batch is one transaction.
func RunEHR(ctx context.Context, db *sqldb.DB, opts Options) error {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if err := seedEHRCodes(ctx, db); err != nil {
		return err
	}
	start, err := ehrSeeded(ctx, db, opts.Patients)
	if err != nil {
		return err
	}
	began := time.Now()
	for lo := start; lo <= opts.Patients; lo += opts.BatchSize {
		hi := min(lo+opts.BatchSize-1, opts.Patients)
		if err := writeEHR(ctx, db, lo, hi); err != nil {
			return fmt.Errorf("seed: EHR patients %d-%d: %w", lo, hi, err)
		}
		if opts.Progress != nil {
			rate := float64(hi-start+1) / time.Since(began).Seconds()
			fmt.Fprintf(opts.Progress, "seeded %d/%d EHR patients (%.0f/s)\n", hi, opts.Patients, rate)
		}
	}
	return nil
}

// ehrSeeded is the first patient number not seeded yet. Batches commit in
// ascending order, so the seeded patients are always 1..n: a binary search
// over their keys finds n, whatever other rows (written through the facade)
// the table holds.
func ehrSeeded(ctx context.Context, db *sqldb.DB, upTo int) (int, error) {
	q := "SELECT COUNT(*) FROM " + EHRTable(db.Dialect, "PatientMaster") + " WHERE " +
		EHRColumn(db.Dialect, "PatientGUID") + " = " + db.Dialect.Placeholder(1)
	lo, hi := 0, upTo // patient lo is seeded (0: none needed), hi+1 is not known
	for lo < hi {
		mid := (lo + hi + 1) / 2
		var n int
		if err := db.QueryRowContext(ctx, q, EHRPatientGUID(mid)).Scan(&n); err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
		if n > 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, nil
}

func writeEHR(ctx context.Context, db *sqldb.DB, lo, hi int) error {
	a := ehrArgs{d: db.Dialect}
	var pats, visits, results [][]any
	clinical := make([][][]any, len(ehrClinicalTables))
	for i := lo; i <= hi; i++ {
		data := EHRPatientData(i)
		p, v, r := a.rows(data)
		pats, visits, results = append(pats, p), append(visits, v...), append(results, r...)
		for t, ct := range ehrClinicalTables {
			clinical[t] = append(clinical[t], ct.rows(a, &data)...)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	tables := []struct {
		table string
		rows  [][]any
	}{{"PatientMaster", pats}, {"PatientVisit", visits}, {"LabResult", results}}
	for t, ct := range ehrClinicalTables {
		tables = append(tables, struct {
			table string
			rows  [][]any
		}{ct.table, clinical[t]})
	}
	for _, in := range tables {
		if len(in.rows) == 0 {
			continue // a small batch may draw no row of a clinical list
		}
		if err := insertEHR(ctx, tx, db.Dialect, in.table, in.rows); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// seedEHRCodes fills the lookup tables with the rows they lack.
func seedEHRCodes(ctx context.Context, db *sqldb.DB) error {
	d := db.Dialect
	codes := func(cs []EHRCode, cdc bool) [][]any {
		var out [][]any
		for _, c := range cs {
			row := []any{c.Code, c.Description}
			if cdc {
				row = append(row, nz(c.CDC))
			}
			out = append(out, append(row, sqldb.BoolArg(d, c.Flag)))
		}
		return out
	}
	var tests [][]any
	for _, t := range EHRLabTests {
		tests = append(tests, []any{t.Local, nz(t.LOINC), t.Display, nz(t.Unit)})
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	fixed := []struct {
		table string
		rows  [][]any
	}{{"RaceCode", codes(EHRRaceCodes, true)}, {"EthnicityCode", codes(EHREthnicityCodes, true)},
		{"VisitType", codes(EHRVisitTypes, false)}, {"LabTest", tests}}
	for _, in := range slices.Concat(fixed, ehrDirectory(d), ehrClinicalLookups(ehrArgs{d: d})) {
		var missing [][]any
		key := EHRColumn(d, ehrColumns[in.table][0])
		for _, row := range in.rows {
			var n int
			q := "SELECT COUNT(*) FROM " + EHRTable(d, in.table) + " WHERE " + key + " = " + d.Placeholder(1)
			if err := tx.QueryRowContext(ctx, q, row[0]).Scan(&n); err != nil {
				return fmt.Errorf("seed: %s: %w", in.table, err)
			}
			if n == 0 {
				missing = append(missing, row)
			}
		}
		if len(missing) > 0 {
			if err := insertEHR(ctx, tx, d, in.table, missing); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
	}
	return tx.Commit()
}
