package seed_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"regexp"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// clinicalTables are the clinical lists' tables, their keys, per-patient
// maxima and provider columns.
var clinicalTables = []struct {
	table, key, provider string
	max                  int
}{
	{"problem_list", "prob_id", "noted_by", seed.ProblemsPerPatient},
	{"pat_allergy", "allergy_id", "entered_by", seed.AllergiesPerPatient},
	{"med_order", "order_id", "prescriber_id", seed.MedOrdersPerPatient},
	{"immun_admin", "immun_id", "admin_by", seed.ImmunsPerPatient},
	{"proc_log", "proc_id", "surgeon_id", seed.ProcsPerPatient},
}

// TestClinicalSeed: a seed resumed in batches writes the same clinical rows
// as one run (ids from the patient number, values from per-patient
// streams); every row's id lies in its patient's block; some patients have
// none of a list; provider ids are the shared DR0001..DR0040.
func TestClinicalSeed(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		ctx := context.Background()
		const n = 40
		seeded := func(runs []int) *sqldb.DB {
			db := open(t)
			if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
				t.Fatal(err)
			}
			for _, upTo := range runs {
				if err := seed.Run(ctx, db, seed.Options{Patients: upTo, BatchSize: 7}); err != nil {
					t.Fatal(err)
				}
			}
			return db
		}
		once, resumed := seeded([]int{n}), seeded([]int{13, n, n})
		provider := regexp.MustCompile(`^DR00([0-3][0-9]|40)$`)
		for _, c := range clinicalTables {
			a, b := fingerprint(t, once, c.table, c.key), fingerprint(t, resumed, c.table, c.key)
			if a != b {
				t.Errorf("%s: a resumed seed wrote other rows", c.table)
			}
			rows, err := once.QueryContext(ctx, fmt.Sprintf("SELECT %s, pat_id, %s FROM %s", c.key, c.provider, c.table))
			if err != nil {
				t.Fatal(err)
			}
			withRows := map[int64]bool{}
			for rows.Next() {
				var id, pat int64
				var prov *string
				if err := rows.Scan(&id, &pat, &prov); err != nil {
					t.Fatal(err)
				}
				withRows[pat] = true
				if id <= (pat-1)*int64(c.max) || id > pat*int64(c.max) {
					t.Errorf("%s %d of patient %d: outside the patient's id block", c.table, id, pat)
				}
				if prov != nil && !provider.MatchString(*prov) {
					t.Errorf("%s %d: provider %q", c.table, id, *prov)
				}
			}
			rows.Close()
			if len(withRows) == 0 || len(withRows) == n {
				t.Errorf("%s: %d of %d patients have rows; want some, not all", c.table, len(withRows), n)
			}
		}
	})
}

// fingerprint hashes a table's rows in key order, as text.
func fingerprint(t *testing.T, db *sqldb.DB, table, key string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT * FROM "+table+" ORDER BY "+key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	h := sha256.New()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	count := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(h, "%v\x1f", v)
		}
		h.Write([]byte{'\n'})
		count++
	}
	if count == 0 {
		t.Fatalf("%s: no rows", table)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
