package seed

import (
	"fmt"
	"time"
)

// day is t's calendar date in the site's zone, for a date column.
func (a ehrArgs) day(t time.Time, std int) any {
	l := usLocal(t, std)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	return a.date(&d)
}

func (a ehrArgs) problems(p *EHRPatient) [][]any {
	r, std := stream(int64(p.N), saltEHRProblem), ehrStd(p)
	var rows [][]any
	for k, n := 1, r.IntN(EHRProblemsPerPatient+1); k <= n; k++ {
		dx := r.IntN(len(Problems))
		listType, visit := "P", any(nil)
		status := any(pick(r, []string{"Active", "Inactive", "Resolved", "Remission"}, []int{6, 1, 2, 1}))
		verify := any(pick(r, []string{"C", "U", "P", "D"}, []int{7, 1, 1, 1}))
		onset := past(r, 15*365)
		noted := onset.Add(time.Duration(r.IntN(90*24*60)) * time.Minute)
		if v := ehrSeen(r, p); v != nil && r.IntN(3) == 0 {
			// a visit diagnosis: noted during the visit, its status often not kept
			listType, visit, verify = "V", v.GUID, "C"
			onset, noted = v.Admit, v.Admit.Add(time.Duration(5+r.IntN(120))*time.Minute)
			status = map[bool]any{true: nil, false: "Active"}[r.IntN(2) == 0]
		}
		var resolved any
		if status == "Resolved" {
			resolved = a.day(onset.AddDate(0, 0, 7+r.IntN(365)), std)
		}
		if r.IntN(8) == 0 {
			verify = nil // older rows carry no verification
		}
		var recorded, by any
		if r.IntN(10) != 0 {
			recorded, by = a.recorded(noted, std, k), ehrClinician(r)
		}
		rows = append(rows, []any{ehrKey("ProblemList", p.N, k), p.GUID, visit, EHRDiagnosisCode(dx), listType, status, verify,
			a.day(onset, std), resolved, recorded, by, a.bit(r.IntN(15) == 0), a.stamp7(r, noted, std)})
	}
	return rows
}

func (a ehrArgs) allergies(p *EHRPatient) [][]any {
	r, std := stream(int64(p.N), saltEHRAllergy), ehrStd(p)
	types := map[string]string{"M": "Drug", "F": "Food", "E": "Environment"}
	var rows [][]any
	perm := r.Perm(len(Allergens))
	for k, n := 1, r.IntN(EHRAllergiesPerPatient+1); k <= n; k++ {
		al := Allergens[perm[k-1]]
		status := pick(r, []string{"A", "I", "R"}, []int{17, 2, 1})
		verify := any(pick(r, []string{"C", "U"}, []int{4, 1}))
		crit := any(pick(r, []string{"High", "Low", "Unable"}, []int{3, 5, 1}))
		if r.IntN(6) == 0 {
			crit = nil
		}
		var rxn, rxnText, sev any
		if r.IntN(10) < 7 {
			x := reactions[r.IntN(len(reactions))]
			rxn, rxnText, sev = x[0], x[1], []string{"Mild", "Moderate", "Severe"}[r.IntN(3)]
		}
		at := past(r, 10*365)
		rows = append(rows, []any{ehrKey("PatientAllergy", p.N, k), p.GUID, al.SNOMED, al.Desc, types[al.Cat], crit, status, verify,
			rxn, rxnText, sev, a.recorded(at, std, k), ehrClinician(r), a.stamp3(r, at)})
	}
	return rows
}

func (a ehrArgs) orders(p *EHRPatient) [][]any {
	r, std := stream(int64(p.N), saltEHROrder), ehrStd(p)
	var rows [][]any
	for k, n := 1, r.IntN(EHROrdersPerPatient+1); k <= n; k++ {
		d := Drugs[r.IntN(len(Drugs))]
		status := pick(r, []string{"Active", "Completed", "Discontinued", "OnHold", "Cancelled"}, []int{10, 6, 2, 1, 1})
		class := pick(r, []string{"O", "P"}, []int{17, 3})
		at := past(r, 5*365)
		var visit, qty, sig any
		if v := ehrSeen(r, p); v != nil && r.IntN(5) < 3 {
			visit, at = v.GUID, v.Admit.Add(time.Duration(10+r.IntN(60))*time.Minute)
		}
		if r.IntN(4) != 0 {
			qty = fmt.Sprintf("%d.%s", []int{30, 60, 90, 14}[r.IntN(4)], []string{"00", "50"}[r.IntN(2)])
		}
		if r.IntN(9) != 0 {
			sig = sigs[r.IntN(len(sigs))]
		}
		rows = append(rows, []any{ehrKey("MedicationOrder", p.N, k), p.GUID, visit, d.Local, status, class, sig, qty,
			a.recorded(at, std, k), ehrClinician(r), a.stamp7(r, at, std)})
	}
	return rows
}

func (a ehrArgs) vaccines(p *EHRPatient) [][]any {
	r, std := stream(int64(p.N), saltEHRVaccine), ehrStd(p)
	var rows [][]any
	for k, n := 1, r.IntN(EHRVaccinesPerPatient+1); k <= n; k++ {
		v := Vaccines[r.IntN(len(Vaccines))]
		at := past(r, 8*365)
		status, src := "G", any(pick(r, []string{"Y", "N"}, []int{4, 1}))
		var visit, refusal, lot, dose, by any
		if r.IntN(10) == 0 {
			status, refusal = "R", refusals[r.IntN(len(refusals))]
		} else {
			lot, dose, by = fmt.Sprintf("LOT%05d", r.IntN(100000)), []string{"0.50", "0.25", "1.00"}[r.IntN(3)], ehrClinician(r)
		}
		if vis := ehrSeen(r, p); vis != nil && r.IntN(3) == 0 {
			visit, at = vis.GUID, vis.Admit.Add(time.Duration(20+r.IntN(60))*time.Minute)
		}
		if r.IntN(7) == 0 {
			src = nil
		}
		rows = append(rows, []any{ehrKey("VaccineAdministration", p.N, k), p.GUID, visit, v.CVX, status, refusal,
			a.recorded(at, std, k), src, lot, dose, by, a.stamp7(r, at, std)})
	}
	return rows
}

func (a ehrArgs) procedures(p *EHRPatient) [][]any {
	r, std := stream(int64(p.N), saltEHRProcedure), ehrStd(p)
	var rows [][]any
	for k, n := 1, r.IntN(EHRProceduresPerPatient+1); k <= n; k++ {
		c := ProcCodes[r.IntN(len(ProcCodes))]
		status := pick(r, []string{"C", "I", "N"}, []int{17, 1, 2})
		start := past(r, 10*365)
		var visit, end, surgeon any
		if v := ehrSeen(r, p); v != nil && r.IntN(2) == 0 {
			visit, start = v.GUID, v.Admit.Add(time.Duration(15+r.IntN(240))*time.Minute)
		}
		if status == "C" {
			// a completed procedure has its end; one in progress is open
			end = a.recorded(start.Add(time.Duration(15+r.IntN(180))*time.Minute), std, k)
		}
		if status != "N" {
			surgeon = ehrClinician(r)
		}
		cpt := any(c.CPT)
		if r.IntN(6) == 0 {
			cpt = nil // recorded by SNOMED CT only
		}
		rows = append(rows, []any{ehrKey("ProcedureHistory", p.N, k), p.GUID, visit, cpt, nz(c.SNOMED), c.Desc, status,
			a.recorded(start, std, k), end, surgeon, a.stamp3(r, start)})
	}
	return rows
}
