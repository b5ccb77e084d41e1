package syncer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/syncer"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// maxWaveWait is the longest one sync wave may wait for the copy lock
// while the outbox drainer has work (issue 9, item 5).
const maxWaveWait = time.Second

// loadWorld is Patient on shadow over a seeded legacy database, the test
// FHIR server, a router and a running outbox drainer.
type loadWorld struct {
	ctl    *control.Store
	legacy backend.Backend
	fhir   *upstream.Backend
	router *routing.Router
	outbox *mirror.Outbox
}

func newLoadWorld(t *testing.T, ctx context.Context, legacyDB *sqldb.DB, controlDSN string, patients int) *loadWorld {
	reg := testutil.Seed(t, legacyDB, patients)
	ctl, err := control.Open(ctx, controlDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	srv := testutil.StartFHIRServer(t)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	w := &loadWorld{ctl: ctl, legacy: legacy.New(legacyDB, reg), fhir: upstream.NewBackend(c)}
	// the first copy, before any load: the incremental run below has a
	// watermark to start from, as in `bench/flip.sh`
	if res, err := (&syncer.Syncer{Legacy: w.legacy, FHIR: w.fhir, Ctl: ctl}).Run(ctx, syncer.Options{Type: "Patient", Batch: 200}); err != nil || res.Failed > 0 {
		t.Fatalf("first sync: %v %+v", err, res)
	}
	store := routing.NewStore(ctl.DB)
	if err := store.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Set(ctx, routing.Move{Type: "Patient", To: routing.Shadow, Actor: "test", Reason: "mirror writes", Force: true}); err != nil {
		t.Fatal(err)
	}
	watch, err := routing.NewWatcher(ctx, store, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	go watch.Run(ctx)
	for watch.Current().State("Patient") != routing.Shadow {
		time.Sleep(10 * time.Millisecond)
	}
	w.outbox = mirror.NewOutbox(ctl.DB, slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	w.router = routing.NewRouter(watch, map[string]bool{"Patient": true}, w.legacy, w.fhir, w.outbox, nil)
	return w
}

// load renames random Patients through the routing write path (legacy
// write plus an outbox row toward FHIR) until ctx ends: as fast as it goes
// while fewer than backlog rows wait in the outbox, with a pause of slow
// between two writes of a writer once they do. The outbox then stays
// non-empty however fast the drainer is, without a write stream that
// holds a SQLite store's one write lock all the time (the drainer marks its
// rows there).
func (w *loadWorld) load(ctx context.Context, writers, patients, backlog int, slow time.Duration, wrote, failed *atomic.Int64, lastErr *atomic.Value) *sync.WaitGroup {
	var wg sync.WaitGroup
	var pace atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			p := time.Millisecond
			if n, err := w.count(ctx, "pending"); err == nil && n >= backlog {
				p = slow
			}
			pace.Store(int64(p))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for c := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 9))
			for n := 0; ctx.Err() == nil; n++ {
				id := fmt.Sprint(1 + r.IntN(patients))
				err := w.rename(ctx, id, fmt.Sprintf("Load%dx%d", c, n))
				switch {
				case err == nil:
					wrote.Add(1)
				case ctx.Err() == nil:
					failed.Add(1)
					lastErr.Store(err.Error())
				}
				time.Sleep(time.Duration(pace.Load()))
			}
		}()
	}
	return &wg
}

func (w *loadWorld) rename(ctx context.Context, id, family string) error {
	be := w.router.Snapshot().BackendFor("Patient")
	r, err := be.Read(ctx, "Patient", id)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := json.Unmarshal(r.JSON, &body); err != nil {
		return err
	}
	body["name"].([]any)[0].(map[string]any)["family"] = family
	delete(body, "meta")
	_, _, err = be.Update(ctx, "Patient", id, body, "")
	return err
}

// count counts outbox rows toward FHIR in a state.
func (w *loadWorld) count(ctx context.Context, state string) (int, error) {
	var n int
	err := w.ctl.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE target = 'fhir' AND state = '"+state+"'").Scan(&n)
	return n, err
}

func (w *loadWorld) mustCount(t *testing.T, state string) int {
	n, err := w.count(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSyncWaveWaitUnderWriteLoad: `sync --incremental` runs while writers
// keep the outbox non-empty and the drainer busy. Each wave may wait for
// the copy lock at most maxWaveWait (the drainer hands it over between two
// rows once a sync waits), the drainer still gets a turn between the waves,
// and no write fails. On the old code the drainer kept the lock for as
// long as rows kept coming, and the sync never started.
func TestSyncWaveWaitUnderWriteLoad(t *testing.T) {
	const patients = 300
	for _, d := range []struct {
		name string
		open func(t *testing.T) (*sqldb.DB, string)
		// each writer's pause between two writes once the backlog is there
		pace time.Duration
	}{
		{"sqlite", func(t *testing.T) (*sqldb.DB, string) {
			return testutil.SQLite(t), "sqlite://" + filepath.Join(t.TempDir(), "control.db")
		}, 100 * time.Millisecond},
		{"postgres", func(t *testing.T) (*sqldb.DB, string) { return testutil.Postgres(t), testutil.PostgresDSN(t) }, 10 * time.Millisecond},
	} {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			legacyDB, controlDSN := d.open(t)
			w := newLoadWorld(t, ctx, legacyDB, controlDSN, patients)

			loadCtx, stopLoad := context.WithCancel(ctx)
			defer stopLoad()
			go w.outbox.Run(loadCtx, mirror.Ends{Legacy: w.legacy, FHIR: w.fhir}, 100*time.Millisecond)
			var wrote, failed atomic.Int64
			var lastErr atomic.Value
			writers := w.load(loadCtx, 4, patients, 200, d.pace, &wrote, &failed, &lastErr)
			for deadline := time.Now().Add(30 * time.Second); w.mustCount(t, "pending") < 200; {
				if time.Now().After(deadline) {
					t.Fatalf("the write load does not fill the outbox: %d written, %d failed (%v)", wrote.Load(), failed.Load(), lastErr.Load())
				}
				time.Sleep(20 * time.Millisecond)
			}
			type wave struct {
				wait          time.Duration
				pending, done int
			}
			var waves []wave
			sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
			defer scancel()
			start := time.Now()
			res, err := (&syncer.Syncer{Legacy: w.legacy, FHIR: w.fhir, Ctl: w.ctl}).Run(sctx, syncer.Options{
				Type: "Patient", Incremental: true, Batch: 10, Parallel: 2,
				Progress: func(p syncer.Progress) {
					waves = append(waves, wave{wait: p.LockWait, pending: w.mustCount(t, "pending"), done: w.mustCount(t, "done")})
				},
			})
			took := time.Since(start)
			stopLoad()
			writers.Wait()
			t.Logf("sync: %v in %v; waves (lock wait, outbox pending, done): %v; load: %d writes, %d failed", err, took.Round(time.Millisecond), waves, wrote.Load(), failed.Load())
			if sctx.Err() != nil {
				t.Fatalf("the sync was starved: %d waves done in %v (it never got the copy lock from the drainer)", len(waves), took.Round(time.Millisecond))
			}
			// incremental: the Patients renamed since the first sync
			if err != nil || res.Written == 0 || res.Failed > 0 {
				t.Fatalf("sync: %v %+v", err, res)
			}
			if len(waves) < 3 {
				t.Fatalf("%d waves, want at least 3", len(waves))
			}
			for i, wv := range waves {
				if wv.pending == 0 {
					t.Errorf("the outbox was empty after wave %d: the load did not keep the drainer busy", i+1)
				}
				if wv.wait > maxWaveWait {
					t.Errorf("wave %d waited %v for the copy lock (limit %v)", i+1, wv.wait.Round(time.Millisecond), maxWaveWait)
				}
				// the drainer gets its turn after each wave while it has work
				if i > 0 && wv.done <= waves[i-1].done {
					t.Errorf("the drainer finished no row between waves %d and %d", i, i+1)
				}
			}
			if failed.Load() > 0 {
				t.Fatalf("%d of %d writes failed; last: %v", failed.Load(), wrote.Load()+failed.Load(), lastErr.Load())
			}
		})
	}
}
