package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type store struct {
	name string
	dsn  func(t *testing.T) string
	// unlock lets the test act as an attacker past the append-only triggers
	unlock string
}

var stores = []store{
	{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "control.db") },
		"DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete"},
	{"postgres", func(t *testing.T) string { return testutil.PostgresDSN(t) },
		"ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"},
}

func open(t *testing.T, s store) *audit.Store {
	t.Helper()
	ctl, err := control.Open(context.Background(), s.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return &audit.Store{DB: ctl.DB}
}

// fill writes n records through a Writer from 16 goroutines at once.
func fill(t *testing.T, st *audit.Store, n int) {
	t.Helper()
	w := audit.NewWriter(st)
	stop := start(w)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 16 {
				errs <- w.Write(context.Background(), &audit.Record{Time: time.Now(), Interaction: "search-type", Type: "Observation", Status: 200, Outcome: "success",
					ClientID: "c", User: "u", Query: fmt.Sprintf("patient=Patient/%d", i), IDs: []string{fmt.Sprintf("Observation/%d", i)}, Patients: []string{fmt.Sprintf("Patient/%d", i), "Patient/x"}})
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err) // not Fatal: fill also runs off the test goroutine
			break
		}
	}
	if !stop() {
		t.Error("Run did not stop")
	}
	if w.Written() != int64(n) {
		t.Errorf("written %d want %d", w.Written(), n)
	}
}

func TestChain(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			cases := []struct {
				name   string
				attack string
				seq    int64
				reason string
			}{
				{"intact", "", 0, ""},
				{"body edited", "UPDATE audit_event SET body = replace(body, '\"client\":\"c\"', '\"client\":\"d\"') WHERE seq = 40", 40, "edited"},
				{"body and hash edited", "UPDATE audit_event SET body = replace(body, '\"status\":200', '\"status\":201'), hash = 'ab' || substr(hash, 3) WHERE seq = 40", 40, "edited"},
				{"row deleted", "DELETE FROM audit_event WHERE seq = 55", 55, "missing"},
				{"first row deleted", "DELETE FROM audit_event WHERE seq = 1", 1, "missing"},
				{"tail deleted", "DELETE FROM audit_event WHERE seq >= 99", 99, "missing"},
				{"rows swapped", "UPDATE audit_event SET body = (SELECT body FROM audit_event WHERE seq = 11) WHERE seq = 10", 10, "edited"},
				// the column export --since filters by: moved out of the window
				// it would hide the record from an export
				{"recorded moved back", "UPDATE audit_event SET recorded = '2000-01-01T00:00:00.000000Z' WHERE seq = 40", 40, "recorded time"},
				{"recorded moved ahead", "UPDATE audit_event SET recorded = '2999-01-01T00:00:00.000000Z' WHERE seq = 70", 70, "recorded time"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					st := open(t, s)
					fill(t, st, 100)
					if tc.attack != "" {
						// the triggers refuse the attack first
						if _, err := st.DB.ExecContext(ctx, tc.attack); err == nil {
							t.Fatal("append-only trigger did not refuse the change")
						}
						for _, stmt := range strings.Split(s.unlock, ";") {
							if _, err := st.DB.ExecContext(ctx, stmt); err != nil {
								t.Fatal(err)
							}
						}
						if _, err := st.DB.ExecContext(ctx, tc.attack); err != nil {
							t.Fatal(err)
						}
					}
					rep, err := st.Verify(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if tc.attack == "" {
						if rep.Problem != nil || rep.Records != 100 || rep.HeadSeq != 100 {
							t.Fatalf("intact chain reported %+v %v", rep, rep.Problem)
						}
						return
					}
					if rep.Problem == nil || rep.Problem.Seq != tc.seq || !strings.Contains(rep.Problem.Reason, tc.reason) {
						t.Fatalf("want problem at %d (%s), got %+v", tc.seq, tc.reason, rep.Problem)
					}
				})
			}
		})
	}
}

// TestExport: every AuditEvent is valid R4; a search over two patients is
// two AuditEvents; --since filters.
func TestExport(t *testing.T) {
	st := open(t, stores[0])
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	recs := []*audit.Record{
		{Time: t0, Interaction: "read", Type: "Patient", Status: 200, ClientID: "app", User: "u1", FHIRUser: "Practitioner/9", Source: "127.0.0.1", IDs: []string{"Patient/1"}, Patients: []string{"Patient/1"}, Backend: "legacy"},
		{Time: t0.Add(time.Minute), Interaction: "search-type", Type: "Observation", Status: 200, ClientID: "app", Query: "code=1234-5", IDs: []string{"Observation/1", "Observation/2"}, Patients: []string{"Patient/1", "Patient/2"}},
		{Time: time.Now(), Interaction: "read", Type: "Patient", Status: 403, Outcome: "denied", Detail: "scope", ClientID: "app"},
		{Time: time.Now(), Interaction: "route-set", Type: "Patient", Detail: "legacy -> shadow: pilot", User: "ops", Source: "cli"},
	}
	if err := st.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := st.Export(ctx, time.Time{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("events %d want 5 (the two-patient search is two)", n)
	}
	sc := bufio.NewScanner(&buf)
	i := 0
	for sc.Scan() {
		i++
		if err := testutil.ValidateFHIR(t, "AuditEvent", sc.Bytes()); err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, sc.Text())
		}
		var ev map[string]any
		_ = json.Unmarshal(sc.Bytes(), &ev)
		if i == 2 || i == 3 {
			ent := ev["entity"].([]any)[0].(map[string]any)["what"].(map[string]any)["reference"]
			if want := fmt.Sprintf("Patient/%d", i-1); ent != want {
				t.Fatalf("event %d first entity %v want %s", i, ent, want)
			}
		}
	}
	buf.Reset()
	if n, err = st.Export(ctx, time.Now().Add(-time.Minute), &buf); err != nil || n != 2 {
		t.Fatalf("since: %d %v", n, err)
	}
}

// TestTwoWritersOneChain: two writers on separate connections (two facade
// processes sharing a PostgreSQL control store) extend one chain without
// forking it.
func TestTwoWritersOneChain(t *testing.T) {
	dsn := testutil.PostgresDSN(t)
	ctx := context.Background()
	var stores []*audit.Store
	for i := 0; i < 2; i++ {
		ctl, err := control.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctl.Close() })
		stores = append(stores, &audit.Store{DB: ctl.DB})
	}
	var wg sync.WaitGroup
	for _, st := range stores {
		wg.Add(1)
		go func(st *audit.Store) {
			defer wg.Done()
			fill(t, st, 300)
		}(st)
	}
	wg.Wait()
	rep, err := stores[0].Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil || rep.Records != 600 {
		t.Fatalf("%d records, problem %v", rep.Records, rep.Problem)
	}
}

// TestAsyncDrainsOnStop: records enqueued without waiting (async mode) are
// all stored, in one chain, including those still queued when Run stops.
func TestAsyncDrainsOnStop(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := open(t, s)
			w := audit.NewWriter(st)
			stop := start(w)
			n := 0
			for i := 0; i < 3000; i++ {
				if err := w.Enqueue(&audit.Record{Time: time.Now(), Interaction: "read", Type: "Patient", Status: 200, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", i)}}); err == nil {
					n++
				}
			}
			if !stop() { // with records still queued
				t.Fatal("Run did not stop")
			}
			if n == 0 || w.Written() != int64(n) {
				t.Fatalf("accepted %d, written %d", n, w.Written())
			}
			rep, err := st.Verify(context.Background())
			if err != nil || rep.Problem != nil || rep.Records != int64(n) {
				t.Fatalf("verify: %v %+v", err, rep)
			}
		})
	}
}

// TestOutageFailsFast: while the store is down and retained records wait
// for a retry, a caller waiting on its own record is told at once (it
// answers 503 in milliseconds, not when the outage ends); once the store is
// back the retained records are stored, in order, and the chain verifies.
func TestOutageFailsFast(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := open(t, s)
			w := audit.NewWriter(st)
			stop := start(w)
			defer func() {
				if !stop() {
					t.Error("Run did not stop")
				}
			}()
			rec := func(i int) *audit.Record {
				return &audit.Record{Time: time.Now(), Interaction: "create", Type: "Patient", Status: 201, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", i)}}
			}
			bg := context.Background()
			restore := outage(t, st, w, 3)
			for i := range 3 {
				wctx, wcancel := context.WithTimeout(bg, 10*time.Second)
				start := time.Now()
				err := w.Write(wctx, rec(100+i))
				wcancel()
				if !errors.Is(err, audit.ErrUnavailable) || time.Since(start) > time.Second {
					t.Fatalf("a waiting caller during the outage: %v after %v", err, time.Since(start))
				}
			}
			restore()
			deadline := time.Now().Add(15 * time.Second)
			for w.Written() < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("retained records not stored after the outage (%d)", w.Written())
				}
				time.Sleep(20 * time.Millisecond)
			}
			var ids []string
			_ = st.Each(bg, time.Time{}, func(r *audit.Record) error { ids = append(ids, r.IDs[0]); return nil })
			if strings.Join(ids, ",") != "Patient/0,Patient/1,Patient/2" {
				t.Fatalf("stored %v", ids)
			}
			if rep, err := st.Verify(bg); err != nil || rep.Problem != nil {
				t.Fatalf("verify: %v %+v", err, rep)
			}
		})
	}
}

// TestStopDuringOutage: stopping while the store is down and records wait
// for a retry ends after a few retries (shutdown is not held by the
// outage), and the records given up are counted.
func TestStopDuringOutage(t *testing.T) {
	st := open(t, stores[0])
	w := audit.NewWriter(st)
	stop := start(w)
	outage(t, st, w, 2)
	if !stop() {
		t.Fatal("Run is held by the outage after its context ended")
	}
	if w.Dropped() != 2 || w.Written() != 0 {
		t.Fatalf("dropped %d written %d, want 2 and 0", w.Dropped(), w.Written())
	}
}

// outage takes the chain head away (a real fault in the real store), keeps
// n records of answered writes in w and waits until w knows the store is
// down; the returned func brings the head back.
func outage(t *testing.T, st *audit.Store, w *audit.Writer, n int) (restore func()) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.DB.ExecContext(ctx, "ALTER TABLE audit_head RENAME TO audit_head_away"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Retain(&audit.Record{Time: time.Now(), Interaction: "create", Type: "Patient", Status: 201, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("the writer never noticed the store was down")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() {
		if _, err := st.DB.ExecContext(ctx, "ALTER TABLE audit_head_away RENAME TO audit_head"); err != nil {
			t.Fatal(err)
		}
	}
}

// start runs w; stop ends it and reports whether Run returned within 10 s.
func start(w *audit.Writer) (stop func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	return func() bool {
		cancel()
		select {
		case <-done:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}
}

// TestWriterMetrics: every stored record is counted in a batch, and every
// batch has its commit time.
func TestWriterMetrics(t *testing.T) {
	st := open(t, stores[0])
	w := audit.NewWriter(st)
	reg := prometheus.NewRegistry()
	w.Instrument(reg)
	stop := start(w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := w.Write(context.Background(), &audit.Record{Time: time.Now(), Interaction: "read", Type: "Patient", Status: 200, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", g*100+i)}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if !stop() {
		t.Fatal("Run did not stop")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.Histogram{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetHistogram()
	}
	size, commit := got["fhirfacade_audit_batch_records"], got["fhirfacade_audit_commit_seconds"]
	if size == nil || commit == nil || size.GetSampleSum() != 200 || size.GetSampleCount() != commit.GetSampleCount() || commit.GetSampleSum() <= 0 {
		t.Fatalf("batch sizes %v, commit times %v", size, commit)
	}
}

// TestLongOutageKeepsRecords: an outage longer than shutdown's few retries
// does not drop the records waiting for a retry while the writer is still
// running; they are stored once the store is back.
func TestLongOutageKeepsRecords(t *testing.T) {
	st := open(t, stores[0])
	w := audit.NewWriter(st)
	stop := start(w)
	defer stop()
	restore := outage(t, st, w, 3)
	time.Sleep(1500 * time.Millisecond) // past 100+200+300+400 ms of retries
	restore()
	deadline := time.Now().Add(15 * time.Second)
	for w.Written() < 3 {
		if time.Now().After(deadline) || w.Dropped() > 0 {
			t.Fatalf("written %d, dropped %d after a 1.5 s outage", w.Written(), w.Dropped())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestChainWrittenBeforeVerifies: a record as an earlier version wrote it
// (body, recorded truncated to the microsecond, hash) still verifies: the
// recorded check adds no hash version, old chains need no migration.
func TestChainWrittenBeforeVerifies(t *testing.T) {
	const body = `{"time":"2026-01-02T03:04:05.123456789Z","interaction":"read","type":"Patient","status":200,"outcome":"success","client":"app","source":"127.0.0.1","requestId":"0123456789abcdef01234567","method":"GET","path":"/fhir/Patient/1","ids":["Patient/1"],"patients":["Patient/1"],"backend":"legacy"}`
	const hash = "3c52251122b5398c3979802d9fae60a0d8ba4c6c312e827c566353fbc0b1b656" // SHA-256(genesis ‖ "\n1\n" ‖ body)
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := open(t, s)
			ctx := context.Background()
			p := st.DB.Dialect.Placeholder
			if _, err := st.DB.ExecContext(ctx, fmt.Sprintf("INSERT INTO audit_event (seq, recorded, body, prev_hash, hash) VALUES (1, '2026-01-02T03:04:05.123456Z', %s, %s, %s)", p(1), p(2), p(3)),
				body, strings.Repeat("0", 64), hash); err != nil {
				t.Fatal(err)
			}
			if _, err := st.DB.ExecContext(ctx, fmt.Sprintf("UPDATE audit_head SET seq = 1, hash = %s WHERE id = 1", p(1)), hash); err != nil {
				t.Fatal(err)
			}
			rep, err := st.Verify(ctx)
			if err != nil || rep.Problem != nil || rep.Records != 1 {
				t.Fatalf("verify: %v %+v", err, rep)
			}
			var buf bytes.Buffer
			if n, err := st.Export(ctx, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), &buf); err != nil || n != 1 {
				t.Fatalf("export: %d %v", n, err)
			}
		})
	}
}

// TestExportRefusesEditedRecorded: a record whose recorded column no
// longer matches its hashed time stops an export that reads it (verify
// names every such record, also one moved out of the export's window).
func TestExportRefusesEditedRecorded(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := open(t, s)
			ctx := context.Background()
			fill(t, st, 10)
			for _, stmt := range strings.Split(s.unlock, ";") {
				if _, err := st.DB.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.DB.ExecContext(ctx, "UPDATE audit_event SET recorded = '2999-01-01T00:00:00.000000Z' WHERE seq = 5"); err != nil {
				t.Fatal(err)
			}
			_, err := st.Export(ctx, time.Now().Add(time.Hour), io.Discard)
			if !errors.Is(err, audit.ErrEdited) || !strings.Contains(err.Error(), "record 5") {
				t.Fatalf("export of an edited record: %v", err)
			}
		})
	}
}

// TestWriteManyOneCommit: the records of one Write (a Bundle's entries)
// are committed together in one batch, in order, and the chain holds.
func TestWriteManyOneCommit(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind.name, func(t *testing.T) {
			st := open(t, kind)
			w := audit.NewWriter(st)
			reg := prometheus.NewRegistry()
			w.Instrument(reg)
			stop := start(w)
			recs := make([]*audit.Record, 100)
			for i := range recs {
				recs[i] = &audit.Record{Time: time.Now(), Interaction: "create", Type: "Patient", Status: 201, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", i)}}
			}
			if err := w.Write(context.Background(), recs...); err != nil {
				t.Fatal(err)
			}
			if !stop() {
				t.Fatal("Run did not stop")
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if h := mf.GetMetric()[0].GetHistogram(); mf.GetName() == "fhirfacade_audit_batch_records" && (h.GetSampleCount() != 1 || h.GetSampleSum() != 100) {
					t.Fatalf("%d batches holding %v records, want 1 holding 100", h.GetSampleCount(), h.GetSampleSum())
				}
			}
			var ids []string
			_ = st.Each(context.Background(), time.Time{}, func(r *audit.Record) error { ids = append(ids, r.IDs[0]); return nil })
			if len(ids) != 100 || ids[0] != "Patient/0" || ids[99] != "Patient/99" {
				t.Fatalf("stored %d records, first %v", len(ids), ids[:min(len(ids), 2)])
			}
			if rep, err := st.Verify(context.Background()); err != nil || rep.Problem != nil {
				t.Fatalf("verify: %v %v", err, rep.Problem)
			}
		})
	}
}
