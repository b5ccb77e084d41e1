package mappings

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fhirfacade/fhirfacade/backend"
)

// Sentinel errors of the engine.
var (
	// ErrUnmappable: a legacy row holds a value the spec cannot translate
	// (an unknown code, a malformed date). It names the column and the key.
	ErrUnmappable = backend.ErrUnmappable
	// ErrUnprocessable: a written resource holds data the legacy schema
	// cannot store, or a value it cannot take (backend.ErrUnprocessable;
	// a *backend.ElementError names the element).
	ErrUnprocessable = backend.ErrUnprocessable
)

// DateVal is a calendar day bound to a legacy DATE column.
type DateVal struct{ time.Time }

// DateTimeVal is a wall-clock time (in the spec's zone) bound to a legacy
// zone-less date-time column.
type DateTimeVal struct{ time.Time }

// transform turns column values into one JSON value and back.
type transform struct {
	name   string
	arity  int
	choice bool // emits its own "nameSuffix": key (value[x], deceased[x])
	// enc appends the JSON value (choice: the key suffix is returned too).
	enc func(b []byte, vals []any) (out []byte, suffix string, ok bool, err error)
	// text renders the value inside an interpolated string (nil: not allowed).
	text func(vals []any) (string, bool, error)
	// dec reads a JSON value (choice: with its suffix) into column values.
	dec func(suffix string, v any) ([]any, error)
}

// constructor builds a named transform for a spec; arg is what follows
// the name after a colon in a template (code:gender → "gender").
type constructor func(s *Spec, arg string) (*transform, error)

// transforms is the registry of named transforms, one file each
// (transform_<name>.go, with its table test in transform_test.go).
var transforms = map[string]constructor{
	"string":   stringTransform,
	"int":      intTransform,
	"code":     codeTransform,
	"date":     dateTransform,
	"datetime": datetimeTransform,
	"yn":       ynTransform,
	"deceased": deceasedTransform,
	"labvalue": labvalueTransform,
	"decimal":  decimalTransform,
	// deceasedDate: deceased[x] from one death date column
	"deceasedDate": deceasedDateTransform,
}

func newTransform(s *Spec, name, arg string) (*transform, error) {
	if name == "" {
		name = "string"
	}
	c, ok := transforms[name]
	if !ok {
		return nil, fmt.Errorf("unknown transform %q", name)
	}
	return c(s, arg)
}

var decimalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,17})?$`)

func splitComparator(s string) (cmp, rest string) {
	for _, c := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(s, c) {
			return c, strings.TrimSpace(s[len(c):])
		}
	}
	return "", s
}

func inZone(t time.Time, loc *time.Location) time.Time {
	if t.Location() == loc {
		// already an instant shown in the zone (a normalised instant
		// column): rebuilding it from its clock would pick the first of
		// the two 01:30s of the autumn change, an hour off
		return t
	}
	// the legacy value is a wall clock in the spec's zone
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

func parseDateTime(v any, loc *time.Location) (DateTimeVal, error) {
	str, _ := v.(string)
	if !dateTimeRE.MatchString(str) {
		return DateTimeVal{}, errors.New("the legacy column holds date-times to the second with a zone (YYYY-MM-DDThh:mm:ss+zz:zz)")
	}
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return DateTimeVal{}, fmt.Errorf("%q is not a valid date-time", str)
	}
	if t.Nanosecond() != 0 {
		return DateTimeVal{}, errors.New("the legacy column holds whole seconds; fractions would be lost")
	}
	if _, off := t.Zone(); off > 14*3600 || off < -14*3600 {
		return DateTimeVal{}, fmt.Errorf("%q has a time zone offset beyond ±14:00", str)
	}
	l := t.In(loc)
	if err := legacyYear(l); err != nil {
		return DateTimeVal{}, err
	}
	return DateTimeVal{time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)}, nil
}

// legacyYear refuses a time outside the years 0001 to 9999, all a legacy
// date or time column holds (SQL Server's range; SQLite's text would
// store year 10000 and not read it back, PostgreSQL took it and served
// a five-digit year no FHIR dateTime has, and year 0 as 1 BC).
func legacyYear(t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("the legacy column holds the years 0001 to 9999 (this is the year %d in its time zone)", y)
	}
	return nil
}

// asString normalises a scanned column to trimmed text; NULL and blank are
// absent (FHIR has no empty strings).
func asString(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		s = x
	case []byte:
		s = string(x)
	case int64:
		return strconv.FormatInt(x, 10), true
	case time.Time:
		return x.Format("2006-01-02T15:04:05"), true
	default:
		s = fmt.Sprint(x)
	}
	s = strings.TrimRight(s, " ")
	return s, s != ""
}

func asInt(v any) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case int32:
		return int64(x), true, nil
	case int:
		return int64(x), true, nil
	case float64:
		return int64(x), true, nil
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		return n, err == nil, err
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("value of type %T is not a whole number", v)
}

// asTime reads DATE/DATETIME values, whichever way the driver returns them.
func asTime(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case []byte:
		return parseLegacyTime(string(x))
	case string:
		return parseLegacyTime(x)
	}
	return time.Time{}, false, fmt.Errorf("value of type %T is not a date", v)
}

func parseLegacyTime(s string) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, nil
	}
	for _, f := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02", time.RFC3339Nano} {
		if t, err := time.Parse(f, s); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date or date-time", s)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028/2029 are escaped so the output is also safe JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
