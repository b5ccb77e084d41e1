package routing

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// fenceStores runs fn on a SQLite and a PostgreSQL control store with
// Patient's route on legacy.
func fenceStores(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctl, err := control.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctl.Close() })
		if err := NewStore(ctl.DB).Ensure(context.Background(), []string{"Patient"}); err != nil {
			t.Fatal(err)
		}
		fn(t, ctl.DB)
	})
}

func move(ctx context.Context, db *sqldb.DB, to State) error {
	_, err := NewStore(db).Set(ctx, Move{Type: "Patient", To: to, Actor: "tester", Reason: "fence test", Force: true})
	return err
}

// TestFenceHoldsNoStoreLock: a fenced write goes on to write the control
// store from other connections (the id map, the audit trail): on SQLite
// the fence used to hold the database's write lock for the whole write, so
// those waited out the busy timeout and the request failed.
func TestFenceHoldsNoStoreLock(t *testing.T) {
	fenceStores(t, func(t *testing.T, db *sqldb.DB) {
		o := &Router{out: mirror.NewOutbox(db, nil, nil)}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := o.fence(ctx, "Patient", func(st State, q Enqueuer) error {
			_, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO id_map (resource_type, fhir_id, legacy_id, created_at) VALUES ('Patient', 'x1', NULL, %s)", db.Dialect.Placeholder(1)), sqldb.StampArg(db.Dialect, time.Now()))
			return err
		})
		if err != nil || time.Since(start) > time.Second {
			t.Fatalf("a control-store write inside the fence: %v after %v", err, time.Since(start))
		}
	})
}

// TestFenceMoveWaitsForWrites: a move waits for the write in flight, and a
// write that starts after the move reads the new state.
func TestFenceMoveWaitsForWrites(t *testing.T) {
	fenceStores(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		o := &Router{out: mirror.NewOutbox(db, nil, nil)}
		entered, release := make(chan struct{}), make(chan struct{})
		go func() {
			_ = o.fence(ctx, "Patient", func(State, Enqueuer) error {
				close(entered)
				<-release
				return nil
			})
		}()
		<-entered
		moved := make(chan error, 1)
		go func() { moved <- move(ctx, db, Shadow) }()
		select {
		case err := <-moved:
			t.Fatalf("the move did not wait for the write in flight: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-moved; err != nil {
			t.Fatal(err)
		}
		var seen State
		_ = o.fence(ctx, "Patient", func(st State, _ Enqueuer) error { seen = st; return nil })
		if seen != Shadow {
			t.Fatalf("a write after the move read %q", seen)
		}
	})
}

// TestFenceMoveNotStarved: writes that keep overlapping do not keep a move
// waiting (flock has no queue; the gate gives the move its turn).
func TestFenceMoveNotStarved(t *testing.T) {
	fenceStores(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		o := &Router{out: mirror.NewOutbox(db, nil, nil)}
		var wg sync.WaitGroup
		var writes atomic.Int64
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					_ = o.fence(ctx, "Patient", func(State, Enqueuer) error {
						time.Sleep(5 * time.Millisecond)
						writes.Add(1)
						return nil
					})
				}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		for _, to := range []State{Shadow, Legacy, Shadow} {
			start := time.Now()
			mctx, mcancel := context.WithTimeout(ctx, 5*time.Second)
			err := move(mctx, db, to)
			mcancel()
			if err != nil || time.Since(start) > 2*time.Second {
				t.Fatalf("move to %s under steady writes: %v after %v", to, err, time.Since(start))
			}
		}
		cancel()
		wg.Wait()
		if writes.Load() == 0 {
			t.Fatal("no write went through")
		}
	})
}
