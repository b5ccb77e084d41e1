package control

import (
	"context"
	"database/sql"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Querier is what the typed methods need of a database or a transaction
// on it (a route move reads its evidence inside its own transaction).
type Querier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (s *Store) ph(n int) string { return s.DB.Dialect.Placeholder(n) }

func (s *Store) ts(t time.Time) any { return sqldb.StampArg(s.DB.Dialect, t) }

// ParseTime reads a stored control-store time, whichever way the driver
// returns it (time.Time, or RFC 3339 text from SQLite).
func ParseTime(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case string:
		t, _ := time.Parse(time.RFC3339Nano, x)
		return t
	case []byte:
		t, _ := time.Parse(time.RFC3339Nano, string(x))
		return t
	}
	return time.Time{}
}
