package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The clinical lists of patient n (problem list, allergies, medication
// orders, immunizations, procedures; migration 000003). Each table draws from
// its own random stream, seeded from the patient number and the table's
// salt, so adding these rows left every value of the older tables as it
// was; ids are derived from the patient number (a fixed block per patient,
// as for visits and results), so a resumed seed writes the same rows.

// Per-patient maxima of the clinical lists: patient n's rows have ids
// (n-1)*Max+1 .. (n-1)*Max+Max, not all of them used.
const (
	ProblemsPerPatient  = 5
	AllergiesPerPatient = 3
	MedOrdersPerPatient = 6
	ImmunsPerPatient    = 4
	ProcsPerPatient     = 3
)

// salts of the clinical tables' random streams (any distinct constants;
// changing one changes that table's rows, and the tests that name them).
const (
	saltProblem = 0xc0d1 + iota
	saltAllergy
	saltMedOrder
	saltImmun
	saltProc
)

// clinicalTables lists the clinical tables in write order (after their
// patients and visits) with their columns and row builders.
var clinicalTables = []struct {
	table string
	cols  []string
	rows  func(w *writer, p *patient) [][]any
}{
	{"problem_list", []string{"prob_id", "pat_id", "visit_id", "prob_type_cd", "prob_status", "verify_cd", "snomed_cd", "icd10_cd",
		"prob_desc", "onset_dt", "resolved_dt", "noted_dttm", "noted_by", "upd_ts"}, (*writer).problems},
	{"pat_allergy", []string{"allergy_id", "pat_id", "allergy_status", "verify_cd", "allergy_cat", "crit_cd", "snomed_cd", "allergen_desc",
		"rxn_snomed_cd", "rxn_desc", "rxn_sev_cd", "entered_dttm", "entered_by", "upd_ts"}, (*writer).allergies},
	{"med_order", []string{"order_id", "pat_id", "visit_id", "drug_cd", "order_status", "intent_cd", "reported_yn", "order_dt",
		"prescriber_id", "sig_text", "upd_ts"}, (*writer).medOrders},
	{"immun_admin", []string{"immun_id", "pat_id", "cvx_cd", "immun_status", "refusal_cd", "admin_dttm", "src_yn", "lot_no",
		"admin_by", "upd_ts"}, (*writer).immunizations},
	{"proc_log", []string{"proc_id", "pat_id", "visit_id", "proc_status", "cpt_cd", "snomed_cd", "proc_desc", "start_dttm", "end_dttm",
		"surgeon_id", "upd_ts"}, (*writer).procedures},
}

func stream(n int64, salt uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), salt)) }

// pick returns one of xs by weight: weights[i] out of their sum.
func pick(r *rand.Rand, xs []string, weights []int) string {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	x := r.IntN(sum)
	for i, w := range weights {
		if x < w {
			return xs[i]
		}
		x -= w
	}
	return xs[len(xs)-1]
}

// anyProvider is a provider id of the directory's set (ProviderID 1..Providers).
func anyProvider(r *rand.Rand) string { return ProviderID(1 + r.IntN(Providers)) }

// past is a whole minute up to days before the synthetic now.
func past(r *rand.Rand, days int) time.Time {
	return base.Add(-time.Duration(1+r.IntN(days*24*60)) * time.Minute)
}

// seenVisit is one of p's visits that has taken place (not planned), or nil.
func seenVisit(r *rand.Rand, p *patient) *visit {
	v := &p.visits[r.IntN(len(p.visits))]
	if v.status == "P" || v.admit == nil {
		return nil
	}
	return v
}

func (w *writer) stamp(t time.Time, r *rand.Rand) any {
	u := t.Add(time.Duration(1+r.IntN(72))*time.Hour + time.Duration(r.IntN(1000))*time.Millisecond)
	if u.After(base) {
		u = base
	}
	return w.d.TimeArg(u.Truncate(time.Millisecond))
}

func (w *writer) day(t time.Time) any {
	return w.d.DateArg(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
}

func (w *writer) problems(p *patient) [][]any {
	r := stream(p.id, saltProblem)
	var rows [][]any
	for j := range r.IntN(ProblemsPerPatient + 1) {
		c := Problems[r.IntN(len(Problems))]
		id := (p.id-1)*ProblemsPerPatient + int64(j) + 1
		typ, status, verify := "P", any(pick(r, []string{"A", "I", "R", "M"}, []int{6, 1, 2, 1})), pick(r, []string{"C", "U", "P"}, []int{8, 1, 1})
		var vid any
		onset := past(r, 15*365)
		noted := onset.Add(time.Duration(r.IntN(90*24*60)) * time.Minute)
		if v := seenVisit(r, p); v != nil && r.IntN(3) == 0 {
			// an encounter diagnosis: noted during the visit, status often not kept
			typ, vid, verify = "E", v.id, "C"
			onset, noted = *v.admit, v.admit.Add(time.Duration(5+r.IntN(120))*time.Minute)
			if r.IntN(2) == 0 {
				status = nil
			} else {
				status = "A"
			}
		}
		if noted.After(base) {
			noted = base
		}
		var resolved any
		if status == "R" {
			resolved = w.day(onset.AddDate(0, 0, 7+r.IntN(365)))
		}
		rows = append(rows, []any{id, p.id, vid, typ, status, verify, c.SNOMED, nz(c.ICD10), c.Desc, w.day(onset), resolved,
			w.d.TimeArg(noted), anyProvider(r), w.stamp(noted, r)})
	}
	return rows
}

func (w *writer) allergies(p *patient) [][]any {
	r := stream(p.id, saltAllergy)
	var rows [][]any
	perm := r.Perm(len(Allergens))
	for j := range r.IntN(AllergiesPerPatient + 1) {
		a := Allergens[perm[j]]
		id := (p.id-1)*AllergiesPerPatient + int64(j) + 1
		status := pick(r, []string{"A", "I", "R"}, []int{17, 2, 1})
		verify := pick(r, []string{"C", "U"}, []int{4, 1})
		crit := pick(r, []string{"L", "H", "U"}, []int{5, 3, 1})
		var rxn, rxnDesc, sev any
		if r.IntN(10) < 7 {
			x := reactions[r.IntN(len(reactions))]
			rxn, rxnDesc, sev = x[0], x[1], fmt.Sprint(1+r.IntN(3))
		}
		at := past(r, 10*365)
		rows = append(rows, []any{id, p.id, status, verify, a.Cat, crit, a.SNOMED, a.Desc, rxn, rxnDesc, sev,
			w.d.TimeArg(at), anyProvider(r), w.stamp(at, r)})
	}
	return rows
}

func (w *writer) medOrders(p *patient) [][]any {
	r := stream(p.id, saltMedOrder)
	var rows [][]any
	for j := range r.IntN(MedOrdersPerPatient + 1) {
		d := Drugs[r.IntN(len(Drugs))]
		id := (p.id-1)*MedOrdersPerPatient + int64(j) + 1
		status := pick(r, []string{"A", "C", "S", "H", "X"}, []int{10, 6, 2, 1, 1})
		intent := pick(r, []string{"O", "P"}, []int{17, 3})
		reported := any(pick(r, []string{"N", "Y"}, []int{9, 1}))
		if r.IntN(10) == 0 {
			reported = nil
		}
		var vid any
		at := past(r, 5*365)
		if v := seenVisit(r, p); v != nil && r.IntN(5) < 3 {
			vid, at = v.id, v.admit.Add(time.Duration(10+r.IntN(60))*time.Minute)
		}
		rows = append(rows, []any{id, p.id, vid, d.Local, status, intent, reported, w.day(at), anyProvider(r),
			sigs[r.IntN(len(sigs))], w.stamp(at, r)})
	}
	return rows
}

func (w *writer) immunizations(p *patient) [][]any {
	r := stream(p.id, saltImmun)
	var rows [][]any
	for j := range r.IntN(ImmunsPerPatient + 1) {
		v := Vaccines[r.IntN(len(Vaccines))]
		id := (p.id-1)*ImmunsPerPatient + int64(j) + 1
		at := past(r, 8*365)
		status, src := "C", pick(r, []string{"Y", "N"}, []int{4, 1})
		var refusal, lot, by any
		if r.IntN(10) == 0 {
			status, refusal = "N", refusals[r.IntN(len(refusals))]
		} else {
			lot, by = fmt.Sprintf("LOT%05d", r.IntN(100000)), anyProvider(r)
		}
		rows = append(rows, []any{id, p.id, v.CVX, status, refusal, w.d.TimeArg(at), src, lot, by, w.stamp(at, r)})
	}
	return rows
}

func (w *writer) procedures(p *patient) [][]any {
	r := stream(p.id, saltProc)
	var rows [][]any
	for j := range r.IntN(ProcsPerPatient + 1) {
		c := ProcCodes[r.IntN(len(ProcCodes))]
		id := (p.id-1)*ProcsPerPatient + int64(j) + 1
		status := pick(r, []string{"C", "P", "N"}, []int{17, 1, 2})
		var vid, end any
		start := past(r, 10*365)
		if v := seenVisit(r, p); v != nil && r.IntN(2) == 0 {
			vid, start = v.id, v.admit.Add(time.Duration(15+r.IntN(240))*time.Minute)
		}
		if status == "C" {
			// a completed procedure has its end; one in progress is open
			end = w.d.TimeArg(start.Add(time.Duration(15+r.IntN(180)) * time.Minute))
		}
		rows = append(rows, []any{id, p.id, vid, status, c.CPT, nz(c.SNOMED), c.Desc, w.d.TimeArg(start), end, anyProvider(r), w.stamp(start, r)})
	}
	return rows
}

// lookups are the clinical lists' code tables (the first column is the key).
func lookups() []tableRows {
	var drugs, vaccines [][]any
	for _, d := range Drugs {
		drugs = append(drugs, []any{d.Local, d.RxNorm, d.Name})
	}
	for _, v := range append(slices.Clone(Vaccines), lookupOnlyVaccines...) {
		vaccines = append(vaccines, []any{v.CVX, v.Name})
	}
	return []tableRows{
		{"drug_code", []string{"drug_cd", "rxnorm_cd", "drug_nm"}, drugs},
		{"vacc_code", []string{"cvx_cd", "vacc_nm"}, vaccines},
	}
}

// seedLookups writes the rows of the clinical code tables that are missing
// (by key), so a resumed or repeated seed leaves them as they are.
func seedLookups(ctx context.Context, db *sqldb.DB) error {
	d := db.Dialect
	for _, l := range lookups() {
		for _, row := range l.rows {
			var n int
			q := "SELECT COUNT(*) FROM " + l.table + " WHERE " + l.cols[0] + " = " + d.Placeholder(1)
			if err := db.QueryRowContext(ctx, q, row[0]).Scan(&n); err != nil {
				return fmt.Errorf("seed: %s: %w", l.table, err)
			}
			if n > 0 {
				continue
			}
			ph := make([]string, len(row))
			for i := range row {
				ph[i] = d.Placeholder(i + 1)
			}
			q = "INSERT INTO " + l.table + " (" + strings.Join(l.cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
			if _, err := db.ExecContext(ctx, q, row...); err != nil {
				return fmt.Errorf("seed: %s: %w", l.table, err)
			}
		}
	}
	return nil
}
