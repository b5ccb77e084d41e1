package facade_test

import (
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestUnmappableRow: one stored row the mapping cannot translate (a code
// its map does not know) never fails a whole page: it is left out with a
// warning naming its id, element and column; Prefer: handling=strict and a
// read answer 422 naming them. The value itself (PHI) is never echoed.
func TestUnmappableRow(t *testing.T) {
	testutil.Dialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		if _, err := e.db.Exec("UPDATE pat_master SET sex_cd = 'Z' WHERE pat_id = 3"); err != nil {
			t.Fatal(err)
		}
		r := e.get("/fhir/Patient?_count=10&_sort=_id")
		e.wantStatus(r, 200, "lenient search")
		ids := []string{}
		for _, p := range entries(r, "match") {
			ids = append(ids, p["id"].(string))
		}
		if len(ids) != 9 || strings.Contains(strings.Join(ids, ","), ",3,") {
			t.Errorf("matches %v: want patients 1..10 without 3", ids)
		}
		warn := entries(r, "outcome")
		if len(warn) != 1 || !strings.Contains(outcomeTextOf(warn[0]), "Patient/3") || !strings.Contains(outcomeTextOf(warn[0]), "sex_cd") {
			t.Errorf("want one warning naming Patient/3 and sex_cd, got %v", warn)
		}
		for _, c := range []struct {
			what, path string
			hdr        []string
		}{
			{"strict search", "/fhir/Patient?_count=10&_sort=_id", []string{"Prefer", "handling=strict"}},
			{"read", "/fhir/Patient/3", nil},
		} {
			r := e.get(c.path, c.hdr...)
			e.wantStatus(r, 422, c.what)
			msg := outcomeText(r)
			if !strings.Contains(msg, "Patient/3") || !strings.Contains(msg, "sex_cd") || strings.Contains(msg, `\"Z\"`) || strings.Contains(msg, "'Z'") {
				t.Errorf("%s: outcome %s: want Patient/3 and sex_cd named, the value not", c.what, msg)
			}
		}
	})
}

func outcomeTextOf(oo map[string]any) string {
	return outcomeText(resp{body: oo})
}
