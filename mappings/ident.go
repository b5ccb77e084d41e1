package mappings

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Names in a spec are written as a legacy database has them: plain
// (pat_id, PatientGUID), quoted ("Name Prefix"), bracketed ([Name Prefix],
// as SQL Server scripts write them) or back-quoted, and a table may carry
// a schema (dbo.PatientMaster, [dbo].[PatientMaster]). The engine keeps
// the unquoted parts and quotes them again for the dialect it talks to.

// bareRE is an unquoted name as a spec may write it.
var bareRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$#@]{0,127}$`)

// parseName splits a possibly qualified, possibly quoted name into its
// unquoted parts (at most max of them).
func parseName(s string, max int) ([]string, error) {
	var parts []string
	rest := strings.TrimSpace(s)
	for {
		part, after, err := namePart(rest)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		parts = append(parts, part)
		if after == "" {
			break
		}
		if after[0] != '.' {
			return nil, fmt.Errorf("%q: unexpected %q after a name", s, after)
		}
		rest = after[1:]
	}
	if len(parts) > max {
		return nil, fmt.Errorf("%q: at most %d dot-separated parts", s, max)
	}
	return parts, nil
}

// closers are the quote characters a name may start with, and their ends.
var closers = map[byte]byte{'"': '"', '[': ']', '`': '`'}

// namePart reads one name from the front of s: quoted (a doubled closing
// quote stands for itself) or bare.
func namePart(s string) (name, rest string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("empty name")
	}
	end, quoted := closers[s[0]]
	if !quoted {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			i = len(s)
		}
		if !bareRE.MatchString(s[:i]) {
			return "", "", fmt.Errorf("%q is not a plain SQL name (quote it: \"...\" or [...])", s[:i])
		}
		return s[:i], s[i:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != end {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == end {
			b.WriteByte(end)
			i++
			continue
		}
		if b.Len() == 0 || b.Len() > 128 {
			return "", "", fmt.Errorf("a quoted name must have 1 to 128 characters")
		}
		return b.String(), s[i+1:], nil
	}
	return "", "", fmt.Errorf("unterminated quoted name")
}

// tableName is a spec's table as parsed: its schema ("" for the default)
// and name, unquoted; or a logical table's SELECT (query).
type tableName struct{ schema, name, query string }

func parseTable(s string) (tableName, error) {
	parts, err := parseName(s, 2)
	if err != nil {
		return tableName{}, err
	}
	if len(parts) == 2 {
		return tableName{schema: parts[0], name: parts[1]}, nil
	}
	return tableName{name: parts[0]}, nil
}

// sql renders the table for d.
func (t tableName) sql(d sqldb.Dialect) string {
	if t.query != "" {
		return "(" + t.query + ")"
	}
	return sqldb.TableSQL(d, t.schema, t.name)
}

// ParseTable splits a table name as a spec (or a command line) writes it,
// dbo.PatientMaster, [dbo].[Patient Master], "pat_master", into its
// schema ("" for none) and name, unquoted.
func ParseTable(s string) (schema, name string, err error) {
	t, err := parseTable(s)
	if err != nil {
		return "", "", fmt.Errorf("%w: table %v", ErrSpec, err)
	}
	return t.schema, t.name, nil
}

// SpecName writes one unquoted name as a spec can read it back: bare when
// it is a plain name, else bracketed ([Name Prefix]), or double-quoted
// when it holds a closing bracket.
func SpecName(name string) string {
	if bareRE.MatchString(name) {
		return name
	}
	if !strings.Contains(name, "]") {
		return "[" + name + "]"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
