package facade_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// benchCreates is how many Patients one iteration creates.
const benchCreates = 100

// BenchmarkTransaction: 100 Patients created over HTTP by one 100-entry
// transaction, and by 100 single POSTs, side by side in the same run, on
// legacy SQLite and PostgreSQL (auth and audit off: what is compared is
// the writing, not the per-request middlewares).
//
//	go test -run '^$' -bench Transaction -benchtime 20x ./facade
func BenchmarkTransaction(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *sqldb.DB
	}{{"sqlite", testutil.SQLite}, {"postgres", testutil.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			base := benchServer(b, d.open)
			n := 0
			mrn := func() string { n++; return fmt.Sprintf("MRN-BENCH-%d", n) }
			b.Run("100 single creates", func(b *testing.B) {
				for b.Loop() {
					for i := 0; i < benchCreates; i++ {
						benchPost(b, base+"/fhir/Patient", patientJSON(mrn()), http.StatusCreated)
					}
				}
			})
			b.Run("one 100-entry transaction", func(b *testing.B) {
				for b.Loop() {
					es := make([]string, benchCreates)
					for i := range es {
						es[i] = post("", "Patient", patientJSON(mrn()))
					}
					benchPost(b, base+"/fhir", bundleOf("transaction", es...), http.StatusOK)
				}
			})
		})
	}
}

func benchServer(b *testing.B, open func(testing.TB) *sqldb.DB) string {
	db := open(b)
	reg := testutil.Seed(b, db, 10)
	types := map[string]bool{}
	for _, ty := range reg.Types() {
		types[ty] = true
	}
	hs := testutil.Serve(b, func(base string) http.Handler {
		return facade.New(facade.Config{
			Catalog: catalog.FromSpecs(reg),
			Router:  facade.StaticRouter{Backend: legacy.New(db, reg), Types: types},
			Sealer:  testutil.Sealer(b),
			Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Ready:   map[string]func(context.Context) error{"legacy": db.PingContext},
			BaseURL: base,
		}).Handler()
	})
	return hs.URL
}

func benchPost(b *testing.B, url, body string, want int) {
	res, err := http.Post(url, "application/fhir+json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("POST %s: %d, want %d: %s", url, res.StatusCode, want, raw)
	}
}
