package mappings

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// sortKeys resolves _sort into columns; the key always ends the order so
// that keyset paging is total. keyDesc is the key's direction: as given
// when _sort names _id (which then ends the order: it is unique), else the
// last sort's, so that one index scan serves the order.
func (s *Spec) sortKeys(sorts []search.Sort) (cols []string, desc []bool, keyDesc bool, err error) {
	for _, so := range sorts {
		p := s.params[so.Param]
		if p == nil && so.Param == "_lastUpdated" {
			return nil, nil, false, s.noStamp()
		}
		if p == nil || p.sortCol == "" {
			return nil, nil, false, fmt.Errorf("%w: _sort=%s (sortable: %s)", ErrUnsupported, so.Param, strings.Join(s.sortable(), ", "))
		}
		if p.sortCol == "t."+s.Key {
			return cols, desc, so.Desc, nil
		}
		cols = append(cols, p.sortCol)
		desc = append(desc, so.Desc)
	}
	return cols, desc, len(desc) > 0 && desc[len(desc)-1], nil
}

func (s *Spec) sortable() []string {
	var out []string
	for _, n := range s.SearchParams() {
		if s.params[n].sortCol != "" {
			out = append(out, n)
		}
	}
	return out
}

// order builds ORDER BY and, after a cursor, the keyset condition. NULL sort
// values come last in both directions; the key breaks ties in the
// direction of the last sort, so that an index on a sort column serves the
// whole order by scanning one way. Columns the live schema says are NOT
// NULL get no NULL handling at all: a planner can then serve the order
// from their index (a CASE over the column cannot be).
func (s *Spec) order(b *builder, sorts []search.Sort, after *Cursor) (string, string, error) {
	cols, desc, keyDesc, err := s.sortKeys(sorts)
	if err != nil {
		return "", "", err
	}
	var ob []string
	for i, c := range cols {
		ob = append(ob, s.orderTerm(b, c, desc[i])...)
	}
	ob = append(ob, b.c("t."+s.Key)+map[bool]string{true: " DESC"}[keyDesc])
	if after == nil {
		return strings.Join(ob, ", "), "", nil
	}
	vals, err := s.cursorVals(cols, after)
	if err != nil {
		return "", "", err
	}
	return strings.Join(ob, ", "), s.seek(b, cols, desc, vals) + s.keyset(b, cols, append(desc, keyDesc), vals, 0), nil
}

// seek is a leading bound on the first sort column when it is NOT NULL:
// c >= v (c <= v descending) says the same as the keyset condition after
// it, but in a form a planner can start an index range scan from; without
// it every later page walked the index from its start.
func (s *Spec) seek(b *builder, cols []string, desc []bool, vals []any) string {
	if len(cols) == 0 || vals[0] == nil || s.nullable(cols[0]) {
		return ""
	}
	op := map[bool]string{false: " >= ", true: " <= "}[desc[0]]
	return b.cmp(cols[0]) + op + b.arg(vals[0]) + " AND "
}

// orderTerm is one sort column's ORDER BY terms, NULLs last.
func (s *Spec) orderTerm(b *builder, ref string, desc bool) []string {
	c := b.cmp(ref)
	dir := map[bool]string{true: " DESC"}[desc]
	switch {
	case !s.nullable(ref):
		return []string{c + dir}
	case sqldb.NullsLast(b.d):
		return []string{c + dir + " NULLS LAST"}
	}
	return []string{"CASE WHEN " + c + " IS NULL THEN 1 ELSE 0 END", c + dir}
}

// nullable reports whether a column may hold NULL (unknown before Bind:
// assumed so).
func (s *Spec) nullable(ref string) bool {
	c, ok := s.live[ref]
	switch {
	case !ok || c.Nullable:
		return true
	case !strings.HasPrefix(ref, "t."):
		// a LEFT JOIN gives NULL for rows without a partner, whatever
		// the joined table declares
		return true
	case c.Kind == sqldb.KindInstant && s.d != nil && sqldb.TimesAsText(s.d):
		// a text instant strftime cannot read compares as NULL
		return true
	}
	return false
}

// cursorVals decodes a cursor's values for the sort columns and the key.
func (s *Spec) cursorVals(cols []string, after *Cursor) ([]any, error) {
	if len(after.Vals) != len(cols)+1 {
		return nil, fmt.Errorf("%w: page token does not fit this search", search.ErrInvalid)
	}
	vals := make([]any, len(after.Vals))
	for i, raw := range after.Vals {
		ref := "t." + s.Key
		if i < len(cols) {
			ref = cols[i]
		}
		v, err := decodeCursorVal(raw, s.cursorKind(ref, i < len(cols)))
		if err != nil {
			return nil, fmt.Errorf("%w: page token: %v", search.ErrInvalid, err)
		}
		if dt, ok := v.(DateTimeVal); ok {
			v = s.wallArg(ref, dt) // as the column holds it (SQLite's text)
		}
		vals[i] = v
	}
	return vals, nil
}

// cursorKind is how a cursor value of ref is read back.
func (s *Spec) cursorKind(ref string, sorted bool) string {
	switch {
	case s.kindOf(ref) == sqldb.KindInstant:
		return "instant"
	case sorted:
		return s.colKind(ref)
	}
	return "key"
}

// keyset is (c1, c2, ..., key) after (v1, v2, ..., k) in the order's
// directions, expanded because SQL Server has no row-value comparison.
func (s *Spec) keyset(b *builder, cols []string, desc []bool, vals []any, i int) string {
	op := map[bool]string{false: " > ", true: " < "}[desc[i]]
	if i == len(cols) {
		return b.c("t."+s.Key) + op + b.arg(vals[i])
	}
	c := b.cmp(cols[i])
	if vals[i] == nil { // in the NULL tail: only NULLs follow
		return "(" + c + " IS NULL AND " + s.keyset(b, cols, desc, vals, i+1) + ")"
	}
	nulls := ""
	if s.nullable(cols[i]) {
		nulls = " OR " + c + " IS NULL"
	}
	return "(" + c + op + b.arg(vals[i]) + nulls + " OR (" + c + " = " + b.arg(vals[i]) + " AND " + s.keyset(b, cols, desc, vals, i+1) + "))"
}

// CursorAfter is the cursor positioned after row for the given sort.
func (s *Spec) CursorAfter(row Row, sorts []search.Sort) (*Cursor, error) {
	cols, _, _, err := s.sortKeys(sorts)
	if err != nil {
		return nil, err
	}
	// normalised (an instant as an instant) so that the position reads
	// back as the value the keyset compares; an unreadable value was
	// reported by Encode already
	_ = s.Normalize(row)
	c := &Cursor{}
	for _, col := range append(cols, "t."+s.Key) {
		c.Vals = append(c.Vals, encodeCursorVal(row[s.colIndex[col]]))
	}
	return c, nil
}

func encodeCursorVal(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		return "i:" + strconv.FormatInt(x, 10)
	case int32:
		return "i:" + strconv.FormatInt(int64(x), 10)
	}
	if t, ok, err := asTime(v); err == nil && ok {
		if _, isStr := v.(string); !isStr {
			// with its offset: an instant column's value reads back as
			// the same instant, a wall clock (UTC) as the same clock
			return "t:" + t.Format(time.RFC3339Nano)
		}
	}
	str, _ := asString(v)
	return "s:" + str
}

func decodeCursorVal(raw any, kind string) (any, error) {
	if raw == nil {
		return nil, nil
	}
	str, ok := raw.(string)
	if !ok || len(str) < 2 || str[1] != ':' {
		return nil, fmt.Errorf("malformed position")
	}
	body := str[2:]
	switch str[0] {
	case 'i':
		n, err := strconv.ParseInt(body, 10, 64)
		return n, err
	case 's':
		if kind == "date" || kind == "datetime" {
			t, ok, err := parseLegacyTime(body)
			if err != nil || !ok {
				return nil, fmt.Errorf("malformed position")
			}
			if kind == "date" {
				return DateVal{t}, nil
			}
			return DateTimeVal{t}, nil
		}
		return body, nil
	case 't':
		t, ok, err := parseLegacyTime(body)
		if err != nil || !ok {
			return nil, fmt.Errorf("malformed position")
		}
		switch kind {
		case "instant":
			return InstantVal{t}, nil
		case "date":
			return DateVal{t}, nil
		}
		return DateTimeVal{t}, nil
	}
	return nil, fmt.Errorf("malformed position")
}

// noStamp is the error of _lastUpdated on a type whose spec maps no
// last-updated column: an error, not a silently ignored parameter.
func (s *Spec) noStamp() error {
	return fmt.Errorf("%w: _lastUpdated: the legacy table of %s has no last-updated column (its spec names none)", search.ErrInvalid, s.ResourceType)
}
