package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Enqueuer queues a mirrored write inside the fencing transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, target, typ, id string) error
}

// fence runs a write under a shared lock on the type's route row, reading
// the route's state under that lock. A flip takes the row exclusively, so
// no write of that type is in flight while the route changes, and a write
// that starts after the flip sees the new state even if this process's
// snapshot has not caught up yet: writes are never split between two
// systems of record. The outbox rows a write queues are part of the same
// control-store transaction.
//
// PostgreSQL: SELECT ... FOR SHARE. SQLite: the transaction takes the
// database's write lock at BEGIN (_txlock=immediate), which serialises
// fenced writes — fine for the embedded default.
func (o *Outbox) fence(ctx context.Context, typ string, fn func(State, Enqueuer) error) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	defer tx.Rollback()
	q := "SELECT state FROM route WHERE resource_type = " + o.db.Dialect.Placeholder(1)
	if o.db.Dialect.Name() == "postgres" {
		q += " FOR SHARE"
	}
	var st string
	err = tx.QueryRowContext(ctx, q, typ).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		st = string(Legacy)
	} else if err != nil {
		return fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	if err := fn(State(st), txQueue{o: o, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: control store commit: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	return nil
}

type txQueue struct {
	o  *Outbox
	tx *sql.Tx
}

func (q txQueue) Enqueue(ctx context.Context, target, typ, id string) error {
	return q.o.insert(ctx, q.tx, target, typ, id)
}

// pendingFor counts queued mirror rows of a type toward target.
func pendingFor(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, d sqldb.Dialect, target, typ string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND target = "+d.Placeholder(1)+" AND resource_type = "+d.Placeholder(2), target, typ).Scan(&n)
	return n, err
}
