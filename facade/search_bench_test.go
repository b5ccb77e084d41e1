package facade_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// benchSearch is bench/run.sh's Observation search (patient, LOINC code,
// date prefix) on the demo schema; searchPatients is how many patients the
// benchmark database holds.
const (
	benchSearch    = "patient=%d&code=http://loinc.org|2345-7&date=ge2023"
	searchPatients = 200
)

// BenchmarkSearchStages splits the cost of one Observation search into the
// facade's layers, on PostgreSQL (FHIRFACADE_TEST_PG), one request at a
// time: the bare database/sql query of the same SQL (sql), the same on a
// native pgx pool (pgx), on the database's Reader, which the legacy backend
// uses (reader: native pgx with the values database/sql gave), the legacy
// backend (+ SQL building, scanning, encoding: backend), the whole HTTP
// handler in process (+ echo, middlewares, parsing, Bundle, log line:
// handler). Besides ns/op (which includes waiting for PostgreSQL) it
// reports the CPU this process spent per search (cpu-µs/op, from
// getrusage), which is what the throughput benchmarks share with
// PostgreSQL on a small machine.
//
//	go test -run '^$' -bench SearchStages -benchmem ./facade
func BenchmarkSearchStages(b *testing.B) {
	dsn := testutil.PostgresDSN(b)
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	reg := testutil.Seed(b, db, searchPatients)
	be := legacy.New(db, reg)
	types := map[string]bool{}
	for _, ty := range reg.Types() {
		types[ty] = true
	}
	srv := facade.New(facade.Config{
		Catalog: catalog.FromSpecs(reg),
		Router:  facade.StaticRouter{Backend: be, Types: types},
		Sealer:  testutil.Sealer(b),
		Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)), // as serve logs, to a sink
		BaseURL: "http://127.0.0.1:8090",
	})
	h := srv.Handler()
	ctx := context.Background()
	spec := reg.Spec("Observation")
	query := func(i int) url.Values {
		v, _ := url.ParseQuery(fmt.Sprintf(benchSearch, 1+i%searchPatients))
		return v
	}
	// stmt is the search's SQL, built once; measure's calls set its
	// patient argument (the last) per iteration
	stmt := func(b *testing.B) mappings.Stmt {
		q, _ := search.ParseQuery(query(0))
		st, _, err := spec.SearchStmt(db.Dialect, searchRequest(b, q))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("sql", func(b *testing.B) {
		st := stmt(b)
		measure(b, func(i int) {
			st.Args[len(st.Args)-1] = fmt.Sprint(1 + i%searchPatients) // the patient id, last
			rows, err := db.QueryContext(ctx, st.SQL, st.Args...)
			if err != nil {
				b.Fatal(err)
			}
			vals := make([]any, spec.NumCols())
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					b.Fatal(err)
				}
			}
			rows.Close()
		})
	})
	b.Run("pgx", func(b *testing.B) {
		// the same statement on a native pgx pool (bench/baseline's driver)
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		st := stmt(b)
		measure(b, func(i int) {
			st.Args[len(st.Args)-1] = fmt.Sprint(1 + i%searchPatients)
			rows, err := pool.Query(ctx, st.SQL, st.Args...)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					b.Fatal(err)
				}
			}
			rows.Close()
		})
	})
	b.Run("reader", func(b *testing.B) {
		// what legacy.Backend runs it on now: db.Reader(), native pgx on
		// PostgreSQL, rows as the values database/sql gave
		st := stmt(b)
		measure(b, func(i int) {
			st.Args[len(st.Args)-1] = fmt.Sprint(1 + i%searchPatients)
			if _, err := db.Reader().QueryRows(ctx, st.SQL, st.Args, spec.NumCols()); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("backend", func(b *testing.B) {
		measure(b, func(i int) {
			q, err := search.ParseQuery(query(i))
			if err != nil {
				b.Fatal(err)
			}
			q.Params[0].Values[0] = "Patient/" + q.Params[0].Values[0]
			if _, err := be.Search(ctx, "Observation", q, backend.SearchOptions{Count: 20, Partial: true}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("handler", func(b *testing.B) {
		measure(b, func(i int) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8090/fhir/Observation?"+fmt.Sprintf(benchSearch, 1+i%searchPatients), nil))
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	})
}

// searchRequest is the request legacy.Backend.Search makes of a query.
func searchRequest(b *testing.B, q *search.Query) mappings.SearchRequest {
	b.Helper()
	q.Params[0].Values[0] = "Patient/" + q.Params[0].Values[0]
	return mappings.SearchRequest{Query: q, Limit: 21, Now: time.Now()}
}

// measure runs fn b.N times and reports the process CPU per call.
func measure(b *testing.B, fn func(i int)) {
	b.ReportAllocs()
	fn(0) // warm: prepared statement, connection
	c0 := cpuTime()
	i := 0
	for b.Loop() {
		fn(i)
		i++
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(i), "cpu-µs/op")
}

// cpuTime is the user and system CPU of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
