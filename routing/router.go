package routing

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/search"
)

// Router gives the facade a backend per type. Reads follow the request's
// snapshot of the table: legacy -> legacy; shadow -> legacy with sampled
// comparison; fhir and fhir-only -> the FHIR server. Writes are fenced: they
// read the route under a lock at write time and queue their mirror rows in
// the same control-store transaction (shadow -> FHIR; fhir -> legacy, the
// reverse mirror; none on legacy and fhir-only).
type Router struct {
	w      *Watcher
	types  map[string]bool
	legacy backend.Backend
	fhir   backend.Backend
	shadow backend.Backend
	out    *mirror.Outbox
	// check is the legacy backend's write check (nil if it has none)
	check backend.WriteChecker
	// fhirOnly are types with no mapping spec that the FHIR server serves
	fhirOnly atomic.Pointer[map[string]bool]
	// events queues a change event for every write (nil: none)
	events *events.Queue
	// evLog hears of events that could not be queued
	evLog *slog.Logger
	// resLocks serialize one resource's writes where the control store
	// has no transaction-scoped locks (lockResource)
	resLocks keyLocks
}

// SetEvents makes every write through the router queue its change event
// (package events) in the write's fence transaction. Call before serving.
// log hears of the events that could not be queued (nil: discarded).
func (r *Router) SetEvents(q *events.Queue, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.events, r.evLog = q, log
}

// ServeUpstreamOnly names the types that have no mapping spec but that the
// FHIR server offers (it replaces any earlier list; safe while serving).
// They have no legacy side and no route row: they are served as if on
// `fhir-only`, reads and writes on the FHIR server, nothing mirrored and no
// fence (no move can ever change their route). A type in the router's own
// types is routed by its route as usual.
func (r *Router) ServeUpstreamOnly(types []string) {
	m := map[string]bool{}
	for _, t := range types {
		if !r.types[t] {
			m[t] = true
		}
	}
	r.fhirOnly.Store(&m)
}

// NewRouter wires the route states to backends. fhir may be nil (no
// FHIRFACADE_FHIR_URL): types routed to it then answer 503.
func NewRouter(w *Watcher, types map[string]bool, legacy, fhir backend.Backend, out *mirror.Outbox, cmp Sampler) *Router {
	r := &Router{w: w, types: types, legacy: legacy, fhir: fhir, out: out}
	r.ServeUpstreamOnly(nil)
	if fhir == nil {
		r.fhir = unavailable{}
		cmp = nil
	}
	r.shadow = shadowReads{Backend: legacy, Compare: cmp}
	r.check, _ = legacy.(backend.WriteChecker)
	return r
}

// Snapshot implements facade.Router.
func (r *Router) Snapshot() backend.Routes { return snapshot{r: r, t: r.w.Current()} }

// ByName implements facade.Router.
func (r *Router) ByName(name string) backend.Backend {
	switch name {
	case r.legacy.Name():
		return r.legacy
	case r.fhir.Name():
		return r.fhir
	}
	return nil
}

// Reverse reports whether the reverse mirror still runs for typ: rows
// queued toward legacy are carried until the type reaches a final state
// (fhir-only: legacy is retired).
func (r *Router) Reverse(typ string) bool { return !States[r.w.Current().State(typ)].Final }

// side is the backend of a system of record.
func (r *Router) side(s Side) backend.Backend {
	if s == SideFHIR {
		return r.fhir
	}
	return r.legacy
}

type snapshot struct {
	r *Router
	t *Table
}

func (s snapshot) BackendFor(typ string) backend.Backend {
	if !s.r.types[typ] {
		if (*s.r.fhirOnly.Load())[typ] {
			// unwrapped: the fence would read the type's missing route
			// row as legacy, and there is no legacy side to fence against
			return s.r.side(States[FHIROnly].Reads)
		}
		return nil
	}
	m := States[s.t.State(typ)]
	reads := s.r.side(m.Reads)
	if m.Compare {
		reads = s.r.shadow
	}
	return routed{Backend: reads, r: s.r}
}

// RouteOf implements backend.RouteNamer: the type's route state, or
// upstream-only for a type the FHIR server serves without a mapping.
func (s snapshot) RouteOf(typ string) string {
	if !s.r.types[typ] {
		return "upstream-only"
	}
	return string(s.t.State(typ))
}

// routed reads through its snapshot's backend and writes through the fence.
type routed struct {
	backend.Backend
	r *Router
}

// written is what a write did: the resource's id and new version, and
// the kind of its change event ("" when nothing changed: a conditional
// create that found its match, a delete of nothing).
type written struct {
	id, version string
	kind        events.Kind
}

// write runs fn on the backend the route names at write time, queueing the
// mirror row the state asks for and the change event. body is the resource
// written (nil for a delete): on `fhir` it is checked against the legacy
// mapping first.
func (x routed) write(ctx context.Context, typ string, id string, body map[string]any, fn func(backend.Backend) (written, error)) error {
	if h := x.r.heldOf(ctx); h != nil {
		// inside Transact: the fence is held already, for every type
		st, ok := h.states[typ]
		if !ok {
			return fmt.Errorf("%w: %s was not named when the transaction began", backend.ErrInvalid, typ)
		}
		return x.writeAs(ctx, st, h, typ, id, body, fn)
	}
	// DANGER: the in-process lock comes before the fence, so that writes
	// queued behind one resource wait without holding a control-store
	// connection each: the holder needs a second one (id map) to finish,
	// and enough waiters inside transactions would take the whole pool.
	unlock, err := x.r.lockLocal(ctx, typ, id)
	if err != nil {
		return err
	}
	defer unlock()
	return x.r.fence(ctx, typ, func(st State, q Enqueuer) error {
		if err := x.r.lockShared(ctx, q, typ, id); err != nil {
			return err
		}
		return x.writeAs(ctx, st, q, typ, id, body, fn)
	})
}

// writeAs is write once the fence is held and the route's state read.
func (x routed) writeAs(ctx context.Context, st State, q Enqueuer, typ string, id string, body map[string]any, fn func(backend.Backend) (written, error)) error {
	m := States[st]
	be, target, mark := x.r.side(m.Writes), string(m.Mirror), ""
	if m.CheckWrites {
		var err error
		if mark, err = x.r.reversible(ctx, typ, id, body); err != nil {
			return err
		}
	}
	// updates and deletes queue first: if the process dies after the
	// write, the row copies the new state; if the write fails, the
	// transaction drops the row (SQLite, where no transaction spans
	// the write: the row copies an unchanged state, which is harmless)
	if target != "" && id != "" {
		if err := enqueue(ctx, q, target, typ, id, mark); err != nil {
			return err
		}
	}
	w, err := fn(be)
	if err != nil {
		return err
	}
	if target != "" && id == "" && w.id != "" {
		if m.CheckWrites && mark == "" {
			mark = x.r.assignedMark(ctx, typ, w.id)
		}
		if err := enqueue(ctx, q, target, typ, w.id, mark); err != nil {
			return err
		}
	}
	// the change event comes only AFTER the write succeeded, with the
	// version it made: unlike a mirror row (which copies whatever state is
	// current), an event states a fact, and a failed write must not emit
	// one. Committed with the fence's transaction (PostgreSQL) or as its
	// own statement (SQLite): a crash after the write's own commit loses
	// it, which the legacy poller makes good for legacy-side writes.
	if err := x.r.queueChange(ctx, q, typ, w); err != nil {
		// DANGER: the write has happened. Failing it now would tell the
		// client to retry (a second create); where a fence transaction
		// holds the write's mirror rows (PostgreSQL) a failed insert aborts
		// it anyway and the commit reports the failure.
		x.r.evLog.Error("change event not queued", slog.String("type", typ), slog.String("id", w.id), slog.String("kind", string(w.kind)), slog.String("error", err.Error()))
	}
	return nil
}

// queueChange queues the event of w through q (nothing when events are
// off or nothing changed).
func (r *Router) queueChange(ctx context.Context, q Enqueuer, typ string, w written) error {
	if r.events == nil || w.kind == "" {
		return nil
	}
	cq, ok := q.(changeQueue)
	if !ok {
		return fmt.Errorf("%w: the fence cannot queue change events", backend.ErrUnavailable)
	}
	return cq.QueueChange(ctx, events.Change{Type: typ, ID: w.id, Version: w.version, Kind: w.kind})
}

// changeQueue queues a change event in the fence's transaction (or, inside
// Transact, until legacy has committed).
type changeQueue interface {
	QueueChange(ctx context.Context, c events.Change) error
}

func (x routed) Create(ctx context.Context, typ string, body map[string]any, ine *search.Query) (res *backend.Resource, created bool, err error) {
	err = x.write(ctx, typ, "", body, func(be backend.Backend) (written, error) {
		res, created, err = be.Create(ctx, typ, body, ine)
		if err != nil || !created || res == nil {
			return written{}, err
		}
		return written{id: res.ID, version: res.VersionID, kind: events.Created}, nil
	})
	return res, created, err
}

func (x routed) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (res *backend.Resource, created bool, err error) {
	err = x.write(ctx, typ, id, body, func(be backend.Backend) (written, error) {
		res, created, err = be.Update(ctx, typ, id, body, ifMatch)
		if err != nil || res == nil {
			return written{}, err
		}
		kind := events.Updated
		if created {
			kind = events.Created
		}
		return written{id: res.ID, version: res.VersionID, kind: kind}, nil
	})
	return res, created, err
}

func (x routed) Delete(ctx context.Context, typ, id, ifMatch string) error {
	return x.write(ctx, typ, id, nil, func(be backend.Backend) (written, error) {
		// the version a delete removes is read first (under the fence): a
		// delete's event names it, the same version the legacy poller
		// last saw; a resource that is not there emits nothing
		var w written
		if x.r.events != nil {
			if cur, err := be.Read(ctx, typ, id); err == nil {
				w = written{id: id, version: cur.VersionID, kind: events.Deleted}
			}
		}
		return w, be.Delete(ctx, typ, id, ifMatch)
	})
}

// unavailable answers every call with 503: a type routed to a FHIR server
// that is not configured must not be served from stale legacy data.
type unavailable struct{}

func (unavailable) Name() string { return "fhir" }
func (unavailable) err() error   { return fmt.Errorf("%w: %v", backend.ErrUnavailable, errNoFHIR) }
func (u unavailable) Ping(context.Context) error {
	return u.err()
}
func (u unavailable) Read(context.Context, string, string) (*backend.Resource, error) {
	return nil, u.err()
}
func (u unavailable) Search(context.Context, string, *search.Query, backend.SearchOptions) (*backend.SearchResult, error) {
	return nil, u.err()
}
func (u unavailable) Create(context.Context, string, map[string]any, *search.Query) (*backend.Resource, bool, error) {
	return nil, false, u.err()
}
func (u unavailable) Update(context.Context, string, string, map[string]any, string) (*backend.Resource, bool, error) {
	return nil, false, u.err()
}
func (u unavailable) Delete(context.Context, string, string, string) error { return u.err() }
