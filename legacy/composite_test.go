package legacy_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// compositeSpec serves the EHR-style PatientMaster by its business key,
// site and MRN, instead of its uuid.
const compositeSpec = `resourceType: Patient
table: dbo.PatientMaster
keys: [SiteCode, MRN]
id: "{{SiteCode}}-{{MRN}}"
lastUpdated: ModifiedAt
template:
  resourceType: Patient
  name: [{family: "{{LastName}}"}]
search:
  family: {type: string, columns: [LastName]}
`

// TestCompositeKey: an id over two key columns ({{SiteCode}}-{{MRN}})
// reads, searches by _id, and pages in id order, on SQLite, PostgreSQL
// and MariaDB.
func TestCompositeKey(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		testutil.SeedEHR(t, db, 12)
		be := boundBackend(t, db, compositeSpec)
		ctx := context.Background()
		p := seed.EHRPatientData(3)
		id := p.Site + "-" + p.MRN
		r, err := be.Read(ctx, "Patient", id)
		if err != nil || r.ID != id {
			t.Fatalf("read %s: %v %v", id, r, err)
		}
		if _, err := be.Read(ctx, "Patient", "NOWHERE-"+p.MRN); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("read of another site: %v", err)
		}
		q, _ := search.ParseQuery(map[string][]string{"_id": {id}})
		res, err := be.Search(ctx, "Patient", q, backend.SearchOptions{Count: 5})
		if err != nil || len(res.Resources) != 1 {
			t.Fatalf("_id=%s: %v %v", id, res, err)
		}
		q, _ = search.ParseQuery(map[string][]string{"_sort": {"-_id"}})
		var ids []string
		cursor := ""
		for {
			res, err := be.Search(ctx, "Patient", q, backend.SearchOptions{Count: 5, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Resources {
				ids = append(ids, r.ID)
			}
			if cursor = res.Next; cursor == "" {
				break
			}
		}
		if len(ids) != 12 {
			t.Fatalf("paged %d ids, want 12: %v", len(ids), ids)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("_sort=-_id: %s after %s", ids[i], ids[i-1])
			}
		}
		if _, err := mappings.Load(fstest.MapFS{"p.yaml": {Data: []byte(compositeSpec + "writeBack: {create: true}\n")}}); err == nil {
			t.Error("write-back with a composite key was accepted")
		}
	})
}
