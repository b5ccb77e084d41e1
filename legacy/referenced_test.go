package legacy_test

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestDeleteReferenced: a delete the database refuses because rows still
// refer to the row (a seeded Patient with visits and results) is a
// ReferencedError (ErrConflict) naming, sorted, every type with a resource
// that refers to it — whichever way each dialect reports the foreign key
// (PostgreSQL 23503, SQLite's FOREIGN KEY constraint, MariaDB 1451) and
// on both demo schemas (integer keys; uuid keys) — and nothing of the
// tables behind them. The row stays.
func TestDeleteReferenced(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		for _, schema := range []struct {
			name string
			seed func(testing.TB, *sqldb.DB, int) *mappings.Registry
		}{{"demo", testutil.Seed}, {"ehr", testutil.SeedEHR}} {
			t.Run(schema.name, func(t *testing.T) {
				db := open(t)
				reg := schema.seed(t, db, 3)
				be := legacy.New(db, reg)
				ctx := context.Background()
				res, err := be.Search(ctx, "Patient", &search.Query{}, backend.SearchOptions{Count: 1})
				if err != nil || len(res.Resources) != 1 {
					t.Fatalf("a patient: %v", err)
				}
				id := res.Resources[0].ID
				want := referringTypes(t, be, reg, "Patient/"+id)
				if w := strings.Join(want, ","); !strings.Contains(w, "Encounter") || !strings.Contains(w, "Observation") {
					t.Fatalf("the seed's Patient/%s has no visits or results: %v", id, want)
				}
				err = be.Delete(ctx, "Patient", id, "")
				var re *backend.ReferencedError
				if !errors.As(err, &re) || !errors.Is(err, backend.ErrConflict) {
					t.Fatalf("delete: %v, want a ReferencedError", err)
				}
				if strings.Join(re.By, ",") != strings.Join(want, ",") || re.ID != id {
					t.Fatalf("delete names %v for %s, want %v for %s", re.By, re.ID, want, id)
				}
				low := strings.ToLower(err.Error())
				for _, leak := range []string{"pat_master", "patientmaster", "visit", "foreign", "constraint", "sqlstate", "sqlite", "mysql"} {
					if strings.Contains(low, leak) {
						t.Fatalf("the refusal names %q: %s", leak, err)
					}
				}
				if _, err := be.Read(ctx, "Patient", id); err != nil {
					t.Fatalf("the patient after the refused delete: %v", err)
				}
			})
		}
	})
}

// referringTypes are the types, sorted, with a resource found by one of
// their reference search parameters targeting ref's type.
func referringTypes(t *testing.T, be *legacy.Backend, reg *mappings.Registry, ref string) []string {
	t.Helper()
	target, _, _ := strings.Cut(ref, "/")
	var out []string
	for _, typ := range reg.Types() {
		s := reg.Spec(typ)
		for _, p := range s.SearchParams() {
			if s.ReferenceTarget(p) != target {
				continue
			}
			q, err := search.ParseQuery(url.Values{p: {ref}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := be.Search(context.Background(), typ, q, backend.SearchOptions{Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Resources) > 0 {
				out = append(out, typ)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}
