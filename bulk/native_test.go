package bulk_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// split routes Patient to the FHIR server and the other types to legacy.
type split struct{ legacy, fhir backend.Backend }

func (s split) Snapshot() backend.Routes { return s }
func (s split) ByName(n string) backend.Backend {
	for _, b := range []backend.Backend{s.legacy, s.fhir} {
		if b.Name() == n {
			return b
		}
	}
	return nil
}
func (s split) BackendFor(t string) backend.Backend {
	if t == "Patient" {
		return s.fhir
	}
	return s.legacy
}

// nativeFixture is a fixture whose Patients live on a fresh test FHIR
// server (started with env) and are routed there.
type nativeFixture struct {
	*fixture
	srv *testutil.FHIRServer
	up  *upstream.Backend
}

func newNativeFixture(t *testing.T, dsn string, patients int, env ...string) *nativeFixture {
	f := newFixture(t, dsn, patients)
	srv := testutil.StartFHIRServerEnv(t, env...)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL(), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	up := upstream.NewBackend(c)
	ctx := context.Background()
	res, err := f.rt.be.Search(ctx, "Patient", &search.Query{}, backend.SearchOptions{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Resources {
		var body map[string]any
		if err := json.Unmarshal(r.JSON, &body); err != nil {
			t.Fatal(err)
		}
		if _, _, err := up.Update(ctx, "Patient", r.ID, body, ""); err != nil {
			t.Fatal(err)
		}
	}
	return &nativeFixture{fixture: f, srv: srv, up: up}
}

func (n *nativeFixture) engine(t *testing.T, sink bulk.Sink, mut func(*bulk.Config)) *bulk.Engine {
	return n.fixture.engine(t, sink, func(c *bulk.Config) {
		c.Router, c.Exporter = split{legacy: n.rt.be, fhir: n.up}, n.up
		if mut != nil {
			mut(c)
		}
	})
}

// TestNativeExport: with the FHIR server offering $export, Patient (routed
// there) is exported by ONE upstream job, copied in pages of its files
// (several per type) and deleted upstream after; the legacy types page. With
// EXPORT=off the same job pages Patient's search instead: the same lines.
func TestNativeExport(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    []string
		native bool
	}{{"export on", []string{"EXPORT_FILE_LINES=7"}, true}, {"export off", []string{"EXPORT=off"}, false}} {
		t.Run(c.name, func(t *testing.T) {
			testutil.DSNs(t, func(t *testing.T, dsn string) { nativeExport(t, dsn, c.env, c.native) })
		})
	}
}

// nativeExport is one case of TestNativeExport.
func nativeExport(t *testing.T, dsn string, env []string, wantNative bool) {
	n := newNativeFixture(t, dsn, 20, env...)
	e := n.engine(t, bulk.Dir{Root: t.TempDir()}, func(cfg *bulk.Config) { cfg.PageSize = 5 })
	id := submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	st := n.srv.ExportStats()
	j, _ := e.Job(context.Background(), id)
	native := strings.HasPrefix(j.Parts[0].Cursor, "$export:")
	// the server's own counts: one job, its 3 files downloaded, deleted after
	if wantNative != native || wantNative != (st.Kickoffs == 1 && st.Downloads >= 3 && st.Deletes == 1) || st.Off == wantNative {
		t.Errorf("native %v: Patient cursor %q, server stats %+v", wantNative, j.Parts[0].Cursor, st)
	}
	if j.Parts[0].Backend != "fhir" || j.Parts[0].ErrLines != 0 {
		t.Errorf("Patient part: %+v", j.Parts[0])
	}
}

// TestNativeResume: a worker stopped at a page boundary, after writing a
// page it never committed, and in the middle of writing a page of the
// upstream's files is resumed by another engine, which polls the same
// upstream job (one kick-off): every resource exactly once.
func TestNativeResume(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 20, "EXPORT_FILE_LINES=7")
	for _, mode := range []string{"boundary", "after", "mid"} {
		t.Run(mode, func(t *testing.T) {
			before := n.srv.ExportStats().Kickoffs
			dir := bulk.Dir{Root: t.TempDir()}
			ctx, cancel := context.WithCancel(context.Background())
			// the 11th write is in Patient's files: the legacy parts run
			// first (8 pages), then Patient's in pages of 5 lines
			sink := &crashSink{Sink: dir, mode: mode, n: 11, cancel: cancel}
			var commits atomic.Int32
			e1 := n.engine(t, sink, func(c *bulk.Config) {
				c.PageSize = 5
				c.OnCommit = func(_ string, p control.BulkPart) {
					if mode == "boundary" && p.Type == "Patient" && p.Pages == 2 && commits.Add(1) == 1 {
						cancel()
					}
				}
			})
			id := submit(t, e1)
			if ran, _ := e1.RunOnce(ctx, "w1"); !ran || !errors.Is(ctx.Err(), context.Canceled) {
				t.Fatalf("first run: ran %v, ctx %v", ran, ctx.Err())
			}
			j, _ := e1.Job(context.Background(), id)
			if p := j.Parts[0]; p.Done || !strings.HasPrefix(p.Cursor, "$export:") {
				t.Fatalf("stopped outside Patient's native copy: %+v", p)
			}
			e2 := n.engine(t, dir, func(c *bulk.Config) { c.PageSize = 5 })
			runToEnd(t, e2)
			n.wantAll(t, e2, id, false)
			if k := n.srv.ExportStats().Kickoffs - before; k != 1 {
				t.Errorf("%d upstream kick-offs, want 1", k)
			}
		})
	}
}

// errorLines reads a part's error file.
func errorLines(t *testing.T, e *bulk.Engine, j *bulk.Job, p control.BulkPart) string {
	rc, err := e.Open(context.Background(), j, bulk.ErrorName(p))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// TestNativeUpstreamFaults: a line of another type in the upstream's
// Patient file is left out (with an error line); an upstream job that
// failed before any of its lines were copied is deleted and Patient paged
// instead; a job cancelled while the upstream builds cancels the upstream
// job.
func TestNativeUpstreamFaults(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6, "EXPORT_DELAY_MS=300")
	ctx := context.Background()
	e := n.engine(t, bulk.Dir{Root: t.TempDir()}, nil)
	n.srv.ExportFault("wrongtype")
	id := submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	j, _ := e.Job(ctx, id)
	if got := errorLines(t, e, j, j.Parts[0]); j.Parts[0].ErrLines != 1 || !strings.Contains(got, "is Basic: left out") {
		t.Errorf("leaked type: %d error lines %q", j.Parts[0].ErrLines, got)
	}

	before := n.srv.ExportStats().Deletes
	n.srv.ExportFault("fail")
	id = submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	j, _ = e.Job(ctx, id)
	if p := j.Parts[0]; j.Status != control.BulkDone || p.ErrLines != 0 || strings.HasPrefix(p.Cursor, "$export:") || n.srv.ExportStats().Deletes != before+1 {
		t.Errorf("failed upstream job: %s, Patient %+v, server stats %+v", j.Status, p, n.srv.ExportStats())
	}

	before = n.srv.ExportStats().Deletes
	id = submit(t, e)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.RunOnce(rctx, "w"); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); n.srv.ExportStats().Kickoffs < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no upstream kick-off")
		}
	}
	if err := e.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	<-done
	stop()
	if d := n.srv.ExportStats().Deletes - before; d < 1 {
		t.Errorf("cancelled job: %d upstream deletes", d)
	}
}

// TestNativeJobGone: an upstream job that vanished (here deleted behind
// the facade's back while the legacy types paged) before any of its lines
// were committed is replaced by a new one: every resource once.
func TestNativeJobGone(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6)
	ctx := context.Background()
	var once atomic.Bool
	var e *bulk.Engine
	e = n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
		c.OnCommit = func(id string, p control.BulkPart) {
			if p.Type == "Patient" || !once.CompareAndSwap(false, true) {
				return
			}
			j, err := e.Job(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			var cur struct{ Status string }
			if err := json.Unmarshal([]byte(strings.TrimPrefix(j.Parts[0].Cursor, "$export:")), &cur); err != nil {
				t.Errorf("Patient cursor %q: %v", j.Parts[0].Cursor, err)
				return
			}
			if err := n.up.CancelExport(ctx, cur.Status); err != nil {
				t.Error(err)
			}
		}
	})
	id := submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	if st := n.srv.ExportStats(); st.Kickoffs != 2 || st.Deletes != 2 {
		t.Errorf("server stats %+v, want 2 kick-offs and 2 deletes", st)
	}
}

// TestNativeStatusUnavailable: the upstream's $export status answering 503
// for a while (here 2 polls, each retried once) is polled through: the
// job completes with every Patient, not without them.
func TestNativeStatusUnavailable(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6)
	var once atomic.Bool
	e := n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
		c.OnCommit = func(_ string, p control.BulkPart) {
			// the legacy types page after the kick-off, before the first poll
			if p.Type != "Patient" && once.CompareAndSwap(false, true) {
				n.srv.Fault(503, 4)
			}
		}
	})
	id := submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	j, _ := e.Job(context.Background(), id)
	if j.Status != control.BulkDone || j.Parts[0].ErrLines != 0 || !strings.HasPrefix(j.Parts[0].Cursor, "$export:") {
		t.Errorf("job %s, Patient %+v", j.Status, j.Parts[0])
	}
}

// TestNativeGoneAfterCopy: an upstream job that vanished after some of its
// lines were committed fails the facade job (naming the type): it never
// completes with a partial Patient file.
func TestNativeGoneAfterCopy(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 20, "EXPORT_FILE_LINES=7")
	ctx, cancel := context.WithCancel(context.Background())
	e1 := n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
		c.PageSize = 5
		c.OnCommit = func(_ string, p control.BulkPart) {
			if p.Type == "Patient" && p.Pages == 1 {
				cancel()
			}
		}
	})
	id := submit(t, e1)
	if ran, _ := e1.RunOnce(ctx, "w1"); !ran {
		t.Fatal("no job")
	}
	j, _ := e1.Job(context.Background(), id)
	if err := n.up.CancelExport(context.Background(), statusOf(t, j.Parts[0])); err != nil {
		t.Fatal(err)
	}
	runToEnd(t, e1)
	st, _, _ := n.store.BulkJob(context.Background(), id)
	if st.Status != control.BulkFailed || !strings.HasPrefix(st.Error, "Patient: ") {
		t.Errorf("job %s (%q), want failed on Patient", st.Status, st.Error)
	}
}

// statusOf is the upstream status URL a native part's cursor names.
func statusOf(t *testing.T, p control.BulkPart) string {
	t.Helper()
	i := strings.Index(p.Cursor, `"status":"`)
	if !strings.HasPrefix(p.Cursor, "$export:") || i < 0 {
		t.Fatalf("not a native cursor: %q", p.Cursor)
	}
	s := p.Cursor[i+len(`"status":"`):]
	return s[:strings.IndexByte(s, '"')]
}

// TestNativeLeaseLostKeepsUpstream: a worker whose lease another worker
// took (here while it wrote a page that then failed) does not delete the
// upstream job the new owner polls.
func TestNativeLeaseLostKeepsUpstream(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6)
	ctx := context.Background()
	// at its first page's write, w1's lease has run out: w2 claims the
	// job, and the write fails
	sink := &crashSink{Sink: bulk.Dir{Root: t.TempDir()}, mode: "fail", n: 1, cancel: func() {
		j, err := n.store.ClaimBulkJob(ctx, "w2", time.Now().Add(time.Hour), time.Hour)
		if err != nil || j == nil {
			t.Errorf("w2 claim: %v %v", j, err)
		}
	}}
	e := n.engine(t, sink, nil)
	id := submit(t, e)
	if ran, _ := e.RunOnce(ctx, "w1"); !ran {
		t.Fatal("w1: no job")
	}
	st := n.srv.ExportStats()
	j, _, _ := n.store.BulkJob(ctx, id)
	if st.Kickoffs != 1 || st.Deletes != 0 || j.Status != control.BulkRunning {
		t.Errorf("after w1 lost its lease: job %s, server stats %+v (want 1 kick-off, 0 deletes)", j.Status, st)
	}
}

// hookExporter runs onStart after each kick-off.
type hookExporter struct {
	backend.BulkExporter
	onStart func()
}

func (h hookExporter) StartExport(ctx context.Context, types []string, since string) (string, error) {
	s, err := h.BulkExporter.StartExport(ctx, types, since)
	h.onStart()
	return s, err
}

// TestNativeCancelOrphans: a job cancelled between the upstream kick-off
// and the commit of its status URL (Cancel finds no upstream job to
// delete), or cancelled behind its worker's back after that commit
// (another facade, whose own delete failed), leaves no upstream job.
func TestNativeCancelOrphans(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6)
	ctx := context.Background()
	var e *bulk.Engine
	var id string
	e = n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
		c.Exporter = hookExporter{BulkExporter: n.up, onStart: func() {
			if err := e.Cancel(ctx, id); err != nil {
				t.Error(err)
			}
		}}
	})
	id = submit(t, e)
	if ran, err := e.RunOnce(ctx, "w"); !ran || err != nil {
		t.Fatalf("ran %v, %v", ran, err)
	}
	if st := n.srv.ExportStats(); st.Kickoffs != 1 || st.Deletes != 1 {
		t.Errorf("cancelled at kick-off: server stats %+v, want 1 kick-off and 1 delete", st)
	}

	var once atomic.Bool
	e = n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
		c.OnCommit = func(jid string, p control.BulkPart) {
			if p.Type != "Patient" && once.CompareAndSwap(false, true) {
				if _, err := n.store.CancelBulkJob(ctx, jid, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}
	})
	submit(t, e)
	if ran, err := e.RunOnce(ctx, "w"); !ran || err != nil {
		t.Fatalf("ran %v, %v", ran, err)
	}
	if st := n.srv.ExportStats(); st.Kickoffs != 2 || st.Deletes != 2 {
		t.Errorf("cancelled behind the worker: server stats %+v, want 2 kick-offs and 2 deletes", st)
	}
}

// TestNativeKickoffBusy: a kick-off the server answers 429 (after the
// client's retries) or 409 (an export already running) leaves Patient to
// paging: the job completes with every Patient.
func TestNativeKickoffBusy(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6)
	ctx := context.Background()
	for _, c := range []struct{ status, n int }{{429, 2}, {409, 1}} {
		e := n.engine(t, bulk.Dir{Root: t.TempDir()}, nil)
		// the CapabilityStatement is cached first: the fault hits the kick-off
		if !n.up.ExportOffered(ctx) {
			t.Fatal("$export not offered")
		}
		before := n.srv.ExportStats().Kickoffs
		n.srv.Fault(c.status, c.n)
		id := submit(t, e)
		runToEnd(t, e)
		n.wantAll(t, e, id, false)
		j, _ := e.Job(ctx, id)
		if j.Status != control.BulkDone || strings.HasPrefix(j.Parts[0].Cursor, "$export:") || n.srv.ExportStats().Kickoffs != before {
			t.Errorf("%d at kick-off: job %s, Patient %+v", c.status, j.Status, j.Parts[0])
		}
	}
}

// TestNativeManifestMismatch: a resumed copy whose cursor names another
// file than the manifest now lists at its index, and a file with another
// count of lines than its manifest's, fail the job (naming Patient)
// instead of completing it with lines missing or twice.
func TestNativeManifestMismatch(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 20, "EXPORT_FILE_LINES=7")
	ctx := context.Background()
	for _, mode := range []string{"other file", "miscount"} {
		t.Run(mode, func(t *testing.T) {
			rctx, cancel := context.WithCancel(ctx)
			e := n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) {
				c.PageSize = 5
				c.OnCommit = func(_ string, p control.BulkPart) {
					if mode == "other file" && p.Type == "Patient" && p.Pages == 1 {
						cancel()
					}
				}
			})
			if mode == "miscount" {
				n.srv.ExportFault("miscount")
			}
			id := submit(t, e)
			e.RunOnce(rctx, "w1")
			if mode == "other file" {
				// the committed cursor is made to name another file
				if j, err := n.store.ClaimBulkJob(ctx, "w9", time.Now(), time.Minute); err != nil || j == nil {
					t.Fatalf("claim: %v %v", j, err)
				}
				_, parts, err := n.store.BulkJob(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				p := parts[0]
				p.Cursor = strings.Replace(p.Cursor, `"url":"`, `"url":"0`, 1)
				if !strings.Contains(p.Cursor, `"url":"0`) {
					t.Fatalf("cursor names no file: %q", p.Cursor)
				}
				if err := n.store.SaveBulkPart(ctx, id, "w9", p, time.Now(), time.Minute); err != nil {
					t.Fatal(err)
				}
				if err := n.store.ReleaseBulkJob(ctx, id, "w9"); err != nil {
					t.Fatal(err)
				}
				runToEnd(t, e)
			}
			st, _, _ := n.store.BulkJob(ctx, id)
			if st.Status != control.BulkFailed || !strings.HasPrefix(st.Error, "Patient: ") {
				t.Errorf("job %s (%q), want failed on Patient", st.Status, st.Error)
			}
		})
	}
}

// TestNativeRetryAfter: the upstream's Retry-After (2 s) is waited in full
// even when it is longer than a third of the lease (here 600 ms), the
// lease renewed meanwhile: few polls, and the job completes.
func TestNativeRetryAfter(t *testing.T) {
	n := newNativeFixture(t, "sqlite://"+t.TempDir()+"/control.db", 6, "EXPORT_DELAY_MS=2500", "EXPORT_RETRY_AFTER=2")
	e := n.engine(t, bulk.Dir{Root: t.TempDir()}, func(c *bulk.Config) { c.Lease = 600 * time.Millisecond })
	id := submit(t, e)
	runToEnd(t, e)
	n.wantAll(t, e, id, false)
	if st := n.srv.ExportStats(); st.Polls > 3 {
		t.Errorf("%d polls while the upstream job built for 2.5 s with Retry-After: 2, want at most 3", st.Polls)
	}
}
