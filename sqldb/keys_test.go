package sqldb_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestTableKeys reads primary and foreign keys of both demo schemas on each
// live legacy dialect, and a composite key; a view has none.
func TestTableKeys(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		ctx := context.Background()
		if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
			t.Fatal(err)
		}
		ehr := ""
		if db.Dialect.Name() == "postgres" { // the EHR schema is under dbo there
			ehr = "dbo"
		}
		hasEHR := db.Dialect.Name() != "mysql"
		if hasEHR {
			if err := migrations.Up(db.DB, migrations.LegacyEHR, db.Dialect.Name()); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			schema, table string
			ehr           bool
			want          string
		}{
			{"", "pat_master", false, "pk [pat_id]"},
			{"", "lab_result", false, "pk [result_id] fk [pat_id]->pat_master[pat_id] fk [visit_id]->visit[visit_id] fk [local_test_cd]->lab_test_code[local_cd]"},
			{ehr, "PatientVisit", true, "pk [VisitGUID] fk [PatientGUID]->PatientMaster[PatientGUID] fk [VisitTypeCode]->VisitType[Code]"},
			{ehr, "vw_LabResultDetail", true, ""},
		} {
			if tc.ehr && !hasEHR {
				continue
			}
			k, err := db.TableKeys(ctx, tc.schema, tc.table)
			if err != nil {
				t.Fatal(err)
			}
			if got := describeKeys(k); !sameFKs(got, tc.want) {
				t.Errorf("%s: got %q, want %q", tc.table, got, tc.want)
			}
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE site_pat (site varchar(10) NOT NULL, mrn varchar(20) NOT NULL, nm varchar(20), PRIMARY KEY (mrn, site))"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE site_visit (id int NOT NULL PRIMARY KEY, site varchar(10), mrn varchar(20), FOREIGN KEY (site, mrn) REFERENCES site_pat (site, mrn))"); err == nil {
			k, err := db.TableKeys(ctx, "", "site_visit")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := describeKeys(k), "pk [id] fk [site mrn]->site_pat[site mrn]"; got != want {
				t.Errorf("composite fk: got %q, want %q", got, want)
			}
		}
		k, err := db.TableKeys(ctx, "", "site_pat")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := describeKeys(k), "pk [mrn site]"; got != want {
			t.Errorf("composite pk: got %q, want %q (key order, not column order)", got, want)
		}
	})
}

func describeKeys(k sqldb.Keys) string {
	s := ""
	if len(k.Primary) > 0 {
		s = fmt.Sprintf("pk %v", k.Primary)
	}
	for _, f := range k.Foreign {
		s += fmt.Sprintf(" fk %v->%s%s%v", f.Columns, f.RefSchema, f.RefTable, f.RefColumns)
	}
	return s
}

// sameFKs compares two descriptions whatever order the foreign keys come in
// (constraint names sort differently per dialect).
func sameFKs(a, b string) bool {
	return sortWords(a) == sortWords(b)
}

func sortWords(s string) string {
	parts := strings.Split(s, " fk ")
	sort.Strings(parts)
	return strings.Join(parts, "|")
}
