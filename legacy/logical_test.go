package legacy_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// logicalSpec maps a SELECT (R2RML's logical table), not a table: final
// results only, with their test's LOINC code joined in the query.
const logicalSpec = `resourceType: Observation
query: >-
  SELECT r.result_id, r.pat_id, r.collected_dttm, r.upd_ts, r.result_val, c.loinc_cd
  FROM lab_result r JOIN lab_test_code c ON c.local_cd = r.local_test_cd
  WHERE r.result_status = 'F'
key: result_id
id: "{{result_id | int}}"
lastUpdated: upd_ts
timezone: America/New_York
template:
  resourceType: Observation
  status: final
  code: {coding: [{system: http://loinc.org, code: "{{loinc_cd}}"}]}
  subject: {reference: "Patient/{{pat_id}}"}
  effectiveDateTime: "{{collected_dttm | datetime}}"
  valueString: "{{result_val}}"
search:
  code: {type: token, codings: [{system: http://loinc.org, column: loinc_cd}]}
  date: {type: date, column: collected_dttm}
`

// TestLogicalTable: a spec over a query binds (its columns and types read
// from the driver), searches, sorts and pages like one over a table.
func TestLogicalTable(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		testutil.Seed(t, db, 5)
		be := boundBackend(t, db, logicalSpec)
		ctx := context.Background()
		var want int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lab_result r JOIN lab_test_code c ON c.local_cd = r.local_test_cd WHERE r.result_status = 'F' AND c.loinc_cd = '2345-7'").Scan(&want); err != nil {
			t.Fatal(err)
		}
		q, err := search.ParseQuery(map[string][]string{"code": {"http://loinc.org|2345-7"}, "_sort": {"-date"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := be.Search(ctx, "Observation", q, backend.SearchOptions{Count: 3, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		if *res.Total != want || want == 0 || len(res.Resources) != min(3, want) {
			t.Fatalf("total %d of %d, page %d", *res.Total, want, len(res.Resources))
		}
		if _, err := be.Read(ctx, "Observation", res.Resources[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := mappings.Load(fstest.MapFS{"o.yaml": {Data: []byte(logicalSpec + "writeBack: {create: true}\n")}}); err == nil {
			t.Error("write-back over a logical table was accepted")
		}
	})
}

// boundBackend is the legacy backend over one spec (YAML), bound to db.
func boundBackend(t *testing.T, db *sqldb.DB, spec string) *legacy.Backend {
	t.Helper()
	reg, err := mappings.Load(fstest.MapFS{"spec.yaml": {Data: []byte(spec)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.BindLive(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return legacy.New(db, reg)
}
