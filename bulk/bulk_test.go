package bulk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
)

// router serves every type of types from one backend.
type router struct {
	be    backend.Backend
	types map[string]bool
}

func (r router) Snapshot() backend.Routes { return r }
func (r router) ByName(n string) backend.Backend {
	if r.be.Name() == n {
		return r.be
	}
	return nil
}
func (r router) BackendFor(t string) backend.Backend {
	if r.types[t] {
		return r.be
	}
	return nil
}

var exportTypes = []string{"Patient", "Encounter", "Observation"}

// fixture is a seeded legacy database and a control store.
type fixture struct {
	store *control.Store
	rt    router
}

func newFixture(t *testing.T, dsn string, patients int) *fixture {
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, patients)
	st, err := control.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	types := map[string]bool{}
	for _, ty := range exportTypes {
		types[ty] = true
	}
	return &fixture{store: st, rt: router{be: legacy.New(db, reg), types: types}}
}

func (f *fixture) engine(t *testing.T, sink bulk.Sink, mut func(*bulk.Config)) *bulk.Engine {
	cfg := bulk.Config{Store: f.store, Router: f.rt, Sink: sink, PageSize: 50, MaxJobs: 2}
	if mut != nil {
		mut(&cfg)
	}
	e, err := bulk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) count(t *testing.T, typ string) int {
	res, err := f.rt.be.Search(context.Background(), typ, &search.Query{}, backend.SearchOptions{Total: true})
	if err != nil {
		t.Fatal(err)
	}
	return *res.Total
}

func submit(t *testing.T, e *bulk.Engine) string {
	parts := make([]bulk.Part, len(exportTypes))
	for i, ty := range exportTypes {
		parts[i] = bulk.Part{Type: ty}
	}
	id, err := e.Submit(context.Background(), "owner", "http://x/fhir/$export", bulk.Spec{Level: bulk.LevelSystem, Format: "application/fhir+ndjson"}, parts)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// runToEnd runs jobs until none is left to claim.
func runToEnd(t *testing.T, e *bulk.Engine) {
	for range 10 {
		ran, err := e.RunOnce(context.Background(), "w")
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

// ids reads every line of every output file of the job, checks each is
// valid R4 of its type, and returns the ids per type (duplicates kept).
func ids(t *testing.T, e *bulk.Engine, id string, validate bool) map[string][]string {
	j, err := e.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != control.BulkDone {
		t.Fatalf("job %s is %s (%s)", id, j.Status, j.Error)
	}
	out := map[string][]string{}
	for _, p := range j.Parts {
		rc, err := e.Open(context.Background(), j, bulk.OutputName(p))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		n := 0
		for sc.Scan() {
			var r struct{ ResourceType, ID string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ResourceType != p.Type {
				t.Fatalf("%s line %d: %v %q", p.Type, n, err, sc.Text())
			}
			if validate {
				if err := testutil.ValidateFHIR(t, p.Type, sc.Bytes()); err != nil {
					t.Fatalf("%s/%s: %v", p.Type, r.ID, err)
				}
			}
			out[p.Type] = append(out[p.Type], r.ID)
			n++
		}
		rc.Close()
		if int64(n) != p.Lines {
			t.Errorf("%s: %d lines in the file, %d committed", p.Type, n, p.Lines)
		}
	}
	return out
}

// TestExportLegacy: every type's NDJSON holds exactly the type's
// _summary=count resources, each valid R4, on both control stores.
func TestExportLegacy(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, 12)
		e := f.engine(t, bulk.Dir{Root: t.TempDir()}, nil)
		id := submit(t, e)
		runToEnd(t, e)
		f.wantAll(t, e, id, true)
	})
}

// wantAll checks every type's file holds each of its resources once (and
// with validate, that each is valid R4).
func (f *fixture) wantAll(t *testing.T, e *bulk.Engine, id string, validate bool) {
	t.Helper()
	got := ids(t, e, id, validate)
	for _, ty := range exportTypes {
		if n := f.count(t, ty); len(got[ty]) != n || n == 0 {
			t.Errorf("%s: %d lines, _summary=count says %d", ty, len(got[ty]), n)
		}
		if d := dups(got[ty]); d != "" {
			t.Errorf("%s: duplicate %s", ty, d)
		}
	}
}

func dups(ids []string) string {
	s := append([]string(nil), ids...)
	sort.Strings(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return s[i]
		}
	}
	return ""
}

// crashSink stops the worker once, at the n-th page write of any file
// with content: mode "after" cancels after the page is written whole
// (written, never committed), "mid" writes half of it first, "fail"
// fails the write with errDisk (cancel is then any hook).
var errDisk = errors.New("disk full")

type crashSink struct {
	bulk.Sink
	mode   string
	n      int32
	writes atomic.Int32
	cancel context.CancelFunc
}

func (c *crashSink) Append(ctx context.Context, job, name string, committed int64) (bulk.Writer, error) {
	w, err := c.Sink.Append(ctx, job, name, committed)
	return &crashWriter{Writer: w, s: c}, err
}

type crashWriter struct {
	bulk.Writer
	s *crashSink
}

func (w *crashWriter) Write(ctx context.Context, page []byte) error {
	if len(page) == 0 || w.s.writes.Add(1) != w.s.n {
		return w.Writer.Write(ctx, page)
	}
	w.s.cancel()
	if w.s.mode == "fail" {
		return errDisk
	}
	if w.s.mode == "mid" {
		if err := w.Writer.Write(ctx, page[:len(page)/2]); err != nil {
			return err
		}
		return context.Canceled
	}
	return w.Writer.Write(ctx, page)
}

// TestResume: a worker stopped at a page boundary, after writing a page it
// never committed, and in the middle of writing a page is resumed by
// another engine: the files hold every resource exactly once.
func TestResume(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/control.db", 10)
	want := map[string]int{}
	for _, ty := range exportTypes {
		want[ty] = f.count(t, ty)
	}
	for _, mode := range []string{"boundary", "after", "mid"} {
		t.Run(mode, func(t *testing.T) {
			dir := bulk.Dir{Root: t.TempDir()}
			ctx, cancel := context.WithCancel(context.Background())
			sink := &crashSink{Sink: dir, mode: mode, n: 5, cancel: cancel}
			var commits atomic.Int32
			e1 := f.engine(t, sink, func(c *bulk.Config) {
				c.OnCommit = func(string, control.BulkPart) {
					if mode == "boundary" && commits.Add(1) == 5 {
						cancel()
					}
				}
			})
			id := submit(t, e1)
			if ran, err := e1.RunOnce(ctx, "w1"); !ran || !errors.Is(ctx.Err(), context.Canceled) {
				t.Fatalf("first run: ran %v, err %v, ctx %v", ran, err, ctx.Err())
			}
			j, _ := e1.Job(context.Background(), id)
			if j.Status != control.BulkRunning || j.LeaseOwner != "" {
				t.Fatalf("stopped job: %s leased by %q", j.Status, j.LeaseOwner)
			}
			e2 := f.engine(t, dir, nil)
			runToEnd(t, e2)
			got := ids(t, e2, id, false)
			for ty, n := range want {
				if len(got[ty]) != n {
					t.Errorf("%s: %d lines, want %d", ty, len(got[ty]), n)
				}
				if d := dups(got[ty]); d != "" {
					t.Errorf("%s: duplicate %s", ty, d)
				}
			}
		})
	}
}

// TestLeaseTakeover: a job whose facade died (its lease not renewed) is
// claimed by another once the lease ran out, and the dead worker can no
// longer commit.
func TestLeaseTakeover(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, 2)
		e := f.engine(t, bulk.Dir{Root: t.TempDir()}, nil)
		id := submit(t, e)
		ctx := context.Background()
		dead, err := f.store.ClaimBulkJob(ctx, "dead", time.Now(), 200*time.Millisecond)
		if err != nil || dead == nil || dead.ID != id {
			t.Fatalf("claim: %v %v", dead, err)
		}
		if ran, err := e.RunOnce(ctx, "live"); ran || err != nil {
			t.Fatalf("claimed a leased job: %v %v", ran, err)
		}
		time.Sleep(300 * time.Millisecond)
		runToEnd(t, e)
		if got := ids(t, e, id, false); len(got["Patient"]) != f.count(t, "Patient") {
			t.Errorf("Patient: %d lines", len(got["Patient"]))
		}
		err = f.store.SaveBulkPart(ctx, id, "dead", control.BulkPart{Seq: 0}, time.Now(), time.Minute)
		if !errors.Is(err, control.ErrBulkLeaseLost) {
			t.Errorf("dead worker's commit: %v", err)
		}
	})
}

// TestLimitAndCancel: beyond MaxJobs active jobs a kick-off is ErrBusy; a
// cancelled job is gone (and frees its place), its files too.
func TestLimitAndCancel(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, 1)
		dir := bulk.Dir{Root: t.TempDir()}
		e := f.engine(t, dir, nil)
		a, _ := submit(t, e), submit(t, e)
		ctx := context.Background()
		if _, err := e.Submit(ctx, "o", "r", bulk.Spec{}, nil); !errors.Is(err, bulk.ErrBusy) {
			t.Fatalf("third job: %v", err)
		}
		if err := e.Cancel(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Job(ctx, a); !errors.Is(err, bulk.ErrNotFound) {
			t.Errorf("cancelled job: %v", err)
		}
		if err := e.Cancel(ctx, a); !errors.Is(err, bulk.ErrNotFound) {
			t.Errorf("second cancel: %v", err)
		}
		c := submit(t, e)
		runToEnd(t, e)
		j, err := e.Job(ctx, c)
		if err != nil || j.Status != control.BulkDone {
			t.Fatalf("job after cancel: %v %v", j, err)
		}
		if _, err := e.Open(ctx, j, "../../etc/passwd"); !errors.Is(err, bulk.ErrNotFound) {
			t.Errorf("foreign file name: %v", err)
		}
		rc, err := e.Open(ctx, j, bulk.OutputName(j.Parts[0]))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if len(b) == 0 {
			t.Error("empty Patient file")
		}
	})
}

// TestExportBlob: the same export into an Azure Blob Storage container
// (Azurite), resumed after a stop in the middle of a page.
func TestExportBlob(t *testing.T) {
	az := testutil.StartAzurite(t)
	ctx := context.Background()
	cc, err := container.NewClientFromConnectionString(az.ConnectionString(), "export", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bulk.NewBlob(ctx, az.BlobURL+"/missing", az.ConnectionString()); err == nil {
		t.Error("a container that does not exist was accepted")
	}
	sink, err := bulk.NewBlob(ctx, az.BlobURL+"/export", az.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "sqlite://"+t.TempDir()+"/control.db", 8)
	rctx, cancel := context.WithCancel(ctx)
	e1 := f.engine(t, &crashSink{Sink: sink, mode: "mid", n: 4, cancel: cancel}, nil)
	id := submit(t, e1)
	if _, err := e1.RunOnce(rctx, "w1"); rctx.Err() == nil {
		t.Fatalf("not stopped: %v", err)
	}
	e2 := f.engine(t, sink, nil)
	runToEnd(t, e2)
	got := ids(t, e2, id, true)
	for _, ty := range exportTypes {
		if n := f.count(t, ty); len(got[ty]) != n {
			t.Errorf("%s: %d lines, want %d", ty, len(got[ty]), n)
		}
		if d := dups(got[ty]); d != "" {
			t.Errorf("%s: duplicate %s", ty, d)
		}
	}
	if err := e2.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	pager := cc.NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Segment.BlobItems) > 0 {
			t.Errorf("blobs left after cancel: %s", *page.Segment.BlobItems[0].Name)
		}
	}
}

// TestSharedWork: two facades' engines running on one control store
// share the queued jobs; every job is finished once, each file whole.
func TestSharedWork(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, 6)
		dir := bulk.Dir{Root: t.TempDir()}
		var engines []*bulk.Engine
		for _, name := range []string{"facade-a", "facade-b"} {
			engines = append(engines, f.engine(t, dir, func(c *bulk.Config) { c.Worker, c.Poll = name, 20*time.Millisecond }))
		}
		jobs := []string{submit(t, engines[0]), submit(t, engines[1])}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{}, len(engines))
		for _, e := range engines {
			go func() { e.Run(ctx); done <- struct{}{} }()
		}
		deadline := time.Now().Add(30 * time.Second)
		for _, id := range jobs {
			for {
				j, err := engines[0].Job(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if j.Status == control.BulkDone {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %s still %s", id, j.Status)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		cancel()
		for range engines {
			<-done
		}
		for _, id := range jobs {
			got := ids(t, engines[1], id, false)
			for _, ty := range exportTypes {
				if len(got[ty]) != f.count(t, ty) || dups(got[ty]) != "" {
					t.Errorf("job %s %s: %d lines, want %d once each", id, ty, len(got[ty]), f.count(t, ty))
				}
			}
		}
	})
}

// TestSweepExpired: a finished job's files are deleted once it is older
// than Retention, not before.
func TestSweepExpired(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, 2)
		ctx := context.Background()
		for _, c := range []struct {
			retention time.Duration
			swept     int
		}{{time.Hour, 0}, {time.Millisecond, 2}} { // the second sweep takes the first job too
			dir := bulk.Dir{Root: t.TempDir()}
			e := f.engine(t, dir, func(cfg *bulk.Config) { cfg.Retention = c.retention })
			id := submit(t, e)
			runToEnd(t, e)
			time.Sleep(5 * time.Millisecond)
			n, err := e.Sweep(ctx)
			if err != nil || n != c.swept {
				t.Fatalf("retention %v: swept %d (%v), want %d", c.retention, n, err, c.swept)
			}
			_, err = e.Job(ctx, id)
			if gone := errors.Is(err, bulk.ErrNotFound); gone != (c.swept > 0) {
				t.Fatalf("retention %v: job after the sweep: %v", c.retention, err)
			}
			files, _ := os.ReadDir(filepath.Join(dir.Root, id))
			if (len(files) == 0) != (c.swept > 0) {
				t.Fatalf("retention %v: %d files left", c.retention, len(files))
			}
		}
	})
}

// slowBackend is a backend whose n-th search calls during (after its own
// answer is fetched, as a slow page would take its time).
type slowBackend struct {
	backend.Backend
	n      int32
	calls  atomic.Int32
	during func()
}

func (s *slowBackend) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	res, err := s.Backend.Search(ctx, typ, q, opts)
	if s.calls.Add(1) == s.n {
		s.during()
	}
	return res, err
}

// TestLeaseRenewedBeforeWrite: a worker whose page fetch outlasted its
// lease — the job claimed meanwhile by another facade — writes nothing
// more: it renews the lease after the fetch and before the write, and
// the renewal fails. (Without it the page would be written over the new
// owner's files before the commit noticed the lost lease.)
func TestLeaseRenewedBeforeWrite(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/control.db", 4)
	sink := &crashSink{Sink: bulk.Dir{Root: t.TempDir()}} // n 0: never stops, counts pages written
	var atSteal int32
	lease := 200 * time.Millisecond
	slow := &slowBackend{Backend: f.rt.be, n: 2}
	slow.during = func() {
		time.Sleep(2 * lease)
		j, err := f.store.ClaimBulkJob(context.Background(), "thief", time.Now(), time.Minute)
		if err != nil || j == nil {
			t.Errorf("the expired job could not be claimed: %v %v", j, err)
		}
		atSteal = sink.writes.Load()
	}
	e := f.engine(t, sink, func(c *bulk.Config) {
		c.Router, c.Lease, c.PageSize = router{be: slow, types: f.rt.types}, lease, 5
	})
	id := submit(t, e)
	if ran, err := e.RunOnce(context.Background(), "slow"); !ran || err != nil {
		t.Fatalf("run: %v %v", ran, err)
	}
	if atSteal == 0 {
		t.Fatal("the first page was not written before the steal")
	}
	if got := sink.writes.Load(); got != atSteal {
		t.Errorf("%d page(s) written after the lease was lost", got-atSteal)
	}
	j, _, _ := f.store.BulkJob(context.Background(), id)
	if j.LeaseOwner != "thief" {
		t.Errorf("lease owner %q, want thief", j.LeaseOwner)
	}
}
