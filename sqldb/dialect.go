package sqldb

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-sql/civil"
)

// Dialect is what differs between the SQL dialects the facade speaks. Every
// method returns SQL text built only from identifiers the mapping specs have
// already validated and from placeholders: values are always bound.
type Dialect interface {
	// Name is "sqlite", "postgres", "sqlserver" or "mysql" (also the
	// migrations folder).
	Name() string
	// Placeholder is the n-th (1-based) bind parameter.
	Placeholder(n int) string
	// Select builds one SELECT statement; limit <= 0 means no limit.
	Select(cols, from, where, orderBy string, limit int) string
	// InsertReturning inserts one row and returns its generated key column.
	InsertReturning(table string, cols []string, firstArg int, key string) string
	// LikeCI is a case-insensitive LIKE of col against a bound pattern that
	// uses '\' as its escape character. lowerArg reports whether the bound
	// pattern must be lower-cased by the caller.
	LikeCI(col, ph string) (cond string, lowerArg bool)
	// EqualCS is a case-sensitive equality of col and a bound value.
	EqualCS(col, ph string) string
	// TimeArg binds a zone-less legacy date-time (wall clock of t).
	TimeArg(t time.Time) any
	// DateArg binds a legacy DATE (the calendar day of t).
	DateArg(t time.Time) any
}

// EscapeLike escapes the LIKE wildcards in s with '\'.
func EscapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `[`, `\[`)
	return r.Replace(s)
}

func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// SQLite is the embedded default's dialect (modernc.org/sqlite).
type SQLite struct{}

// Name implements Dialect.
func (SQLite) Name() string { return "sqlite" }

// Placeholder implements Dialect.
func (SQLite) Placeholder(n int) string { return "?" + strconv.Itoa(n) }

// Select implements Dialect.
func (SQLite) Select(cols, from, where, orderBy string, limit int) string {
	return limitSelect(cols, from, where, orderBy, limit)
}

// InsertReturning implements Dialect.
func (d SQLite) InsertReturning(table string, cols []string, firstArg int, key string) string {
	return insertSQL(d, table, cols, firstArg) + " RETURNING " + key
}

// LikeCI implements Dialect: SQLite's LIKE is case-insensitive for ASCII.
func (SQLite) LikeCI(col, ph string) (string, bool) {
	return col + " LIKE " + ph + ` ESCAPE '\'`, false
}

// EqualCS implements Dialect.
func (SQLite) EqualCS(col, ph string) string { return col + " = " + ph }

// TimeArg implements Dialect: legacy date-times are ISO text in SQLite, and
// compare correctly as text only in exactly this shape.
func (SQLite) TimeArg(t time.Time) any {
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05.000")
	}
	return t.Format("2006-01-02 15:04:05")
}

// DateArg implements Dialect.
func (SQLite) DateArg(t time.Time) any { return t.Format("2006-01-02") }

// Postgres is PostgreSQL through pgx.
type Postgres struct{}

// Name implements Dialect.
func (Postgres) Name() string { return "postgres" }

// Placeholder implements Dialect.
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// Select implements Dialect.
func (Postgres) Select(cols, from, where, orderBy string, limit int) string {
	return limitSelect(cols, from, where, orderBy, limit)
}

// InsertReturning implements Dialect.
func (d Postgres) InsertReturning(table string, cols []string, firstArg int, key string) string {
	return insertSQL(d, table, cols, firstArg) + " RETURNING " + key
}

// LikeCI implements Dialect: lower(col) matches the lower(...) text_pattern_ops
// indexes of the legacy schema.
func (Postgres) LikeCI(col, ph string) (string, bool) {
	return "lower(" + col + ") LIKE " + ph + ` ESCAPE '\'`, true
}

// EqualCS implements Dialect.
func (Postgres) EqualCS(col, ph string) string { return col + " = " + ph }

// TimeArg implements Dialect.
func (Postgres) TimeArg(t time.Time) any { return wallClock(t) }

// DateArg implements Dialect.
func (Postgres) DateArg(t time.Time) any { return t.Format("2006-01-02") }

// SQLServer is Microsoft SQL Server (go-mssqldb), the production legacy target.
type SQLServer struct{}

// Name implements Dialect.
func (SQLServer) Name() string { return "sqlserver" }

// Placeholder implements Dialect.
func (SQLServer) Placeholder(n int) string { return "@p" + strconv.Itoa(n) }

// Select implements Dialect: T-SQL has TOP instead of LIMIT.
func (SQLServer) Select(cols, from, where, orderBy string, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if limit > 0 {
		fmt.Fprintf(&b, "TOP (%d) ", limit)
	}
	b.WriteString(cols + " FROM " + from)
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	if orderBy != "" {
		b.WriteString(" ORDER BY " + orderBy)
	}
	return b.String()
}

// InsertReturning implements Dialect with an OUTPUT clause.
func (d SQLServer) InsertReturning(table string, cols []string, firstArg int, key string) string {
	phs := make([]string, len(cols))
	for i := range cols {
		phs[i] = d.Placeholder(firstArg + i)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") OUTPUT INSERTED." + key +
		" VALUES (" + strings.Join(phs, ", ") + ")"
}

// LikeCI implements Dialect: the legacy columns use the server's default
// case-insensitive collation, so a plain LIKE can use their indexes.
func (SQLServer) LikeCI(col, ph string) (string, bool) {
	return col + " LIKE " + ph + ` ESCAPE '\'`, false
}

// EqualCS implements Dialect.
func (SQLServer) EqualCS(col, ph string) string {
	return col + " = " + ph + " COLLATE Latin1_General_100_CS_AS"
}

// TimeArg implements Dialect: civil.DateTime (sent as datetime2) keeps go-mssqldb from sending a
// datetimeoffset, which would shift the zone-less legacy values.
func (SQLServer) TimeArg(t time.Time) any { return civil.DateTimeOf(wallClock(t)) }

// DateArg implements Dialect.
func (SQLServer) DateArg(t time.Time) any { return t.Format("2006-01-02") }

func limitSelect(cols, from, where, orderBy string, limit int) string {
	// sized once: every search builds one, and the select list alone is
	// hundreds of bytes
	var b strings.Builder
	b.Grow(len("SELECT  FROM  WHERE  ORDER BY  LIMIT 0000000000") + len(cols) + len(from) + len(where) + len(orderBy))
	for _, s := range []string{"SELECT ", cols, " FROM ", from} {
		b.WriteString(s)
	}
	if where != "" {
		b.WriteString(" WHERE ")
		b.WriteString(where)
	}
	if orderBy != "" {
		b.WriteString(" ORDER BY ")
		b.WriteString(orderBy)
	}
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	return b.String()
}

func insertSQL(d Dialect, table string, cols []string, firstArg int) string {
	phs := make([]string, len(cols))
	for i := range cols {
		phs[i] = d.Placeholder(firstArg + i)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(phs, ", ") + ")"
}

// numericSQL are the dialects' "text to number, or NULL when not a plain
// decimal" expressions, used for quantity search on text result columns.
var numericSQL = map[string]string{
	"sqlite":    "(CASE WHEN %[1]s <> '' AND trim(%[1]s, '0123456789.-') = '' AND %[1]s NOT LIKE '%%.%%.%%' THEN CAST(%[1]s AS REAL) END)",
	"postgres":  `(CASE WHEN %[1]s ~ '^-?[0-9]+(\.[0-9]+)?$' THEN %[1]s::numeric END)`,
	"sqlserver": "TRY_CAST(%[1]s AS decimal(38,10))",
	// [.] rather than \. : a backslash in a MySQL string literal means
	// different things under different sql_modes
	"mysql": "(CASE WHEN %[1]s REGEXP '^-?[0-9]+([.][0-9]+)?$' THEN CAST(%[1]s AS DECIMAL(38,10)) END)",
}

// Numeric is col read as a number, NULL when the text is not a plain decimal.
func Numeric(d Dialect, col string) string { return fmt.Sprintf(numericSQL[d.Name()], col) }

// StampArg binds an instant for the control store's timestamp columns:
// RFC 3339 text in SQLite (which has no time type), timestamptz elsewhere.
func StampArg(d Dialect, t time.Time) any {
	if d.Name() == "sqlite" {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return t.UTC()
}

// SortableStamp is the layout of SortableStampArg's SQLite text: fixed
// width (always six fractional digits), so text order is time order.
const SortableStamp = "2006-01-02T15:04:05.000000Z"

// SortableStampArg binds an instant for a control-store timestamp column
// that SQL compares (the audit trail's recorded): SortableStamp text,
// truncated to the microsecond, in SQLite; timestamptz elsewhere.
func SortableStampArg(d Dialect, t time.Time) any {
	if d.Name() == "sqlite" {
		return t.UTC().Format(SortableStamp)
	}
	return t.UTC()
}

// resetIdentitySQL are the dialects' "move table's identity column col
// past its largest value" statements ("" where the identity follows
// explicit keys by itself: SQLite's AUTOINCREMENT).
var resetIdentitySQL = map[string]string{
	"sqlite":    "",
	"postgres":  "SELECT setval(pg_get_serial_sequence('%[1]s', '%[2]s'), COALESCE((SELECT MAX(%[2]s) FROM %[1]s), 0) + 1, false)",
	"sqlserver": "DECLARE @m int = (SELECT COALESCE(MAX(%[2]s), 0) FROM %[1]s); DBCC CHECKIDENT ('%[1]s', RESEED, @m)",
}

// ResetIdentity is the statement that moves table's identity column col
// past the keys inserted explicitly ("" when none is needed). table and
// col are trusted names, never client input.
func ResetIdentity(d Dialect, table, col string) string {
	if f := resetIdentitySQL[d.Name()]; f != "" {
		return fmt.Sprintf(f, table, col)
	}
	return ""
}

// IdentityInsert wraps a statement that gives table's identity column
// explicit values: what goes before and after it ("" where explicit
// values need no permission; SQL Server's IDENTITY_INSERT).
func IdentityInsert(d Dialect, table string) (before, after string) {
	if d.Name() == "sqlserver" {
		return "SET IDENTITY_INSERT " + table + " ON; ", "; SET IDENTITY_INSERT " + table + " OFF"
	}
	return "", ""
}

// BoolArg binds a boolean (SQLite keeps 0 and 1).
func BoolArg(d Dialect, b bool) any {
	if d.Name() == "sqlite" {
		if b {
			return 1
		}
		return 0
	}
	return b
}
