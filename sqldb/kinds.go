package sqldb

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// mixedEndianUUID: SQL Server's uniqueidentifier comes back from the
// driver as 16 bytes with its first three groups little-endian.
var mixedEndianUUID = map[string]bool{"sqlserver": true}

// UUIDText is the canonical text of a uuid as the driver of d scanned it.
func UUIDText(d Dialect, b []byte) string {
	var u uuid.UUID
	copy(u[:], b)
	if mixedEndianUUID[d.Name()] {
		u[0], u[1], u[2], u[3] = b[3], b[2], b[1], b[0]
		u[4], u[5] = b[5], b[4]
		u[6], u[7] = b[7], b[6]
	}
	return u.String()
}

// textInstants: dialects with no time type, where an instant column holds
// ISO 8601 text with an offset. Text with different offsets does not
// compare or sort as instants do, so such a column is compared through
// instantSQL and bound as UTC text in the same form.
var textInstants = map[string]string{
	"sqlite": "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s)",
}

// TimesAsText reports whether d keeps date-times as ISO 8601 text (it has
// no time type).
func TimesAsText(d Dialect) bool {
	_, ok := textInstants[d.Name()]
	return ok
}

// InstantExpr is col, an instant column, as an expression that compares
// and sorts as instants do.
func InstantExpr(d Dialect, col string) string {
	if f, ok := textInstants[d.Name()]; ok {
		return fmt.Sprintf(f, col)
	}
	return col
}

// InstantArg binds an instant to compare with InstantExpr: as RFC 3339
// text where instants are text (to go through InstantExpr itself, so that
// both sides round alike).
func InstantArg(d Dialect, t time.Time) any {
	if _, ok := textInstants[d.Name()]; ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return t.UTC()
}

// textSQL renders a column of any type as text, for LIKE (PostgreSQL has
// no LIKE on uuid or numbers).
var textSQL = map[string]string{
	"postgres":  "CAST(%s AS text)",
	"sqlserver": "CAST(%s AS nvarchar(4000))",
	"mysql":     "CAST(%s AS CHAR)",
	"sqlite":    "%s",
}

// TextExpr is col read as text.
func TextExpr(d Dialect, col string) string {
	f, ok := textSQL[d.Name()]
	if !ok {
		f = "%s"
	}
	return fmt.Sprintf(f, col)
}

// nullsLast: dialects whose ORDER BY takes NULLS LAST (planners serve it
// from an index; the CASE other dialects need cannot be).
var nullsLast = map[string]bool{"postgres": true, "sqlite": true}

// NullsLast reports whether d's ORDER BY takes NULLS LAST.
func NullsLast(d Dialect) bool { return nullsLast[d.Name()] }

// likeIndexTerm is the index term that serves LikeCI's case-insensitive
// prefix LIKE on a column: PostgreSQL compares lower(col) with the C
// collation's byte order; SQLite's LIKE is case-insensitive, which an
// index serves only with COLLATE NOCASE; the case-insensitive default
// collations of SQL Server and MySQL serve it with a plain index.
var likeIndexTerm = map[string]string{
	"postgres": "lower(%s) text_pattern_ops",
	"sqlite":   "%s COLLATE NOCASE",
}

// LikeIndexTerm is the CREATE INDEX term for col that serves LikeCI.
func LikeIndexTerm(d Dialect, col string) string {
	if f, ok := likeIndexTerm[d.Name()]; ok {
		return fmt.Sprintf(f, col)
	}
	return col
}

// indexNullsLast: dialects whose CREATE INDEX takes NULLS LAST on a
// column (SQLite's ORDER BY takes it, its index definitions do not).
var indexNullsLast = map[string]bool{"postgres": true}

// IndexNullsLast reports whether d's CREATE INDEX takes NULLS LAST.
func IndexNullsLast(d Dialect) bool { return indexNullsLast[d.Name()] }

// concatInfix: dialects that concatenate with an operator; the others
// take CONCAT(...).
var concatInfix = map[string]string{"postgres": " || ", "sqlite": " || "}

// Concat is the text concatenation of parts (SQL expressions).
func Concat(d Dialect, parts []string) string {
	if op, ok := concatInfix[d.Name()]; ok {
		return "(" + strings.Join(parts, op) + ")"
	}
	return "CONCAT(" + strings.Join(parts, ", ") + ")"
}

// backslashEscapes: dialects whose string literals treat a backslash as
// an escape (MySQL's default sql_mode).
var backslashEscapes = map[string]bool{"mysql": true}

// StringLiteral quotes s as a SQL string literal for d (spec text only:
// request values are always bound).
func StringLiteral(d Dialect, s string) string {
	if backslashEscapes[d.Name()] {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
