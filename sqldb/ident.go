package sqldb

import (
	"regexp"
	"strings"
)

// plainRE is a name no dialect needs quoted: SQL renders it bare, which
// keeps the SQL of plain schemas as a person would write it.
var plainRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// quoteFor is each dialect's identifier quoting.
var quoteFor = map[string][2]string{
	"postgres":  {`"`, `"`},
	"sqlite":    {`"`, `"`},
	"sqlserver": {"[", "]"},
	"mysql":     {"`", "`"},
}

// QuoteName renders one unquoted name for d: bare when plain, quoted
// otherwise (mixed case, spaces, reserved-looking characters).
func QuoteName(d Dialect, name string) string {
	if plainRE.MatchString(name) && !reserved[name] {
		return name
	}
	q, ok := quoteFor[d.Name()]
	if !ok {
		q = [2]string{`"`, `"`}
	}
	return q[0] + strings.ReplaceAll(name, q[1], q[1]+q[1]) + q[1]
}

// reserved are lower-case words a legacy schema may use as a column name
// that some dialect reserves: always quoted.
var reserved = map[string]bool{
	"user": true, "order": true, "group": true, "select": true, "from": true, "where": true,
	"table": true, "key": true, "value": true, "date": true, "time": true, "timestamp": true,
	"index": true, "desc": true, "asc": true, "check": true,
	"default": true, "primary": true, "references": true, "end": true, "case": true,
	"limit": true, "offset": true, "in": true, "is": true, "on": true, "all": true,
	"column": true, "row": true, "rows": true, "and": true, "or": true, "not": true,
}

// schemaless dialects have no schema level below the database, so a
// qualifier written for SQL Server (dbo.X) is dropped there. SQLite keeps
// one schema per file. In MySQL/MariaDB a "schema" is a database: dbo.X
// would name a database other than the one the DSN opens, shared by every
// database of the server and with grants of its own, so the DSN's database
// plays dbo's part (the EHR demo schema is created there).
var schemaless = map[string]bool{"sqlite": true, "mysql": true}

// Schemaless reports whether d drops schema qualifiers (see schemaless).
func Schemaless(d Dialect) bool { return schemaless[d.Name()] }

// TableSQL renders a table name, qualified by schema where the dialect
// has schemas and one is given.
func TableSQL(d Dialect, schema, name string) string {
	if schema == "" || schemaless[d.Name()] {
		return QuoteName(d, name)
	}
	return QuoteName(d, schema) + "." + QuoteName(d, name)
}
