package legacy

import (
	"context"
	"database/sql"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var _ backend.Transactor = (*Backend)(nil)

// sqlConn is what a write runs its statements on: a single write's own
// *sql.Tx, or the unit of the Transact it is part of.
type sqlConn interface {
	sqldb.Queryer
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// unit is one Transact call's SQL transaction, carried in its context.
type unit struct {
	tx *sql.Tx
	// retry is the last retryable failure of a write inside the unit:
	// the unit's function may have turned it into any error, but the
	// whole unit must run again.
	retry error
	// stmts are the unit's prepared statements by SQL text. A unit runs
	// the same few statements once per entry (a 100-entry transaction of
	// creates: 100 inserts and 100 read-backs of identical SQL); preparing
	// each once per unit instead of once per run is most of what SQLite
	// (modernc) spends on an entry. They belong to tx: database/sql closes
	// them when it commits or rolls back, so none outlives the unit.
	stmts map[string]*sql.Stmt
}

// maxUnitStmts bounds a unit's prepared statements: an entry whose SQL
// is new past it runs unprepared, as a single write does.
const maxUnitStmts = 64

var _ sqlConn = (*unit)(nil)

// stmt is q prepared in the unit's transaction (nil: run q unprepared —
// the cache is full, or the prepare failed, in which case running it
// unprepared gives the caller the same error a single write gets).
func (u *unit) stmt(ctx context.Context, q string) *sql.Stmt {
	if st, ok := u.stmts[q]; ok {
		return st
	}
	if len(u.stmts) >= maxUnitStmts {
		return nil
	}
	st, err := u.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if u.stmts == nil {
		u.stmts = map[string]*sql.Stmt{}
	}
	u.stmts[q] = st
	return st
}

// QueryContext runs q in the unit's transaction, prepared once per unit.
func (u *unit) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := u.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return u.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs q in the unit's transaction, prepared once per unit.
func (u *unit) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := u.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return u.tx.QueryRowContext(ctx, q, args...)
}

// ExecContext runs q in the unit's transaction, prepared once per unit.
func (u *unit) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := u.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return u.tx.ExecContext(ctx, q, args...)
}

// unitKey keys a backend's unit in a context (per backend: two legacy
// databases never share a transaction).
type unitKey struct{ b *Backend }

func (b *Backend) unitOf(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{b}).(*unit)
	return u
}

// reader is what a read queries: the unit inside Transact (so a
// transaction's reads see its own writes; writes stay on database/sql, see
// sqldb.Reader), else the database's Reader.
func (b *Backend) reader(ctx context.Context) sqldb.Reader {
	if u := b.unitOf(ctx); u != nil {
		return sqldb.SQLReader(u)
	}
	return b.read
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
		// a re-run gets a new unit: the failed attempt's statements
		// belonged to its rolled-back transaction
		u := &unit{tx: tx}
		err := fn(backend.WithTransaction(context.WithValue(ctx, unitKey{b}, u)))
		if err != nil && u.retry != nil {
			return u.retry
		}
		return err
	})
}
