package seed_test

import (
	"context"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestRunDirectory seeds the demo schema in resumed runs and checks the
// provider directory of migration 000002: the fixed tables written once
// (a rerun adds nothing), every visit's attending provider, facility and
// dept, and every result's performer, resolve to a directory row.
func TestRunDirectory(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
			t.Fatal(err)
		}
		const n = 12
		for _, upTo := range []int{5, n, n} {
			if err := seed.Run(ctx, db, seed.Options{Patients: upTo, BatchSize: 4}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string) int {
			var c int
			if err := db.QueryRowContext(ctx, q).Scan(&c); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return c
		}
		for _, c := range []struct {
			q    string
			want int
		}{
			{"SELECT COUNT(*) FROM facility", len(seed.Facilities)},
			{"SELECT COUNT(*) FROM dept", len(seed.Depts)},
			{"SELECT COUNT(*) FROM provider", seed.Providers},
			{"SELECT COUNT(*) FROM provider WHERE provider_id = 'DR0001' OR provider_id = 'DR0040'", 2},
			// every link resolves
			{"SELECT COUNT(*) FROM visit v WHERE v.attending_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM provider p WHERE p.provider_id = v.attending_id)", 0},
			{"SELECT COUNT(*) FROM visit v WHERE NOT EXISTS (SELECT 1 FROM dept d WHERE d.dept_cd = v.dept_cd AND d.facility_id = v.facility_id)", 0},
			{"SELECT COUNT(*) FROM lab_result r WHERE r.performer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM provider p WHERE p.provider_id = r.performer_id)", 0},
		} {
			if got := count(c.q); got != c.want {
				t.Errorf("%s = %d, want %d", c.q, got, c.want)
			}
		}
		// the links are there (not all NULL), with some NULLs left
		visits, results := n*seed.VisitsPerPatient, n*seed.ResultsPerPatient
		if a := count("SELECT COUNT(*) FROM visit WHERE attending_id IS NOT NULL"); a < visits/2 || a == visits {
			t.Errorf("%d of %d visits have an attending provider", a, visits)
		}
		if p := count("SELECT COUNT(*) FROM lab_result WHERE performer_id IS NOT NULL"); p < results/2 || p == results {
			t.Errorf("%d of %d results have a performer", p, results)
		}
	})
}

// TestNPI: every seeded NPI passes the NPI check digit (Luhn over the
// 80840 prefix), computed here independently.
func TestNPI(t *testing.T) {
	var npis []string
	for _, f := range seed.Facilities {
		if f.NPI != "" {
			npis = append(npis, f.NPI)
		}
	}
	npis = append(npis, "1234567893") // the US Core examples' NPI: a known valid one
	for _, v := range npis {
		if len(v) != 10 || !luhn("80840"+v) {
			t.Errorf("NPI %q is not valid", v)
		}
	}
	if luhn("80840" + "1234567890") {
		t.Error("luhn accepts an invalid NPI")
	}
}

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
