// Package seed writes deterministic synthetic legacy data (no real people):
// patient i always gets the same name, visits and lab results, so seeding is
// resumable and tests can name ids.
package seed

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Per-patient counts: ids of visits and results are derived from the
// patient number, which makes a resumed seed write the same rows.
const (
	VisitsPerPatient  = 3
	ResultsPerPatient = 20
)

// LabTest is one row of the lab_test_code table.
type LabTest struct {
	Local, LOINC, Display, Unit string
	gen                         func(r *rand.Rand) (val, flag, ref string)
}

func num(lo, hi float64, dec int, refLo, refHi float64) func(r *rand.Rand) (string, string, string) {
	return func(r *rand.Rand) (string, string, string) {
		v := lo + r.Float64()*(hi-lo)
		flag := "N"
		if v < refLo {
			flag = "L"
		} else if v > refHi {
			flag = "H"
		}
		return fmt.Sprintf("%.*f", dec, v), flag, fmt.Sprintf("%.*f-%.*f", dec, refLo, dec, refHi)
	}
}

// LabTests is the demo code table: local code, LOINC and display.
var LabTests = []LabTest{
	{"GLU", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", num(60, 250, 0, 70, 99)},
	{"NA", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", num(128, 150, 0, 136, 145)},
	{"K", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", num(3.0, 5.8, 1, 3.5, 5.1)},
	{"CREAT", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", num(0.5, 2.5, 2, 0.6, 1.3)},
	{"HGB", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", num(9, 18, 1, 12, 17.5)},
	{"WBC", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", num(2.5, 15, 1, 4.5, 11)},
	{"PLT", "777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", num(90, 450, 0, 150, 400)},
	{"HBA1C", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", num(4.5, 11, 1, 4, 5.6)},
	{"CHOL", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", num(120, 300, 0, 0, 199)},
	{"CRP", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", func(r *rand.Rand) (string, string, string) {
		if r.IntN(3) == 0 {
			return "<0.5", "N", "<5.0"
		}
		return num(0.5, 40, 1, 0, 5)(r)
	}},
	{"TROP", "6598-7", "Troponin T.cardiac [Mass/volume] in Serum or Plasma", "ng/mL", func(r *rand.Rand) (string, string, string) {
		if r.IntN(4) != 0 {
			return "<0.01", "N", "<0.01"
		}
		return num(0.01, 2, 2, 0, 0.01)(r)
	}},
	{"HCG", "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine", "", func(r *rand.Rand) (string, string, string) {
		if r.IntN(5) == 0 {
			return "POS", "A", "NEG"
		}
		return "NEG", "N", "NEG"
	}},
}

var (
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "O'Brien", "Núñez"}
	femaleNames = []string{"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
		"Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily", "Donna", "Michelle", "Zoë"}
	maleNames = []string{"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Charles",
		"Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul", "Andrew", "Joshua", "José"}
	streets = []string{"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Pine Rd", "Lakeview Blvd", "Hillcrest Way"}
	cities  = []struct{ city, state, zip string }{{"Springfield", "IL", "62701"}, {"Riverside", "CA", "92501"},
		{"Franklin", "TN", "37064"}, {"Greenville", "SC", "29601"}, {"Madison", "WI", "53703"}, {"Salem", "OR", "97301"}}
	depts = []string{"CARD", "MED", "SURG", "PEDS", "ED", "ONC", "ORTHO"}
)

// base is the fixed "now" of the synthetic world, so data never depends on
// the day it is seeded.
var base = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

type patient struct {
	id                            int64
	mrn, last, first, middle      string
	dob                           time.Time
	sex                           string
	addr, city, state, zip, phone string
	deceased                      string
	deceasedAt                    *time.Time
	upd                           time.Time
	visits                        []visit
	results                       []result
}

type visit struct {
	id                int64
	typ, status, dept string
	admit, disch      *time.Time
	upd               time.Time
}

type result struct {
	id                      int64
	visit                   *int64
	code, val, unit, ref    string
	flag, status, accession string
	at, upd                 time.Time
}

func tp(t time.Time) *time.Time { return &t }

// Patient builds patient n (1-based) and its visits and results.
func makePatient(n int64) patient {
	r := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	p := patient{id: n, mrn: fmt.Sprintf("MRN%08d", n)}
	p.last = lastNames[r.IntN(len(lastNames))]
	switch x := r.IntN(100); {
	case x < 48:
		p.sex, p.first = "F", femaleNames[r.IntN(len(femaleNames))]
	case x < 96:
		p.sex, p.first = "M", maleNames[r.IntN(len(maleNames))]
	case x < 98:
		p.sex, p.first = "U", femaleNames[r.IntN(len(femaleNames))]
	default:
		p.sex, p.first = "O", maleNames[r.IntN(len(maleNames))]
	}
	if r.IntN(3) == 0 {
		p.middle = string(rune('A' + r.IntN(26)))
	}
	p.dob = time.Date(1930+r.IntN(90), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	c := cities[r.IntN(len(cities))]
	p.addr = fmt.Sprintf("%d %s", 100+r.IntN(9900), streets[r.IntN(len(streets))])
	p.city, p.state, p.zip = c.city, c.state, c.zip
	if r.IntN(10) != 0 {
		p.phone = fmt.Sprintf("555-01%02d-%04d", r.IntN(100), r.IntN(10000))
	}
	p.deceased = "N"
	if r.IntN(50) == 0 {
		p.deceased = "Y"
		if r.IntN(2) == 0 {
			p.deceasedAt = tp(base.Add(-time.Duration(r.IntN(5*365*24)) * time.Hour))
		}
	}
	p.upd = base.Add(-time.Duration(r.IntN(3*365*24*3600)) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	for j := range VisitsPerPatient {
		v := visit{id: (n-1)*VisitsPerPatient + int64(j) + 1, dept: depts[r.IntN(len(depts))]}
		admit := base.Add(-time.Duration(r.IntN(5*365*24*60)) * time.Minute)
		v.typ = []string{"OP", "OP", "OP", "IP", "ER"}[r.IntN(5)]
		switch x := r.IntN(20); {
		case x == 0:
			v.status = "P"
			admit = base.Add(time.Duration(r.IntN(60*24)) * time.Hour)
			v.admit = tp(admit)
		case x == 1:
			v.status = "X"
			v.admit = tp(admit)
		case x < 4:
			v.status, v.admit = "A", tp(admit)
		default:
			v.status, v.admit = "D", tp(admit)
			stay := time.Duration(30+r.IntN(240)) * time.Minute
			if v.typ == "IP" {
				stay = time.Duration(24+r.IntN(24*10)) * time.Hour
			}
			v.disch = tp(admit.Add(stay))
		}
		v.upd = admit.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		if v.upd.After(base) {
			v.upd = base
		}
		p.visits = append(p.visits, v)
	}
	for k := range ResultsPerPatient {
		t := LabTests[r.IntN(len(LabTests))]
		val, flag, ref := t.gen(r)
		res := result{id: (n-1)*ResultsPerPatient + int64(k) + 1, code: t.Local, val: val, unit: t.Unit, ref: ref, flag: flag}
		res.status = []string{"F", "F", "F", "F", "F", "F", "F", "P", "C"}[r.IntN(9)]
		res.accession = fmt.Sprintf("ACC%010d", res.id)
		if r.IntN(4) != 0 {
			v := p.visits[r.IntN(len(p.visits))]
			vid := v.id
			res.visit = &vid
			res.at = v.admit.Add(time.Duration(r.IntN(120)) * time.Minute)
		} else {
			res.at = base.Add(-time.Duration(r.IntN(5*365*24*60)) * time.Minute)
		}
		res.upd = res.at.Add(time.Duration(2+r.IntN(48))*time.Hour + time.Duration(r.IntN(1000))*time.Millisecond)
		p.results = append(p.results, res)
	}
	return p
}

// Options control a seed run.
type Options struct {
	Patients  int
	BatchSize int       // patients per transaction (default 500)
	Progress  io.Writer // progress lines; nil for none
}

// Run seeds patients 1..opts.Patients, skipping those already present, so a
// killed run resumes where it stopped (each batch is one transaction).
func Run(ctx context.Context, db *sqldb.DB, opts Options) error {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if err := seedCodes(ctx, db); err != nil {
		return err
	}
	if err := seedDirectory(ctx, db); err != nil {
		return err
	}
	var have sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(pat_id) FROM pat_master").Scan(&have); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	start := have.Int64 + 1
	w := newWriter(db)
	began := time.Now()
	for lo := start; lo <= int64(opts.Patients); lo += int64(opts.BatchSize) {
		hi := min(lo+int64(opts.BatchSize)-1, int64(opts.Patients))
		ps := make([]patient, 0, hi-lo+1)
		for n := lo; n <= hi; n++ {
			ps = append(ps, makePatient(n))
		}
		if err := w.write(ctx, ps); err != nil {
			return fmt.Errorf("seed: patients %d-%d: %w", lo, hi, err)
		}
		if opts.Progress != nil {
			rate := float64(hi-start+1) / time.Since(began).Seconds()
			fmt.Fprintf(opts.Progress, "seeded %d/%d patients (%.0f/s)\n", hi, opts.Patients, rate)
		}
	}
	return fixSequences(ctx, db)
}

func seedCodes(ctx context.Context, db *sqldb.DB) error {
	if err := seedLookups(ctx, db); err != nil {
		return err
	}
	d := db.Dialect
	for _, t := range LabTests {
		var n int
		q := "SELECT COUNT(*) FROM lab_test_code WHERE local_cd = " + d.Placeholder(1)
		if err := db.QueryRowContext(ctx, q, t.Local).Scan(&n); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if n > 0 {
			continue
		}
		var unit any
		if t.Unit != "" {
			unit = t.Unit
		}
		q = fmt.Sprintf("INSERT INTO lab_test_code (local_cd, loinc_cd, loinc_display, default_unit) VALUES (%s, %s, %s, %s)",
			d.Placeholder(1), d.Placeholder(2), d.Placeholder(3), d.Placeholder(4))
		if _, err := db.ExecContext(ctx, q, t.Local, t.LOINC, t.Display, unit); err != nil {
			return fmt.Errorf("seed: lab_test_code: %w", err)
		}
	}
	return nil
}

// fixSequences moves identity sequences past the explicit seeded keys.
func fixSequences(ctx context.Context, db *sqldb.DB) error {
	tables := [][2]string{{"pat_master", "pat_id"}, {"visit", "visit_id"}, {"lab_result", "result_id"}, {"facility", "facility_id"},
		{"problem_list", "prob_id"}, {"pat_allergy", "allergy_id"}, {"med_order", "order_id"}, {"immun_admin", "immun_id"}, {"proc_log", "proc_id"}}
	for _, t := range tables {
		q := sqldb.ResetIdentity(db.Dialect, t[0], t[1])
		if q == "" {
			continue // SQLite AUTOINCREMENT and MySQL AUTO_INCREMENT follow explicit keys by themselves
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed: reset %s sequence: %w", t[0], err)
		}
	}
	return nil
}

// tableRows are rows to insert into one table, in cols order.
type tableRows struct {
	table string
	cols  []string
	rows  [][]any
}

type writer struct {
	db *sqldb.DB
	d  sqldb.Dialect
}

func newWriter(db *sqldb.DB) *writer { return &writer{db: db, d: db.Dialect} }

func (w *writer) t(t *time.Time) any {
	if t == nil {
		return nil
	}
	return w.d.TimeArg(*t)
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *writer) write(ctx context.Context, ps []patient) error {
	var pats, visits, results [][]any
	for _, p := range ps {
		pats = append(pats, []any{p.id, p.mrn, p.last, p.first, nz(p.middle), w.d.DateArg(p.dob), p.sex, p.addr, p.city, p.state, p.zip,
			nz(p.phone), p.deceased, w.t(p.deceasedAt), nil, "SEED", w.d.TimeArg(p.upd.Truncate(time.Millisecond))})
		for _, v := range p.visits {
			attending, facility := visitLinks(v.id, v.dept)
			visits = append(visits, []any{v.id, p.id, v.typ, v.status, w.t(v.admit), w.t(v.disch), v.dept, attending, facility, w.d.TimeArg(v.upd.Truncate(time.Millisecond))})
		}
		for _, r := range p.results {
			var vid any
			if r.visit != nil {
				vid = *r.visit
			}
			results = append(results, []any{r.id, p.id, vid, r.code, r.val, nz(r.unit), r.ref, r.flag, r.status, w.d.TimeArg(r.at), r.accession, resultPerformer(r.id), w.d.TimeArg(r.upd.Truncate(time.Millisecond))})
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins := []tableRows{
		{"pat_master", []string{"pat_id", "mrn", "last_nm", "first_nm", "middle_nm", "birth_dt", "sex_cd", "addr_line1", "city", "state_cd", "zip_cd", "phone_home", "deceased_yn", "deceased_dttm", "ssn_last4", "upd_user", "upd_ts"}, pats},
		{"visit", []string{"visit_id", "pat_id", "visit_type_cd", "visit_status_cd", "admit_dttm", "disch_dttm", "dept_cd", "attending_id", "facility_id", "upd_ts"}, visits},
		{"lab_result", []string{"result_id", "pat_id", "visit_id", "local_test_cd", "result_val", "result_unit", "ref_range", "abn_flag", "result_status", "collected_dttm", "lab_accession", "performer_id", "upd_ts"}, results},
	}
	for _, ct := range clinicalTables {
		var rows [][]any
		for i := range ps {
			rows = append(rows, ct.rows(w, &ps[i])...)
		}
		ins = append(ins, tableRows{ct.table, ct.cols, rows})
	}
	for _, in := range ins {
		if len(in.rows) == 0 {
			continue
		}
		if err := w.insert(ctx, tx, in.table, in.cols, in.rows); err != nil {
			return fmt.Errorf("%s: %w", in.table, err)
		}
	}
	return tx.Commit()
}

// insert writes rows with multi-row INSERTs, explicit keys allowed on SQL
// Server's identity columns.
func (w *writer) insert(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	prefix, suffix := sqldb.IdentityInsert(w.d, table)
	return insertRows(ctx, tx, w.d, prefix+"INSERT INTO "+table, cols, rows, suffix)
}

// insertRows writes rows with multi-row INSERTs (head is "INSERT INTO t",
// cols are already quoted as the dialect needs), as many rows per statement
// as the dialect's parameter limit allows (SQL Server: 2100).
func insertRows(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, head string, cols []string, rows [][]any, suffix string) error {
	per := 2000 / len(cols)
	for lo := 0; lo < len(rows); lo += per {
		chunk := rows[lo:min(lo+per, len(rows))]
		var b strings.Builder
		b.WriteString(head + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, r[j])
				b.WriteString(d.Placeholder(len(args)))
			}
			b.WriteByte(')')
		}
		b.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
