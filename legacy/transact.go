package legacy

import (
	"context"
	"database/sql"

	"github.com/fhirfacade/fhirfacade/backend"
)

var _ backend.Transactor = (*Backend)(nil)

// unit is one Transact call's SQL transaction, carried in its context.
type unit struct {
	tx *sql.Tx
	// retry is the last retryable failure of a write inside the unit:
	// the unit's function may have turned it into any error, but the
	// whole unit must run again.
	retry error
}

// unitKey keys a backend's unit in a context (per backend: two legacy
// databases never share a transaction).
type unitKey struct{ b *Backend }

func (b *Backend) unitOf(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{b}).(*unit)
	return u
}

// reader is what a read queries: the unit's transaction inside Transact
// (so a transaction's reads see its own writes), else the database.
func (b *Backend) reader(ctx context.Context) queryer {
	if u := b.unitOf(ctx); u != nil {
		return u.tx
	}
	return b.db
}

// Transact implements backend.Transactor: fn's reads and writes share one
// SQL transaction, committed only when fn returns nil. A serialization
// failure or lost race anywhere inside re-runs fn from the start (up to
// the same limit as a single write). Called inside another Transact of
// the same backend it joins that one.
func (b *Backend) Transact(ctx context.Context, _ []string, fn func(ctx context.Context) error) error {
	if b.unitOf(ctx) != nil {
		return fn(ctx)
	}
	return b.retryTx(ctx, func(tx *sql.Tx) error {
		u := &unit{tx: tx}
		err := fn(backend.WithTransaction(context.WithValue(ctx, unitKey{b}, u)))
		if err != nil && u.retry != nil {
			return u.retry
		}
		return err
	})
}
