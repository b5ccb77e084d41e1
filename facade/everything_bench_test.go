package facade_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// BenchmarkEverything: $everything of a patient with 500 resources (the
// Patient, 66 Encounters, 433 Observations) on legacy PostgreSQL, against
// the baseline of fetching the same resources with one search per type.
// Reports the p50 of the iterations.
//
//	go test ./facade/ -run '^$' -bench BenchmarkEverything -benchtime 200x
func BenchmarkEverything(b *testing.B) {
	db := testutil.Postgres(b)
	base := everythingFixture(b, db)
	cases := []struct {
		metric string
		paths  []string
	}{
		{"everything-p50-ms", []string{"/fhir/Patient/1/$everything?_count=1000"}},
		{"everything-paged100-p50-ms", []string{"/fhir/Patient/1/$everything?_count=100"}},
		{"per-type-p50-ms", []string{"/fhir/Patient/1", "/fhir/Encounter?subject=Patient/1&_count=1000", "/fhir/Observation?subject=Patient/1&_count=1000"}},
	}
	// the variants alternate within each iteration (in a rotating order),
	// so that the machine's noise falls on all of them alike
	lat := make([][]time.Duration, len(cases))
	i := 0
	for b.Loop() {
		for k := range cases {
			c := cases[(i+k)%len(cases)]
			start := time.Now()
			n := 0
			for _, p := range c.paths {
				n += fetchAll(b, base+p)
			}
			lat[(i+k)%len(cases)] = append(lat[(i+k)%len(cases)], time.Since(start))
			if n != 500 {
				b.Fatalf("%s: %d resources, want 500", c.metric, n)
			}
		}
		i++
	}
	p50 := make([]float64, len(cases))
	for k, c := range cases {
		sort.Slice(lat[k], func(i, j int) bool { return lat[k][i] < lat[k][j] })
		p50[k] = float64(lat[k][len(lat[k])/2].Microseconds()) / 1000
		b.ReportMetric(p50[k], c.metric)
	}
	b.ReportMetric(p50[0]/p50[2], "everything/per-type")
}

// everythingFixture seeds 22 demo patients, gives patient 1 all their
// visits and 433 of their results (500 resources with the Patient), and
// serves them; it returns the server's URL.
func everythingFixture(b *testing.B, db *sqldb.DB) string {
	reg := testutil.Seed(b, db, 22)
	ctx := context.Background()
	for _, q := range []string{"DELETE FROM lab_result WHERE result_id > 433", "UPDATE visit SET pat_id = 1", "UPDATE lab_result SET pat_id = 1"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	types := map[string]bool{"Patient": true, "Encounter": true, "Observation": true}
	srv := testutil.Serve(b, func(base string) http.Handler {
		return facade.New(facade.Config{
			Catalog: catalog.FromSpecs(reg),
			Router:  facade.StaticRouter{Backend: legacy.New(db, reg), Types: types},
			Sealer:  testutil.Sealer(b),
			Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
			BaseURL: base,
		}).Handler()
	})
	return srv.URL
}

// fetchAll reads a resource or a search with its next pages and counts
// the resources.
func fetchAll(b *testing.B, url string) int {
	n := 0
	for url != "" {
		res, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		var body struct {
			ResourceType string            `json:"resourceType"`
			Entry        []json.RawMessage `json:"entry"`
			Link         []struct{ Relation, URL string }
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%s: %d %v", url, res.StatusCode, err)
		}
		if body.ResourceType != "Bundle" {
			return 1
		}
		n += len(body.Entry)
		url = ""
		for _, l := range body.Link {
			if l.Relation == "next" {
				url = l.URL
			}
		}
	}
	return n
}
