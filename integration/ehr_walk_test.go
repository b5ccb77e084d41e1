package integration

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/seed"
)

// TestEHRWalk: the strangler walk on the SQL Server EHR-style demo schema
// (uuid keys, datetimeoffset instants, a view, NULL last-updated rows),
// served from its specs alone: each type is copied into the real test FHIR
// server with sync, holds the same resources on both sides, passes parity,
// and moves legacy → shadow → fhir; reads through the facade then come
// from the FHIR server and equal what legacy served.
func TestEHRWalk(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			db := d.legacy(t)
			w := newWorldOn(t, db, d.ctl(t), false, testutil.SeedEHR(t, db, 12))
			p := seed.EHRPatientData(5)
			read := map[string]string{"Patient": p.GUID, "Encounter": p.Visits[0].GUID, "Observation": p.Results[0].GUID}
			for _, typ := range []string{"Patient", "Encounter", "Observation"} {
				legacyJSON := w.want(w.do("GET", "/fhir/"+typ+"/"+read[typ], ""), 200, "read "+typ+" on legacy").raw
				w.copyAll(typ)
				w.flip(typ, routing.Shadow, false)
				w.same(typ)
				w.prove(typ)
				w.flip(typ, routing.FHIR, false)
				fhirJSON := w.want(w.do("GET", "/fhir/"+typ+"/"+read[typ], ""), 200, "read "+typ+" on fhir").raw
				if diff := compare.Diff(legacyJSON, fhirJSON); len(diff) > 0 {
					t.Fatalf("%s/%s differs after the move at %v:\nlegacy %s\nfhir   %s", typ, read[typ], diff, legacyJSON, fhirJSON)
				}
			}
			r := w.want(w.do("GET", "/fhir/Observation?patient="+p.GUID+"&_count=50", ""), 200, "search on fhir")
			if n := len(r.body["entry"].([]any)); n != seed.EHRResultsPerPatient {
				t.Fatalf("patient 5's Observations on fhir: %d, want %d", n, seed.EHRResultsPerPatient)
			}
		})
	}
}
