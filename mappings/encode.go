package mappings

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
)

// Row is one scanned legacy row in the spec's select-list order.
type Row []any

// Meta is what a row says about its resource's identity and version.
type Meta struct {
	ID          string
	VersionID   string
	LastUpdated time.Time
}

// RowMeta reads the id and version stamp of a row, normalised first: a
// version hashed from the row must be the one a read served (Normalize is
// idempotent; its errors surface in Encode).
func (s *Spec) RowMeta(row Row) (Meta, error) {
	_ = s.Normalize(row)
	return s.rowMeta(row)
}

// rowMeta is RowMeta of a row already normalised (Encode's hot path does
// it once).
func (s *Spec) rowMeta(row Row) (Meta, error) {
	id, ok, err := s.idTmpl.exprs[0].tr.text([]any{row[s.keyIdx]})
	if err != nil || !ok {
		return Meta{}, fmt.Errorf("%w: %s.%s: key %v: %v", ErrUnmappable, s.Table, s.Key, row[s.keyIdx], err)
	}
	id = s.idTmpl.prefix + id + s.idTmpl.suffix
	if s.updIdx < 0 || row[s.updIdx] == nil {
		// no stamp (none mapped, or NULL on this row, as on rows nobody
		// touched since a conversion): no meta.lastUpdated, and a version
		// that changes whenever the row's content does
		return Meta{ID: id, VersionID: rowVersion(row)}, nil
	}
	t, ok, err := asTime(row[s.updIdx])
	if err != nil || !ok {
		return Meta{}, &backend.RowError{Type: s.ResourceType, ID: id, Path: s.ResourceType + ".meta.lastUpdated", Column: s.LastUpdated, Detail: "not a time"}
	}
	lu := inZone(t, s.loc)
	return Meta{ID: id, VersionID: strconv.FormatInt(lu.UnixMilli(), 10), LastUpdated: lu}, nil
}

// Encode appends the FHIR JSON of row to b: resourceType, id and meta first,
// then the template's elements; absent values and elements left empty by them
// are omitted, as FHIR requires.
func (s *Spec) Encode(b []byte, row Row) ([]byte, Meta, error) {
	orig := len(b)
	if err := s.Normalize(row); err != nil {
		var re *backend.RowError
		if errors.As(err, &re) {
			re.ID = s.IDOfRow(row)
		}
		return b, Meta{}, err
	}
	m, err := s.rowMeta(row)
	if err != nil {
		return b, m, err
	}
	b = append(b, `{"resourceType":`...)
	b = appendJSONString(b, s.ResourceType)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"meta":{"versionId":`...)
	b = appendJSONString(b, m.VersionID)
	if !m.LastUpdated.IsZero() {
		b = append(b, `,"lastUpdated":"`...)
		b = m.LastUpdated.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, '"')
	}
	b = append(b, '}')
	e := encoder{row: row, s: s}
	for i, k := range s.root.keys[1:] { // [0] is resourceType
		mark := len(b)
		b = append(b, ',')
		var st state
		b, st = e.keyed(b, k, s.root.kids[i+1])
		if st == stNone {
			b = b[:mark]
		}
	}
	if e.err != nil {
		// the caller's buffer comes back as it was given
		e.err.Type, e.err.ID = s.ResourceType, m.ID
		return b[:orig], m, e.err
	}
	return append(b, '}'), m, nil
}

type state int

const (
	stNone    state = iota // nothing written
	stLiteral              // only literals written
	stDynamic              // at least one value from the row
)

type encoder struct {
	row Row
	s   *Spec
	err *backend.RowError
	tmp []any
}

func (e *encoder) vals(x *expr) []any {
	e.tmp = e.tmp[:0]
	for _, c := range x.cols {
		e.tmp = append(e.tmp, e.row[c])
	}
	if x.def != nil && e.tmp[0] == nil {
		e.tmp[0] = *x.def
	}
	return e.tmp
}

// keyed writes `"key":value` (a choice expression writes its own key).
func (e *encoder) keyed(b []byte, key string, n *node) ([]byte, state) {
	mark := len(b)
	if n.kind == kExpr && n.expr.tr.choice {
		base := key[:len(key)-3]
		b = append(b, '"')
		b = append(b, base...)
		keyEnd := len(b)
		b = append(b, `":`...)
		out, suffix, ok, err := n.expr.tr.enc(b, e.vals(n.expr))
		e.fail(n.expr, n.path, err)
		if !ok || err != nil {
			return b[:mark], stNone
		}
		// insert the suffix after the base name
		tail := append([]byte(suffix), out[keyEnd:]...)
		return append(out[:keyEnd], tail...), stDynamic
	}
	b = appendJSONString(b, key)
	b = append(b, ':')
	b, st := e.value(b, n)
	if st == stNone {
		return b[:mark], stNone
	}
	return b, st
}

func (e *encoder) value(b []byte, n *node) ([]byte, state) {
	switch n.kind {
	case kLiteral:
		return append(b, n.lit...), stLiteral
	case kExpr:
		out, _, ok, err := n.expr.tr.enc(b, e.vals(n.expr))
		e.fail(n.expr, n.path, err)
		if !ok || err != nil {
			return b, stNone
		}
		return out, stDynamic
	case kInterp:
		if it := n.interp; len(it.exprs) == 1 {
			// the common case inline: the concatenation then stays on
			// the stack (returned from a helper, it was one more
			// allocation per resource)
			str, ok, err := it.exprs[0].tr.text(e.vals(it.exprs[0]))
			e.fail(it.exprs[0], n.path, err)
			if !ok || err != nil {
				return b, stNone
			}
			return appendJSONString(b, it.prefix+str+it.suffix), stDynamic
		}
		str, ok := e.text(n)
		if !ok {
			return b, stNone
		}
		return appendJSONString(b, str), stDynamic
	case kObject:
		if n.when != nil && !e.holds(n.when, n.path) {
			return b, stNone
		}
		start := len(b)
		b = append(b, '{')
		st := stNone
		for i, k := range n.keys {
			mark := len(b)
			if st != stNone {
				b = append(b, ',')
			}
			var kst state
			b, kst = e.keyed(b, k, n.kids[i])
			if kst == stNone {
				b = b[:mark]
				continue
			}
			st = max(st, kst)
		}
		// an object of literals around absent values (a Coding with only
		// its system) is dropped with them
		if st == stNone || (n.dynamic && st != stDynamic) {
			return b[:start], stNone
		}
		return append(b, '}'), st
	case kArray:
		start := len(b)
		b = append(b, '[')
		st := stNone
		for _, kid := range n.kids {
			mark := len(b)
			if st != stNone {
				b = append(b, ',')
			}
			var kst state
			b, kst = e.value(b, kid)
			if kst == stNone || (kid.dynamic && kst != stDynamic) {
				b = b[:mark]
				continue
			}
			st = max(st, kst)
		}
		if st == stNone || (n.dynamic && st != stDynamic) {
			return b[:start], stNone
		}
		return append(b, ']'), st
	}
	return b, stNone
}

// IDOf renders the FHIR id of a legacy key.
func (s *Spec) IDOf(key any) (string, error) {
	str, ok, err := s.idTmpl.exprs[0].tr.text([]any{key})
	if err != nil || !ok {
		return "", fmt.Errorf("%w: key %v: %v", ErrUnmappable, key, err)
	}
	return s.idTmpl.prefix + str + s.idTmpl.suffix, nil
}

// IDOfRow is the FHIR id of a row ("" if its key cannot be rendered).
func (s *Spec) IDOfRow(row Row) string {
	id, _ := s.IDOf(row[s.keyIdx])
	return id
}

// rowVersion is a version id from a row's content: "h" and 16 hex digits
// of a hash over every selected value (never a number, so it cannot be
// taken for a stamp-based version).
func rowVersion(row Row) string {
	h := fnv.New64a()
	for _, v := range row {
		fmt.Fprintf(h, "%T:%v\x00", v, v)
	}
	return fmt.Sprintf("h%016x", h.Sum64())
}

// fail records the first value the template could not encode: its
// element, its columns and the reason.
func (e *encoder) fail(x *expr, path string, err error) {
	if err == nil || e.err != nil {
		return
	}
	cols := make([]string, len(x.refs))
	for i, r := range x.refs {
		_, cols[i] = splitRef(r)
	}
	e.err = &backend.RowError{Path: path, Column: strings.Join(cols, ", "), Detail: err.Error()}
}

// text renders an interpolated string. As R2RML does, a NULL in any of
// its expressions leaves the whole string out (never "Dr.  Smith").
func (e *encoder) text(n *node) (string, bool) {
	it := n.interp
	var sb strings.Builder
	sb.WriteString(it.prefix)
	for i, x := range it.exprs {
		str, ok, err := x.tr.text(e.vals(x))
		e.fail(x, n.path, err)
		if !ok || err != nil {
			return "", false
		}
		if i > 0 {
			sb.WriteString(it.mids[i-1])
		}
		sb.WriteString(str)
	}
	sb.WriteString(it.suffix)
	return sb.String(), true
}

// holds evaluates a $when: present and not a false-like value.
func (e *encoder) holds(x *expr, path string) bool {
	str, ok, err := x.tr.text(e.vals(x))
	e.fail(x, path, err)
	if !ok || err != nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(str)) {
	case "", "n", "no", "0", "false", "f":
		return false
	}
	return true
}
