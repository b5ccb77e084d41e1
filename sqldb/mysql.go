package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL is MySQL or MariaDB through go-sql-driver/mysql, as a legacy
// database only (the control store stays on PostgreSQL or SQLite).
type MySQL struct {
	// NoReturning: the server has no INSERT … RETURNING (MySQL, MariaDB
	// before 10.5); the generated key then comes from LAST_INSERT_ID, which
	// only AUTO_INCREMENT keys have.
	NoReturning bool
}

// Name implements Dialect.
func (MySQL) Name() string { return "mysql" }

// Placeholder implements Dialect. MySQL's placeholders are positional: the
// n-th "?" in the text takes the n-th argument, so SQL must be written in
// the order its arguments are bound (the mapping engine does).
func (MySQL) Placeholder(int) string { return "?" }

// Select implements Dialect.
func (MySQL) Select(cols, from, where, orderBy string, limit int) string {
	return limitSelect(cols, from, where, orderBy, limit)
}

// InsertReturning implements Dialect: MariaDB (10.5 and later) returns the
// key with RETURNING; otherwise the plain INSERT is run by InsertKey.
func (d MySQL) InsertReturning(table string, cols []string, firstArg int, key string) string {
	if d.NoReturning {
		return insertSQL(d, table, cols, firstArg)
	}
	return insertSQL(d, table, cols, firstArg) + " RETURNING " + key
}

// mysqlEscape is the LIKE escape character written so that it means one
// backslash whatever the server's sql_mode: in a string literal '\' is an
// unterminated string by default and two characters under
// NO_BACKSLASH_ESCAPES, while CHAR(92) is always the one character.
const mysqlEscape = " ESCAPE CHAR(92)"

// LikeCI implements Dialect: the default collations (utf8mb4_general_ci,
// …_unicode_ci) are case-insensitive, so a plain LIKE can use the column's
// index for a prefix.
func (MySQL) LikeCI(col, ph string) (string, bool) {
	return col + " LIKE " + ph + mysqlEscape, false
}

// EqualCS implements Dialect: the bound value's binary collation wins over
// the column's case-insensitive one (utf8mb4_bin pads spaces like the other
// dialects' CHAR comparison).
func (MySQL) EqualCS(col, ph string) string {
	return col + " = " + ph + " COLLATE utf8mb4_bin"
}

// TimeArg implements Dialect: DATETIME is a zone-less wall clock; the
// connection's time zone is UTC (see mysqlConfig), so the wall clock of t
// as a UTC time is stored and compared as it is.
func (MySQL) TimeArg(t time.Time) any { return wallClock(t) }

// DateArg implements Dialect.
func (MySQL) DateArg(t time.Time) any { return t.Format("2006-01-02") }

// Execer is what InsertKey runs its statement on: a *sql.Tx, or a
// caller's wrapper of one (the legacy backend's statement cache).
type Execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// InsertKey runs an InsertReturning statement and returns the generated
// key: from its one row, or from LAST_INSERT_ID where the dialect has no
// RETURNING.
func InsertKey(ctx context.Context, tx Execer, d Dialect, q string, args ...any) (any, error) {
	if m, ok := d.(MySQL); ok && m.NoReturning {
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		return r.LastInsertId()
	}
	var key any
	err := tx.QueryRowContext(ctx, q, args...).Scan(&key)
	return key, err
}

// mysqlConfig turns mysql://user:pass@host:port/db?params into the driver's
// configuration. Query parameters are the driver's own (tls, charset, …).
// A few are fixed because the facade depends on them:
//   - parseTime: DATE and DATETIME scan as time.Time;
//   - loc=UTC and the session time_zone '+00:00': a DATETIME is handed over
//     as its wall clock unchanged (the spec's timezone gives it its zone),
//     and a TIMESTAMP column reads as the UTC instant it is;
//   - clientFoundRows: an UPDATE reports the rows it matched, as the other
//     dialects do, so the optimistic-concurrency check (0 rows: the row
//     changed) holds when the new values equal the old;
//   - multiStatements: migration files hold several statements. Values are
//     still bound as server-side prepared statement parameters, never
//     interpolated, so this adds no injection surface.
func mysqlConfig(u *url.URL) (*mysql.Config, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("%w: mysql:// needs a host (mysql://user:pass@host:3306/db)", ErrBadDSN)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("%w: mysql:// needs one database name in its path", ErrBadDSN)
	}
	addr := u.Host
	if u.Port() == "" {
		addr += ":3306"
	}
	cfg, err := mysql.ParseDSN("tcp(" + addr + ")/" + db + "?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDSN, err)
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.ClientFoundRows, cfg.MultiStatements = true, true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	return cfg, nil
}

// mysqlDialect asks the server what it is: MariaDB 10.5 and later has
// INSERT … RETURNING, MySQL has not.
func mysqlDialect(ctx context.Context, db *sql.DB) (MySQL, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return MySQL{}, err
	}
	return MySQL{NoReturning: !mariaDBReturning(v)}, nil
}

// mariaDBReturning reports whether a VERSION() string is MariaDB ≥ 10.5.
func mariaDBReturning(v string) bool {
	if !strings.Contains(strings.ToLower(v), "mariadb") {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 10 || (major == 10 && minor >= 5)
}
