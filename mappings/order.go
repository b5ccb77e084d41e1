package mappings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fhirfacade/fhirfacade/search"
)

// sortKeys resolves _sort into columns; the key always ends the order so
// that keyset paging is total.
func (s *Spec) sortKeys(sorts []search.Sort) ([]string, []bool, error) {
	var cols []string
	var desc []bool
	for _, so := range sorts {
		p := s.params[so.Param]
		if p == nil || p.sortCol == "" {
			return nil, nil, fmt.Errorf("%w: _sort=%s (sortable: %s)", ErrUnsupported, so.Param, strings.Join(s.sortable(), ", "))
		}
		if p.sortCol == "t."+s.Key {
			continue
		}
		cols = append(cols, p.sortCol)
		desc = append(desc, so.Desc)
	}
	return cols, desc, nil
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
// values come last in both directions; the key breaks ties ascending.
func (s *Spec) order(b *builder, sorts []search.Sort, after *Cursor) (string, string, error) {
	cols, desc, err := s.sortKeys(sorts)
	if err != nil {
		return "", "", err
	}
	key := "t." + s.Key
	var ob []string
	for i, c := range cols {
		dir := ""
		if desc[i] {
			dir = " DESC"
		}
		ob = append(ob, "CASE WHEN "+c+" IS NULL THEN 1 ELSE 0 END", c+dir)
	}
	ob = append(ob, key)
	if after == nil {
		return strings.Join(ob, ", "), "", nil
	}
	if len(after.Vals) != len(cols)+1 {
		return "", "", fmt.Errorf("%w: page token does not fit this search", search.ErrInvalid)
	}
	vals := make([]any, len(after.Vals))
	for i, raw := range after.Vals {
		kind := "key"
		if i < len(cols) {
			kind = s.colKind(cols[i])
		}
		v, err := decodeCursorVal(raw, kind)
		if err != nil {
			return "", "", fmt.Errorf("%w: page token: %v", search.ErrInvalid, err)
		}
		vals[i] = v
	}
	// (c1, c2, ..., key) > (v1, v2, ..., k) in the order above, expanded
	// because SQL Server has no row-value comparison
	var build func(i int) string
	build = func(i int) string {
		if i == len(cols) {
			return key + " > " + b.arg(vals[i])
		}
		c := cols[i]
		if vals[i] == nil { // in the NULL tail: only NULLs follow
			return "(" + c + " IS NULL AND " + build(i+1) + ")"
		}
		op := " > "
		if desc[i] {
			op = " < "
		}
		return "(" + c + op + b.arg(vals[i]) + " OR " + c + " IS NULL OR (" + c + " = " + b.arg(vals[i]) + " AND " + build(i+1) + "))"
	}
	return strings.Join(ob, ", "), build(0), nil
}

// CursorAfter is the cursor positioned after row for the given sort.
func (s *Spec) CursorAfter(row Row, sorts []search.Sort) (*Cursor, error) {
	cols, _, err := s.sortKeys(sorts)
	if err != nil {
		return nil, err
	}
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
			return "t:" + t.Format("2006-01-02T15:04:05.999999999")
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
		if kind == "date" {
			return DateVal{t}, nil
		}
		return DateTimeVal{t}, nil
	}
	return nil, fmt.Errorf("malformed position")
}
