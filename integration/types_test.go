package integration

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestEveryTypeWalks: every type the embedded specs of either demo schema
// map (not a list kept here: a type added by a spec is walked too) is
// copied with sync, passes parity, and moves legacy -> shadow -> fhir ->
// shadow, answering a read and a search page through the facade at every
// step, with the same resource on every route.
func TestEveryTypeWalks(t *testing.T) {
	schemas := []struct {
		name string
		seed func(testing.TB, *sqldb.DB, int) *mappings.Registry
	}{{"demo", testutil.Seed}, {"ehr", testutil.SeedEHR}}
	for _, d := range walkStores[:2] { // SQLite and PostgreSQL
		for _, sc := range schemas {
			t.Run(d.name+"/"+sc.name, func(t *testing.T) {
				db := d.legacy(t)
				walkEveryType(t, db, d.ctl(t), sc.seed(t, db, patients))
			})
		}
	}
}

func walkEveryType(t *testing.T, db *sqldb.DB, ctlDSN string, reg *mappings.Registry) {
	w := newWorldOn(t, db, ctlDSN, false, reg)
	if len(reg.Types()) < 6 {
		t.Fatalf("only %v mapped", reg.Types())
	}
	for _, typ := range reg.Types() {
		id := someID(w, reg, typ)
		onLegacy := w.want(w.do("GET", "/fhir/"+typ+"/"+url.PathEscape(id), ""), 200, "read "+typ+" on legacy").raw
		w.copyAll(typ)
		// as the guard wants it: parity after mirroring began
		for i, st := range []routing.State{routing.Shadow, routing.FHIR, routing.Shadow} {
			if i == 1 {
				w.same(typ)
				w.prove(typ)
			}
			w.flip(typ, st, false)
			what := fmt.Sprintf("%s on %s", typ, st)
			got := w.want(w.do("GET", "/fhir/"+typ+"/"+url.PathEscape(id), ""), 200, "read "+what).raw
			if diff := compare.Diff(onLegacy, got); len(diff) > 0 {
				t.Fatalf("%s/%s on %s differs from legacy at %v", typ, id, st, diff)
			}
			page := w.want(w.do("GET", "/fhir/"+typ+"?_count=5", ""), 200, "search "+what)
			if n := len(page.body["entry"].([]any)); n == 0 {
				t.Fatalf("search %s: empty page", what)
			}
		}
	}
}

// someID is the id of the first legacy resource of typ.
func someID(w *world, reg *mappings.Registry, typ string) string {
	w.t.Helper()
	r := w.want(w.do("GET", "/fhir/"+typ+"?_count=1&_sort=_id", ""), 200, "first "+typ)
	entries, _ := r.body["entry"].([]any)
	if len(entries) == 0 {
		w.t.Fatalf("%s (table of %s) has no seeded rows", typ, reg.Spec(typ).Table)
	}
	return fmt.Sprint(entries[0].(map[string]any)["resource"].(map[string]any)["id"])
}
