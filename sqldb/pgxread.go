package sqldb

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgxReader is the Reader for PostgreSQL: the statements of reads and
// searches on a native pgx pool instead of database/sql over pgx's stdlib.
// Measured under 16 concurrent searches (BENCHMARKS.md, issue 11), the
// database/sql path cost ~44 allocations and 5–30 µs of CPU more per query,
// and its 32-connection pool kept 16 PostgreSQL backends busy at once on a
// 2-core machine where pgxpool's default (max(4, cores)) queues the rest
// cheaply in the Go process; asking database/sql for 4 connections made it
// twice as slow.
type pgxReader struct{ pool *pgxpool.Pool }

// openPgxPool opens the pool lazily: no connection is made until the first
// statement or ping, so a database that never serves legacy reads (the
// control store) costs nothing but the pool's health-check goroutine.
func openPgxPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// stdlibResultFormats is pgx stdlib's databaseSQLResultFormats (v5.12
// stdlib/sql.go): binary only for these intrinsic types, text for every
// other. Asking for the same formats is what makes numeric, uuid, json and
// every other non-intrinsic value arrive as the same text stdlib gives
// database/sql ("15.3000", not a binary numeric rendered by pgtype).
var stdlibResultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID:        1,
	pgtype.ByteaOID:       1,
	pgtype.CIDOID:         1,
	pgtype.DateOID:        1,
	pgtype.Float4OID:      1,
	pgtype.Float8OID:      1,
	pgtype.Int2OID:        1,
	pgtype.Int4OID:        1,
	pgtype.Int8OID:        1,
	pgtype.OIDOID:         1,
	pgtype.TimestampOID:   1,
	pgtype.TimestamptzOID: 1,
	pgtype.XIDOID:         1,
}

func (r pgxReader) QueryRows(ctx context.Context, q string, args []any, ncols int) ([][]any, error) {
	a := make([]any, 0, 1+len(args))
	a = append(append(a, stdlibResultFormats), args...)
	rows, err := r.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	var conv []valueFunc
	for rows.Next() {
		raw := rows.RawValues()
		if conv == nil {
			if conv, err = valueFuncs(rows.Conn().TypeMap(), rows.FieldDescriptions(), ncols); err != nil {
				return nil, err
			}
		}
		row := make([]any, len(raw))
		for i, rv := range raw {
			if rv == nil {
				continue // NULL: nil, as database/sql gives
			}
			if row[i], err = conv[i](rv); err != nil {
				return nil, fmt.Errorf("convert field %d failed: %w", i, err)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (r pgxReader) QueryInt(ctx context.Context, q string, args []any) (int, error) {
	var n int
	err := r.pool.QueryRow(ctx, q, args...).Scan(&n)
	return n, err
}

// valueFunc turns one non-NULL column value, as received, into the Go
// value database/sql would hold after scanning it into *any.
type valueFunc func(src []byte) (any, error)

// valueFuncs mirrors pgx stdlib's Rows.initValueFuncs (v5.12) column by
// column, with database/sql's copy of []byte values added (convertAssign
// clones a driver's []byte when it scans into *any). Any change here
// changes what legacy rows look like to the mapping engine: the
// pgx-versus-stdlib test in package legacy compares both paths over every
// column type of both demo schemas.
func valueFuncs(m *pgtype.Map, fds []pgconn.FieldDescription, ncols int) ([]valueFunc, error) {
	if len(fds) != ncols {
		return nil, fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(fds), ncols)
	}
	out := make([]valueFunc, len(fds))
	for i, fd := range fds {
		out[i] = valueFuncOf(m, fd)
	}
	return out, nil
}

func valueFuncOf(m *pgtype.Map, fd pgconn.FieldDescription) valueFunc {
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		return scanAs(m, fd, func(d bool) (any, error) { return d, nil })
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return scanAs(m, fd, func(d []byte) (any, error) { return bytes.Clone(d), nil })
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return scanAs(m, fd, pgtype.Uint32.Value)
	case pgtype.DateOID:
		return scanAs(m, fd, pgtype.Date.Value)
	case pgtype.Float4OID:
		return scanAs(m, fd, func(d float32) (any, error) { return float64(d), nil })
	case pgtype.Float8OID:
		return scanAs(m, fd, func(d float64) (any, error) { return d, nil })
	case pgtype.Int2OID:
		return scanAs(m, fd, func(d int16) (any, error) { return int64(d), nil })
	case pgtype.Int4OID:
		return scanAs(m, fd, func(d int32) (any, error) { return int64(d), nil })
	case pgtype.Int8OID:
		return scanAs(m, fd, func(d int64) (any, error) { return d, nil })
	case pgtype.TimestampOID:
		return scanAs(m, fd, pgtype.Timestamp.Value)
	case pgtype.TimestamptzOID:
		return scanAs(m, fd, pgtype.Timestamptz.Value)
	}
	if fd.Format == pgtype.TextFormatCode {
		// pgx's plan for text into a *string is scanPlanString for every
		// type (pgtype.Map.PlanScan, v5.12): the bytes as a string. One
		// shared func instead of a closure and a scan target per column
		// and statement: most columns are text, and this ran for every
		// query
		return textValue
	}
	return scanAs(m, fd, func(d string) (any, error) { return d, nil })
}

// textValue is a text-format column's value as database/sql holds it.
func textValue(src []byte) (any, error) { return string(src), nil }

// scanAs scans into a T with the type map's plan for the column, then
// converts the T. Like stdlib, one T per column is reused row after row.
func scanAs[T any, V any](m *pgtype.Map, fd pgconn.FieldDescription, conv func(T) (V, error)) valueFunc {
	var d T
	plan := m.PlanScan(fd.DataTypeOID, fd.Format, &d)
	return func(src []byte) (any, error) {
		if err := plan.Scan(src, &d); err != nil {
			return nil, err
		}
		v, err := conv(d)
		return any(v), err
	}
}
