package routing_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
)

// lingering is the legacy backend (real, on SQLite) whose first update
// lingers after its write until a second update has returned, or 500 ms
// have passed: the window in which, without a per-resource lock, the
// second write's event is queued before the first's.
type lingering struct {
	backend.Backend
	calls      atomic.Int32
	firstWrote chan struct{}
	secondDone chan struct{}
}

func (l *lingering) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	res, created, err := l.Backend.Update(ctx, typ, id, body, ifMatch)
	if l.calls.Add(1) == 1 {
		close(l.firstWrote)
		select {
		case <-l.secondDone:
		case <-time.After(500 * time.Millisecond):
		}
	}
	return res, created, err
}

// TestEventOrderPerResource: two updates of one resource, the second
// started while the first has written but not yet queued its event: the
// events come in the order of the writes (the first write's version
// first), on both control stores.
func TestEventOrderPerResource(t *testing.T) {
	stores(t, func(t *testing.T, ctl *control.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := testutil.SQLite(t)
		reg := testutil.Seed(t, db, 2)
		leg := &lingering{Backend: legacy.New(db, reg), firstWrote: make(chan struct{}), secondDone: make(chan struct{})}
		store := routing.NewStore(ctl.DB)
		if err := store.Ensure(ctx, reg.Types()); err != nil {
			t.Fatal(err)
		}
		w, err := routing.NewWatcher(ctx, store, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, typ := range reg.Types() {
			types[typ] = true
		}
		r := routing.NewRouter(w, types, leg, nil, mirror.NewOutbox(ctl.DB, slog.New(slog.DiscardHandler), nil), nil)
		q := events.NewQueue(ctl)
		r.SetEvents(q, nil)
		be := r.Snapshot().BackendFor("Patient")
		cur, err := be.Read(ctx, "Patient", "1")
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{}
		_ = json.Unmarshal(cur.JSON, &body)
		delete(body, "meta")
		update := func(gender string) (string, error) {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b["gender"] = gender
			res, _, err := be.Update(ctx, "Patient", "1", b, "")
			if err != nil {
				return "", err
			}
			return res.VersionID, nil
		}
		first := make(chan string, 1)
		go func() {
			v, err := update("male")
			if err != nil {
				t.Error(err)
			}
			first <- v
		}()
		<-leg.firstWrote
		second, err := update("female")
		close(leg.secondDone)
		if err != nil {
			t.Fatal(err)
		}
		firstV := <-first
		pub := events.NewPublisher(ctl, q, nil, events.Options{}, nil, nil)
		if _, err := pub.Sequence(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := events.After(ctx, ctl, 0, 10)
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %v %v, want 2", evs, err)
		}
		if evs[0].Change.Version != firstV || evs[1].Change.Version != second {
			t.Errorf("events name versions %s then %s; the writes made %s then %s", evs[0].Change.Version, evs[1].Change.Version, firstV, second)
		}
	})
}
