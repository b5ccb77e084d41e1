package routing

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Enqueuer queues a mirrored write inside the fencing transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, target, typ, id string) error
}

// fence runs a write under a shared lock on the type's route, reading the
// route's state under that lock. A move takes the lock exclusively, so no
// write of that type is in flight while the route changes, and a write
// that starts after the move sees the new state even if this process's
// snapshot has not caught up yet: writes are never split between two
// systems of record.
//
// PostgreSQL: a shared per-type advisory lock (sqldb.FenceLock: queued
// fairly against a move's exclusive one) and SELECT ... FOR SHARE on the
// route row; the outbox rows a write queues are part of the same
// control-store transaction. SQLite:
// see fileFence — no database lock is held across the write, and the
// outbox rows are single statements.
func (r *Router) fence(ctx context.Context, typ string, fn func(State, Enqueuer) error) error {
	return r.fenceAll(ctx, []string{typ}, func(st map[string]State, q Enqueuer) error { return fn(st[typ], q) })
}

// fenceAll is fence over several types at once (a transaction's): every
// type's lock is held, and its state read, before fn runs. The locks are
// taken in sorted order, so two writers over overlapping types never wait
// for each other in a cycle (a move takes one type's lock only).
func (r *Router) fenceAll(ctx context.Context, types []string, fn func(map[string]State, Enqueuer) error) error {
	types = sortedSet(types)
	db := r.out.DB()
	if !sqldb.CoordinationOf(db.Dialect).RowLocks {
		return r.fileFenced(ctx, types, fn)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	defer tx.Rollback()
	// the shared fence lock first, then the row FOR SHARE: a move's
	// exclusive request, once it waits, holds back new writes (FOR SHARE
	// alone would let overlapping writes starve the move)
	states, err := routeStates(ctx, &control.Store{DB: db}, tx, types, true)
	if err != nil {
		return err
	}
	if err := fn(states, txQueue{o: r.out, tx: tx, ev: r.events}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: control store commit: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	return nil
}

// fileFenced is fenceAll on a SQLite control store (one file fence covers
// every type). Updates and deletes queue their mirror row before the write
// (router.write), so a row whose write then fails copies an unchanged
// state — harmless, as every row copies the current state.
func (r *Router) fileFenced(ctx context.Context, types []string, fn func(map[string]State, Enqueuer) error) error {
	db := r.out.DB()
	leave, err := fenceFor(db.Path).enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	states, err := routeStates(ctx, &control.Store{DB: db}, db, types, false)
	if err != nil {
		return err
	}
	return fn(states, txQueue{o: r.out, tx: db, ev: r.events})
}

// routeStates reads the states of types (sorted) for a write, in order.
func routeStates(ctx context.Context, ctl *control.Store, q control.Querier, types []string, lockShared bool) (map[string]State, error) {
	states := make(map[string]State, len(types))
	for _, t := range types {
		st, err := routeState(ctx, ctl, q, t, lockShared)
		if err != nil {
			return nil, err
		}
		states[t] = st
	}
	return states, nil
}

// sortedSet is types sorted, without repeats.
func sortedSet(types []string) []string {
	if len(types) == 1 {
		return types
	}
	out := append([]string(nil), types...)
	sort.Strings(out)
	return slices.Compact(out)
}

// routeState reads typ's state for a write (legacy when it has no row),
// under the shared fence lock when lockShared.
func routeState(ctx context.Context, ctl *control.Store, q control.Querier, typ string, lockShared bool) (State, error) {
	st, found, err := ctl.RouteStateForWrite(ctx, q, typ, lockShared)
	if err != nil {
		return "", fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	if !found {
		return Legacy, nil
	}
	return State(st), nil
}

// txQueue queues mirror rows through tx: the fence's transaction, or the
// database itself where no transaction spans the write (SQLite).
type txQueue struct {
	o  *mirror.Outbox
	tx mirror.Execer
	ev *events.Queue
}

// QueueChange implements changeQueue: the event goes in with the fence's
// transaction.
func (q txQueue) QueueChange(ctx context.Context, c events.Change) error {
	if q.ev == nil {
		return nil
	}
	return q.ev.Add(ctx, q.tx, c)
}

func (q txQueue) Enqueue(ctx context.Context, target, typ, id string) error {
	return q.o.Enqueue(ctx, q.tx, target, typ, id)
}
