package sqldb

import (
	"context"
	"database/sql"
)

// Reader runs the read-only statements of legacy reads, searches and
// counts. Each row comes back as a fresh []any holding exactly the Go values
// database/sql's Scan into *any gives for the dialect's driver (string,
// int64, float64, bool, time.Time, []byte or nil), whichever way the
// statement is run, so the mapping engine sees the same values on every
// path. Errors are the driver's, unwrapped, for the caller to describe.
//
// Writes, and the reads inside a write transaction, stay on database/sql on
// every dialect: they share one *sql.Tx with the writes (the retry loop,
// the per-transaction statement cache, InsertKey), they are not the hot
// path, and a second transaction API would double what every dialect's
// write tests must cover.
type Reader interface {
	// QueryRows runs q and returns its rows of ncols values each.
	QueryRows(ctx context.Context, q string, args []any, ncols int) ([][]any, error)
	// QueryInt runs q, which returns one row of one integer (a COUNT).
	QueryInt(ctx context.Context, q string, args []any) (int, error)
}

// Queryer is what *sql.DB and *sql.Tx offer for queries (and a
// transaction's statement cache that stands in for a *sql.Tx).
type Queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// SQLReader is the database/sql Reader over q: the one for SQLite, MySQL,
// SQL Server, and for reads inside a write transaction on any dialect.
func SQLReader(q Queryer) Reader { return sqlReader{q} }

type sqlReader struct{ q Queryer }

func (r sqlReader) QueryRows(ctx context.Context, q string, args []any, ncols int) ([][]any, error) {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	ptrs := make([]any, ncols)
	for rows.Next() {
		row := make([]any, ncols)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (r sqlReader) QueryInt(ctx context.Context, q string, args []any) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}
