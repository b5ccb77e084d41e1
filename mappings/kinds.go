package mappings

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// InstantVal is an instant bound to a column that holds instants
// (timestamptz, datetimeoffset): compared as an instant, never as a wall
// clock in some zone.
type InstantVal struct{ time.Time }

// normalizer turns a value as the driver scanned it into the form the
// transforms read, by the column's kind (nil: as scanned).
type normalizer func(v any) (any, error)

// normalizerFor is the normalizer of a column kind.
func normalizerFor(d sqldb.Dialect, k sqldb.Kind, loc *time.Location) normalizer {
	switch k {
	case sqldb.KindInstant:
		// the transforms read a time's wall clock in the spec's zone: an
		// instant shown in that zone keeps its meaning (a timestamptz
		// read as a zone-less clock was served hours off)
		text := sqldb.TimesAsText(d)
		return func(v any) (any, error) {
			t, ok, err := asInstant(v)
			if !ok || err != nil {
				return nil, err
			}
			if text {
				// SQLite compares text instants to the millisecond,
				// rounded: what is served must be what a search finds
				t = t.Round(time.Millisecond)
			}
			return t.In(loc), nil
		}
	case sqldb.KindUUID:
		return func(v any) (any, error) {
			if b, ok := v.([]byte); ok && len(b) == 16 {
				return sqldb.UUIDText(d, b), nil
			}
			if str, ok := asString(v); ok {
				return strings.ToLower(str), nil
			}
			return nil, nil
		}
	case sqldb.KindDecimal, sqldb.KindFloat:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case float64:
				return strconv.FormatFloat(x, 'f', -1, 64), nil
			case []byte:
				return string(x), nil
			}
			return v, nil
		}
	}
	return nil
}

// instantLayouts are the text forms of an instant a legacy column may hold
// (SQLite keeps them as text): each with its offset.
var instantLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999 -07:00", "2006-01-02T15:04:05.999999999 -07:00"}

var errNoOffset = errors.New("an instant column holds a time without a UTC offset")

func asInstant(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	}
	str, ok := asString(v)
	if !ok {
		return time.Time{}, false, nil
	}
	for _, l := range instantLayouts {
		if t, err := time.Parse(l, str); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%w: %q", errNoOffset, str)
}

// Normalize converts a scanned row's values by their columns' kinds (a
// bound spec; an unbound one leaves the row as scanned). It may be called
// again on the same row: a normalised value stays as it is. An error
// names the column whose value cannot be read.
func (s *Spec) Normalize(row Row) error {
	for i, n := range s.norm {
		if n == nil || row[i] == nil {
			continue
		}
		v, err := n(row[i])
		if err != nil {
			_, col := splitRef(s.cols[i])
			return &backend.RowError{Type: s.ResourceType, Path: s.PathOf(s.cols[i]), Column: col, Detail: err.Error()}
		}
		row[i] = v
	}
	return nil
}

// kindOf is a bound column's kind (unknown before Bind).
func (s *Spec) kindOf(ref string) sqldb.Kind { return s.live[ref].Kind }

// coerce reads a search or id value as a value of a column of kind k; ok
// is false when no value of that column can equal it (the condition then
// matches nothing, where binding it would make the database fail).
func coerce(k sqldb.Kind, v string) (any, bool) {
	switch k {
	case sqldb.KindUUID:
		// the canonical form only: an id is case-sensitive, and another
		// spelling of the same uuid is another id
		// (36 characters that parse, none of them upper case: what
		// uuid.String gives, without making the string to compare)
		if _, err := uuid.Parse(v); err != nil || len(v) != 36 || strings.ContainsAny(v, "ABCDEF") {
			return nil, false
		}
		return v, true
	case sqldb.KindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	case sqldb.KindDecimal, sqldb.KindFloat:
		if _, ok := new(big.Rat).SetString(v); !ok || strings.ContainsAny(v, "/eE") {
			return nil, false
		}
		return v, true
	case sqldb.KindBool:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	case sqldb.KindDate, sqldb.KindDateTime, sqldb.KindInstant:
		return nil, false
	}
	return v, true
}

// coerceKey checks a decoded key value against the key column's kind.
func (s *Spec) coerceKey(ref string, v any) (any, bool) {
	if str, isStr := v.(string); isStr {
		return coerce(s.kindOf(ref), str)
	}
	return v, true
}

// writeArg is the value to bind for a written column: a wall-clock
// date-time decoded in the spec's zone becomes an instant for an instant
// column.
func (s *Spec) writeArg(ref string, v any) any {
	if dt, ok := v.(DateTimeVal); ok && s.kindOf(ref) == sqldb.KindInstant {
		return storedInstant{inZone(dt.Time, s.loc)}
	} else if ok {
		return s.wallArg(ref, dt)
	}
	return v
}

// datetime2RE reads a declared datetime2 or datetime2(n).
var datetime2RE = regexp.MustCompile(`(?i)^\s*datetime2\s*(?:\(\s*([0-7])\s*\))?\s*$`)

// wallArg is a wall-clock value to bind for column ref. SQLite keeps
// date-times as text, which compares as time only in one shape, and a
// datetime2(n) column holds n fraction digits always (08:00:00.000, as
// the legacy application wrote it): a value bound for one is written so
// too. Otherwise 08:00:00 (the dialect's form) never equalled it, an
// update's stamp check failed (409) and paging by it repeated a row
// forever (08:00:00.000 sorts after 08:00:00 as text).
func (s *Spec) wallArg(ref string, v DateTimeVal) any {
	if s.d == nil || !sqldb.TimesAsText(s.d) {
		return v
	}
	m := datetime2RE.FindStringSubmatch(s.live[ref].Type)
	if m == nil {
		return v
	}
	digits := 7 // datetime2 without a precision is datetime2(7)
	if m[1] != "" {
		digits, _ = strconv.Atoi(m[1])
	}
	layout := "2006-01-02 15:04:05"
	if digits > 0 {
		layout += "." + strings.Repeat("0", digits)
	}
	return v.Time.Format(layout)
}

// storedInstant is an instant written into an instant column: bound as
// the column stores it (on SQLite RFC 3339 text with its offset), not
// through the comparison expression InstantVal goes through.
type storedInstant struct{ time.Time }

// stampCond is the optimistic check of an update: the row's stamp is
// still old (NULL for a row nobody stamped yet).
func (s *Spec) stampCond(b *builder, upd string, old DateTimeVal) string {
	col := s.sqlName(b.d, upd)
	switch {
	case old.IsZero():
		return col + " IS NULL"
	case s.kindOf(upd) == sqldb.KindInstant:
		return sqldb.InstantExpr(b.d, col) + " = " + b.arg(InstantVal{inZone(old.Time, s.loc)})
	case sqldb.TimesAsText(b.d):
		// wall-clock text: one time may be stored as 08:00:00.000 (a
		// datetime2(3) the legacy application wrote) or 08:00:00 (the
		// bound form): compared as times, or the update never matches
		return sqldb.InstantExpr(b.d, col) + " = " + sqldb.InstantExpr(b.d, b.arg(old))
	}
	return col + " = " + b.arg(s.wallArg(upd, old))
}
