package routing_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/backend/backendtest"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/tombstone"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// byType is a Backend over a router: each call goes to the backend the
// current snapshot names for its type (what the facade does per request).
type byType struct{ r *routing.Router }

func (b byType) be(typ string) backend.Backend { return b.r.Snapshot().BackendFor(typ) }
func (b byType) Name() string                  { return "routed" }
func (b byType) Ping(ctx context.Context) error {
	return b.be("Patient").Ping(ctx)
}
func (b byType) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	return b.be(typ).Read(ctx, typ, id)
}
func (b byType) Search(ctx context.Context, typ string, q *search.Query, o backend.SearchOptions) (*backend.SearchResult, error) {
	return b.be(typ).Search(ctx, typ, q, o)
}
func (b byType) Create(ctx context.Context, typ string, body map[string]any, ine *search.Query) (*backend.Resource, bool, error) {
	return b.be(typ).Create(ctx, typ, body, ine)
}
func (b byType) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	return b.be(typ).Update(ctx, typ, id, body, ifMatch)
}
func (b byType) Delete(ctx context.Context, typ, id, ifMatch string) error {
	return b.be(typ).Delete(ctx, typ, id, ifMatch)
}

// the router's backends forward backend.Versioned; so does byType
func (b byType) HistoryPolicy() backend.HistoryPolicy { return backend.PolicyOf(b.be("Patient")) }
func (b byType) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	return b.be(typ).(backend.Versioned).VRead(ctx, typ, id, vid)
}
func (b byType) History(ctx context.Context, typ, id string, o backend.HistoryOptions) (*backend.HistoryPage, error) {
	return b.be(typ).(backend.Versioned).History(ctx, typ, id, o)
}

// Transact implements backend.Transactor through the Patient route's
// wrapper (every routed wrapper fences all the types it is given).
func (b byType) Transact(ctx context.Context, types []string, fn func(context.Context) error) error {
	return b.be("Patient").(backend.Transactor).Transact(ctx, types, fn)
}

// TestConformance runs the Backend conformance suite through the routing
// wrappers (fenced writes, shadow reads, mirror rows) with every type on
// legacy, on shadow and on fhir, on SQLite and PostgreSQL control stores.
func TestConformance(t *testing.T) {
	for _, st := range []routing.State{routing.Legacy, routing.Shadow, routing.FHIR} {
		t.Run(string(st), func(t *testing.T) {
			var known []backendtest.Deviation
			if st == routing.FHIR {
				known = backendtest.TestServerDeviations
			}
			stores(t, func(t *testing.T, ctl *control.Store) {
				backendtest.Exercise(t, func(t *testing.T) backend.Backend {
					be, _ := routedWorld(t, ctl, st)
					return be
				}, known...)
			})
		})
	}
}

// routedWorld wires legacy (SQLite, id-mapped), the test FHIR server, the
// outbox drainer and a router, and moves every type to st.
func routedWorld(t *testing.T, ctl *control.Store, st routing.State) (byType, *routing.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, 3)
	c, err := upstream.New(upstream.Config{BaseURL: testutil.StartFHIRServer(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	// tombstones around both sides, as serve wires them
	fhir := &tombstone.Backend{Inner: upstream.NewBackend(c), Store: ctl}
	ids := idmap.New(ctl)
	if err := ids.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	leg := &tombstone.Backend{Inner: &idmap.Backend{Inner: legacy.New(db, reg), Map: ids, Reg: reg}, Store: ctl}
	store := routing.NewStore(ctl.DB)
	if err := store.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	path := map[routing.State][]routing.State{routing.Shadow: {routing.Shadow}, routing.FHIR: {routing.Shadow, routing.FHIR}}[st]
	for _, typ := range reg.Types() {
		for _, to := range path {
			if _, err := store.Set(ctx, routing.Move{Type: typ, To: to, Actor: "conformance", Reason: "conformance suite", Force: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	w, err := routing.NewWatcher(ctx, store, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	out := mirror.NewOutbox(ctl.DB, log, prometheus.NewRegistry())
	types := map[string]bool{}
	for _, typ := range reg.Types() {
		types[typ] = true
	}
	r := routing.NewRouter(w, types, leg, fhir, out, nil)
	go out.Run(ctx, mirror.Ends{Legacy: tombstone.Bare(leg), FHIR: tombstone.Bare(fhir), Reverse: r.Reverse}, 50*time.Millisecond)
	return byType{r: r}, store
}
