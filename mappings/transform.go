package mappings

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors of the engine.
var (
	// ErrUnmappable: a legacy row holds a value the spec cannot translate
	// (an unknown code, a malformed date). It names the column and the key.
	ErrUnmappable = errors.New("legacy value cannot be mapped")
	// ErrUnprocessable: a written resource holds data the legacy schema
	// cannot store, or a value it cannot take. It names the element.
	ErrUnprocessable = errors.New("resource cannot be stored in legacy")
)

// ElementError names the FHIR element a write-back problem is about.
type ElementError struct {
	Path string
	Msg  string
}

func (e *ElementError) Error() string { return e.Path + ": " + e.Msg }

// Unwrap makes ElementError an ErrUnprocessable.
func (e *ElementError) Unwrap() error { return ErrUnprocessable }

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

func newTransform(s *Spec, name, arg string) (*transform, error) {
	switch name {
	case "", "string":
		return &transform{name: "string", arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				str, ok := asString(v[0])
				if !ok {
					return b, "", false, nil
				}
				return appendJSONString(b, str), "", true, nil
			},
			text: func(v []any) (string, bool, error) { s, ok := asString(v[0]); return s, ok, nil },
			dec: func(_ string, v any) ([]any, error) {
				str, ok := v.(string)
				if !ok {
					return nil, errors.New("want a string")
				}
				return []any{str}, nil
			}}, nil
	case "int":
		return &transform{name: "int", arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				n, ok, err := asInt(v[0])
				if !ok || err != nil {
					return b, "", false, err
				}
				return strconv.AppendInt(b, n, 10), "", true, nil
			},
			text: func(v []any) (string, bool, error) {
				n, ok, err := asInt(v[0])
				if !ok || err != nil {
					return "", false, err
				}
				return strconv.FormatInt(n, 10), true, nil
			},
			dec: func(_ string, v any) ([]any, error) {
				var str string
				switch x := v.(type) {
				case string:
					str = x
				case json.Number:
					str = x.String()
				default:
					return nil, errors.New("want a whole number")
				}
				n, err := strconv.ParseInt(str, 10, 64)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("%q is not an id this legacy table has", str)
				}
				return []any{n}, nil
			}}, nil
	case "code":
		m := s.maps[arg]
		if m == nil {
			return nil, fmt.Errorf("code map %q is not defined in codeMaps", arg)
		}
		return &transform{name: "code:" + arg, arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				str, ok := asString(v[0])
				if !ok {
					return b, "", false, nil
				}
				c, ok := m.fwd[str]
				if !ok {
					if m.def == "" {
						return b, "", false, fmt.Errorf("legacy code %q is not in code map %s", str, arg)
					}
					c = m.def
				}
				return appendJSONString(b, c), "", true, nil
			},
			text: func(v []any) (string, bool, error) {
				str, ok := asString(v[0])
				if !ok {
					return "", false, nil
				}
				c, ok := m.fwd[str]
				if !ok {
					return "", false, fmt.Errorf("legacy code %q is not in code map %s", str, arg)
				}
				return c, true, nil
			},
			dec: func(_ string, v any) ([]any, error) {
				str, ok := v.(string)
				if !ok {
					return nil, errors.New("want a code")
				}
				lc, ok := m.rev[str]
				if !ok {
					return nil, fmt.Errorf("%q has no legacy code (code map %s)", str, arg)
				}
				return []any{lc}, nil
			}}, nil
	case "date":
		return &transform{name: "date", arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				t, ok, err := asTime(v[0])
				if !ok || err != nil {
					return b, "", false, err
				}
				b = append(b, '"')
				b = t.AppendFormat(b, "2006-01-02")
				return append(b, '"'), "", true, nil
			},
			dec: func(_ string, v any) ([]any, error) {
				str, _ := v.(string)
				t, err := time.Parse("2006-01-02", str)
				if err != nil {
					return nil, errors.New("the legacy column holds full dates only (YYYY-MM-DD)")
				}
				return []any{DateVal{t}}, nil
			}}, nil
	case "datetime":
		return &transform{name: "datetime", arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				t, ok, err := asTime(v[0])
				if !ok || err != nil {
					return b, "", false, err
				}
				b = append(b, '"')
				b = inZone(t, s.loc).AppendFormat(b, time.RFC3339)
				return append(b, '"'), "", true, nil
			},
			dec: func(_ string, v any) ([]any, error) {
				t, err := parseDateTime(v, s.loc)
				if err != nil {
					return nil, err
				}
				return []any{t}, nil
			}}, nil
	case "yn":
		return &transform{name: "yn", arity: 1,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				str, ok := asString(v[0])
				if !ok {
					return b, "", false, nil
				}
				switch str {
				case "Y":
					return append(b, "true"...), "", true, nil
				case "N":
					return append(b, "false"...), "", true, nil
				}
				return b, "", false, fmt.Errorf("flag %q is neither Y nor N", str)
			},
			dec: func(_ string, v any) ([]any, error) {
				bv, ok := v.(bool)
				if !ok {
					return nil, errors.New("want true or false")
				}
				return []any{map[bool]string{true: "Y", false: "N"}[bv]}, nil
			}}, nil
	case "deceased":
		return &transform{name: "deceased", arity: 2, choice: true,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				if t, ok, err := asTime(v[1]); err != nil {
					return b, "", false, err
				} else if ok {
					b = append(b, '"')
					b = inZone(t, s.loc).AppendFormat(b, time.RFC3339)
					return append(b, '"'), "DateTime", true, nil
				}
				str, ok := asString(v[0])
				if !ok {
					return b, "", false, nil
				}
				switch str {
				case "Y":
					return append(b, "true"...), "Boolean", true, nil
				case "N":
					return append(b, "false"...), "Boolean", true, nil
				}
				return b, "", false, fmt.Errorf("deceased flag %q is neither Y nor N", str)
			},
			dec: func(suffix string, v any) ([]any, error) {
				switch suffix {
				case "Boolean":
					bv, ok := v.(bool)
					if !ok {
						return nil, errors.New("want true or false")
					}
					return []any{map[bool]string{true: "Y", false: "N"}[bv], nil}, nil
				case "DateTime":
					t, err := parseDateTime(v, s.loc)
					if err != nil {
						return nil, err
					}
					return []any{"Y", t}, nil
				}
				return nil, fmt.Errorf("deceased%s cannot be stored (Boolean or DateTime only)", suffix)
			}}, nil
	case "labvalue":
		return &transform{name: "labvalue", arity: 2, choice: true,
			enc: func(b []byte, v []any) ([]byte, string, bool, error) {
				str, ok := asString(v[0])
				if !ok {
					return b, "", false, nil
				}
				unit, hasUnit := asString(v[1])
				cmp, num := splitComparator(str)
				if !decimalRE.MatchString(num) {
					return appendJSONString(b, str), "String", true, nil
				}
				b = append(b, `{"value":`...)
				b = append(b, num...) // the legacy text is a valid JSON number: precision kept
				if cmp != "" {
					b = append(b, `,"comparator":`...)
					b = appendJSONString(b, cmp)
				}
				if hasUnit {
					b = append(b, `,"unit":`...)
					b = appendJSONString(b, unit)
					b = append(b, `,"system":"http://unitsofmeasure.org","code":`...)
					b = appendJSONString(b, unit)
				}
				return append(b, '}'), "Quantity", true, nil
			},
			dec: func(suffix string, v any) ([]any, error) {
				switch suffix {
				case "String":
					str, ok := v.(string)
					if !ok {
						return nil, errors.New("want a string")
					}
					return []any{str, nil}, nil
				case "Quantity":
					q, ok := v.(map[string]any)
					if !ok {
						return nil, errors.New("want a Quantity")
					}
					for k := range q {
						switch k {
						case "value", "comparator", "unit", "system", "code":
						default:
							return nil, &ElementError{Path: "." + k, Msg: "the legacy result has no place for it"}
						}
					}
					num, ok := q["value"].(json.Number)
					if !ok {
						return nil, errors.New("valueQuantity.value is required")
					}
					if !decimalRE.MatchString(num.String()) {
						// the legacy text would not read back as this
						// number (1e999, 400 digits): it would come back
						// as a valueString, so it is refused, not stored
						return nil, &ElementError{Path: ".value", Msg: "legacy keeps a plain decimal of at most 18 integer and 17 fraction digits, without exponent"}
					}
					cmp, _ := q["comparator"].(string)
					if cmp != "" && cmp != "<" && cmp != "<=" && cmp != ">" && cmp != ">=" {
						return nil, fmt.Errorf("comparator %q is not one of < <= > >=", cmp)
					}
					if sys, ok := q["system"].(string); ok && sys != "http://unitsofmeasure.org" {
						return nil, fmt.Errorf("unit system %q cannot be stored (UCUM only)", sys)
					}
					unit, _ := q["unit"].(string)
					code, _ := q["code"].(string)
					if unit != "" && code != "" && unit != code {
						return nil, errors.New("unit and code differ; the legacy result holds one unit")
					}
					if unit == "" {
						unit = code
					}
					var u any
					if unit != "" {
						u = unit
					}
					return []any{cmp + num.String(), u}, nil
				}
				return nil, fmt.Errorf("value%s cannot be stored (Quantity or String only)", suffix)
			}}, nil
	}
	return nil, fmt.Errorf("unknown transform %q", name)
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
	l := t.In(loc)
	return DateTimeVal{time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)}, nil
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
