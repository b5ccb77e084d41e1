package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// rssMiB is the process's resident set now.
func rssMiB() int {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.Atoi(f[1])
	return pages * os.Getpagesize() >> 20
}

// cpuSeconds is the process's user+system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// measured runs one job of parts on e and reports lines, wall and CPU.
func measured(t *testing.T, e *bulk.Engine, parts []bulk.Part) (lines int64, wall time.Duration, cpu float64) {
	id, err := e.Submit(context.Background(), "bench", "bench", bulk.Spec{Level: bulk.LevelSystem}, parts)
	if err != nil {
		t.Fatal(err)
	}
	c0, t0 := cpuSeconds(), time.Now()
	if ran, err := e.RunOnce(context.Background(), "bench"); !ran || err != nil {
		t.Fatalf("run: %v %v", ran, err)
	}
	wall, cpu = time.Since(t0), cpuSeconds()-c0
	j, err := e.Job(context.Background(), id)
	if err != nil || j.Status != control.BulkDone {
		t.Fatalf("job: %v %v", j, err)
	}
	for _, p := range j.Parts {
		lines += p.Lines
	}
	return lines, wall, cpu
}

// TestExportThroughput measures a legacy Observation export into a local
// folder: resources per second of wall time and per CPU-second of this
// process (the database's own CPU is not counted), and the RSS at 200k
// lines and at the end (BENCHMARKS.md, "Bulk $export (issue 13)"). It runs
// only with FHIRFACADE_BENCH_EXPORT_DSN naming a database seeded by
// `fhirfacade legacy seed`.
func TestExportThroughput(t *testing.T) {
	dsn := os.Getenv("FHIRFACADE_BENCH_EXPORT_DSN")
	if dsn == "" {
		t.Skip("set FHIRFACADE_BENCH_EXPORT_DSN to a seeded legacy database")
	}
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.BindLive(ctx, db); err != nil {
		t.Fatal(err)
	}
	st, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, _ := strconv.Atoi(os.Getenv("FHIRFACADE_BENCH_EXPORT_PAGE"))
	rss200k, peak := 0, 0
	rt := router{be: legacy.New(db, reg), types: map[string]bool{"Observation": true}}
	e, err := bulk.New(bulk.Config{Store: st, Router: rt, Sink: bulk.Dir{Root: t.TempDir()}, PageSize: page,
		OnCommit: func(_ string, p control.BulkPart) {
			r := rssMiB()
			peak = max(peak, r)
			if rss200k == 0 && p.Lines >= 200_000 {
				rss200k = r
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	lines, wall, cpu := measured(t, e, []bulk.Part{{Type: "Observation"}})
	t.Logf("legacy Observation export: %d resources in %s (%.0f/s wall), %.1f CPU-s (%.0f resources per CPU-second); RSS %d MiB at 200k lines, peak %d MiB, %d MiB at the end",
		lines, wall.Round(time.Millisecond), float64(lines)/wall.Seconds(), cpu, float64(lines)/cpu, rss200k, peak, rssMiB())
}

// TestExportFHIRVsPaging compares exporting a `fhir`-routed type through
// the engine (paging search on the upstream backend, NDJSON written and
// committed per page) with the bare paging of the same search on the
// same server (GET and follow next links, nothing written), side by side.
// It runs only with FHIRFACADE_BENCH_EXPORT_FHIR=N (N patients).
func TestExportFHIRVsPaging(t *testing.T) {
	n, srv, fb, st := benchFHIR(t, "FHIRFACADE_BENCH_EXPORT_FHIR")
	const page = 200
	e, err := bulk.New(bulk.Config{Store: st, Router: router{be: fb, types: map[string]bool{"Patient": true}}, Sink: bulk.Dir{Root: t.TempDir()}, PageSize: page})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		t0 := time.Now()
		got := pageAll(t, srv.URL()+"/Patient?_count="+strconv.Itoa(page))
		paging := time.Since(t0)
		lines, wall, _ := measured(t, e, []bulk.Part{{Type: "Patient"}})
		if got != n || lines != int64(n) {
			t.Fatalf("paging saw %d, export wrote %d, want %d", got, lines, n)
		}
		t.Logf("round %d: %d Patients: upstream paging %s, export %s (ratio %.2f)", round, n, paging.Round(time.Millisecond), wall.Round(time.Millisecond), wall.Seconds()/paging.Seconds())
	}
}

// benchFHIR reads the number of patients a benchmark runs with from the
// variable env (skipping it when unset), starts a test FHIR server
// holding them and opens a control store.
func benchFHIR(t *testing.T, env string) (int, *testutil.FHIRServer, *upstream.Backend, *control.Store) {
	n, _ := strconv.Atoi(os.Getenv(env))
	if n == 0 {
		t.Skip("set " + env + " to a number of patients")
	}
	srv, fb := fhirPatients(t, n)
	st, err := control.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return n, srv, fb, st
}

// fhirPatients starts a test FHIR server (with env) holding the n
// Patients of a seeded legacy database.
func fhirPatients(t *testing.T, n int, env ...string) (*testutil.FHIRServer, *upstream.Backend) {
	ctx := context.Background()
	srv := testutil.StartFHIRServerEnv(t, env...)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	fb := upstream.NewBackend(c)
	db := testutil.SQLite(t)
	lb := legacy.New(db, testutil.Seed(t, db, n))
	res, err := lb.Search(ctx, "Patient", &search.Query{}, backend.SearchOptions{Count: n})
	if err != nil {
		t.Fatal(err)
	}
	var entries []backend.BatchEntry
	for _, r := range res.Resources {
		entries = append(entries, backend.BatchEntry{Method: http.MethodPut, URL: "Patient/" + r.ID, Resource: r.JSON})
	}
	if _, err := backend.BatchOf(fb).Batch(ctx, entries); err != nil {
		t.Fatal(err)
	}
	return srv, fb
}

// TestExportNativeVsPaging compares, on the same server and data, in ABBA
// order per round: a whole export job of a fhir-routed type through the
// server's own $export (Exporter set), the same job paging its search
// (Exporter nil), and the server's own $export alone (kick-off, poll,
// download every file, count lines; nothing written). It runs only with
// FHIRFACADE_BENCH_EXPORT_NATIVE=N (N patients).
func TestExportNativeVsPaging(t *testing.T) {
	n, _, fb, st := benchFHIR(t, "FHIRFACADE_BENCH_EXPORT_NATIVE")
	engine := func(ex backend.BulkExporter) *bulk.Engine {
		e, err := bulk.New(bulk.Config{Store: st, Router: router{be: fb, types: map[string]bool{"Patient": true}}, Sink: bulk.Dir{Root: t.TempDir()}, Exporter: ex})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ways := map[string]func() (int64, time.Duration, float64){
		"native": func() (int64, time.Duration, float64) { return measured(t, engine(fb), []bulk.Part{{Type: "Patient"}}) },
		"paging": func() (int64, time.Duration, float64) {
			return measured(t, engine(nil), []bulk.Part{{Type: "Patient"}})
		},
		"upstream alone": func() (int64, time.Duration, float64) { return upstreamExport(t, fb) },
	}
	order := []string{"native", "paging", "upstream alone"}
	for round := range 6 {
		for i := range order {
			name := order[i]
			if round%2 == 1 {
				name = order[len(order)-1-i]
			}
			lines, wall, cpu := ways[name]()
			if lines != int64(n) {
				t.Fatalf("%s: %d lines, want %d", name, lines, n)
			}
			t.Logf("round %d: %-14s %d Patients in %s (%.0f/s), this process %.2f CPU-s", round, name, n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), cpu)
		}
	}
}

// upstreamExport runs the server's own $export of Patient as a bare
// client would: kick-off, poll honouring Retry-After, download and count
// every file's lines.
func upstreamExport(t *testing.T, fb *upstream.Backend) (int64, time.Duration, float64) {
	ctx := context.Background()
	c0, t0 := cpuSeconds(), time.Now()
	status, err := fb.StartExport(ctx, []string{"Patient"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var m *backend.ExportManifest
	for m == nil {
		var wait time.Duration
		if m, wait, err = fb.ExportStatus(ctx, status); err != nil {
			t.Fatal(err)
		}
		if m == nil {
			time.Sleep(max(wait, 100*time.Millisecond))
		}
	}
	var lines int64
	for _, o := range m.Output {
		rc, err := fb.OpenExportFile(ctx, m, o.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		lines += int64(bytes.Count(b, []byte("\n")))
	}
	wall, cpu := time.Since(t0), cpuSeconds()-c0
	if err := fb.CancelExport(ctx, status); err != nil {
		t.Fatal(err)
	}
	return lines, wall, cpu
}

// pageAll follows a search's next links and counts the entries.
func pageAll(t *testing.T, u string) int {
	n := 0
	for u != "" {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []json.RawMessage
			Link  []struct{ Relation, URL string }
		}
		err = json.NewDecoder(res.Body).Decode(&b)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += len(b.Entry)
		u = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u = l.URL
			}
		}
	}
	return n
}
