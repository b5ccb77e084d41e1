package routing

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
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
	db := r.out.DB()
	if !sqldb.CoordinationOf(db.Dialect).RowLocks {
		return r.fileFenced(ctx, typ, fn)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	defer tx.Rollback()
	// the shared fence lock first, then the row FOR SHARE: a move's
	// exclusive request, once it waits, holds back new writes (FOR SHARE
	// alone would let overlapping writes starve the move)
	st, err := routeState(ctx, &control.Store{DB: db}, tx, typ, true)
	if err != nil {
		return err
	}
	if err := fn(st, txQueue{o: r.out, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: control store commit: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	return nil
}

// fileFenced is fence on a SQLite control store. Updates and deletes queue
// their mirror row before the write (router.write), so a row whose write
// then fails copies an unchanged state — harmless, as every row copies
// the current state.
func (r *Router) fileFenced(ctx context.Context, typ string, fn func(State, Enqueuer) error) error {
	db := r.out.DB()
	leave, err := fenceFor(db.Path).enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	st, err := routeState(ctx, &control.Store{DB: db}, db, typ, false)
	if err != nil {
		return err
	}
	return fn(st, txQueue{o: r.out, tx: db})
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
}

func (q txQueue) Enqueue(ctx context.Context, target, typ, id string) error {
	return q.o.Enqueue(ctx, q.tx, target, typ, id)
}
