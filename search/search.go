// Package search parses FHIR R4 search parameters (names, modifiers, comma
// OR-lists, prefixes, escapes, date precision) into values that backends
// translate. It knows the FHIR grammar, not any storage.
package search

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrInvalid marks a search parameter whose value, modifier or name is
// malformed; the facade answers it with 400 and an OperationOutcome.
var ErrInvalid = errors.New("invalid search parameter")

// Param is one occurrence of a search parameter in a query. Values are the
// comma-separated alternatives (OR); repeated occurrences of the same name
// are separate Params (AND).
type Param struct {
	Name     string
	Modifier string
	Values   []string
}

// String renders the parameter back in query form (for links and messages).
func (p Param) String() string {
	n := p.Name
	if p.Modifier != "" {
		n += ":" + p.Modifier
	}
	return n + "=" + strings.Join(p.Values, ",")
}

// Query is a parsed search: the filter parameters plus the result-shaping
// parameters every type shares.
type Query struct {
	Params     []Param
	Count      int      // _count; 0 means the server default
	Sort       []Sort   // _sort
	Total      string   // _total: "", none, estimate, accurate
	Summary    string   // _summary: true, text, data, count, or "" (false)
	Include    []string // _include values, e.g. "Observation:patient"
	RevInclude []string // _revinclude values
	Elements   []string // _elements (not supported by every backend)
}

// Sort is one _sort key.
type Sort struct {
	Param string
	Desc  bool
}

// MaxCount caps _count; larger values are clamped, as the spec allows.
const MaxCount = 1000

// MaxValues caps the alternatives of one OR list, so a hostile 10,000-element
// list becomes a 400 instead of a huge SQL statement.
const MaxValues = 100

// MaxParams caps the search parameters (AND terms) of one query, and
// MaxIncludes the _include/_revinclude values: a thousand ANDed string
// searches would otherwise reach the database as one enormous statement.
const (
	MaxParams   = 64
	MaxIncludes = 16
	MaxSortKeys = 8
)

// checkName refuses a parameter name no search can hold, and a control
// parameter given more than once (n times).
func checkName(key string, n int) error {
	if !printable(key) {
		return fmt.Errorf("%w: a parameter name holds a control character or invalid UTF-8", ErrInvalid)
	}
	if singleValued[key] && n > 1 {
		// which one was meant? the last one silently winning could page
		// or total by a value the client did not intend
		return fmt.Errorf("%w: %s is given %d times; give it once", ErrInvalid, key, n)
	}
	return nil
}

// singleValued are the control parameters a query may give once.
var singleValued = map[string]bool{"_count": true, "_total": true, "_summary": true}

// ParseQuery splits raw query values into a Query. Control parameters
// (_count, _sort, ...) are interpreted here; all others become Params.
// Parameters the caller handles itself (like _format or _page) are removed
// before calling.
func ParseQuery(v url.Values) (*Query, error) {
	q := &Query{}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic order for SQL and page tokens
	for _, key := range names {
		if err := checkName(key, len(v[key])); err != nil {
			return nil, err
		}
		for _, raw := range v[key] {
			if !printable(raw) {
				// PostgreSQL refuses NUL in text, and no FHIR value holds
				// one: refuse it here instead of failing in the database
				return nil, fmt.Errorf("%w: %s: the value holds a NUL or invalid UTF-8", ErrInvalid, key)
			}
			name, mod, _ := strings.Cut(key, ":")
			if name == "" {
				return nil, fmt.Errorf("%w: empty parameter name", ErrInvalid)
			}
			switch name {
			case "_count":
				n, err := parsePositive(raw)
				if err != nil {
					return nil, fmt.Errorf("%w: _count=%q: %v", ErrInvalid, raw, err)
				}
				q.Count = min(n, MaxCount)
			case "_sort":
				for _, s := range strings.Split(raw, ",") {
					if s == "" {
						return nil, fmt.Errorf("%w: _sort has an empty key", ErrInvalid)
					}
					desc := strings.HasPrefix(s, "-")
					q.Sort = append(q.Sort, Sort{Param: strings.TrimPrefix(s, "-"), Desc: desc})
				}
			case "_total":
				switch raw {
				case "none", "estimate", "accurate":
					q.Total = raw
				default:
					return nil, fmt.Errorf("%w: _total=%q: want none, estimate or accurate", ErrInvalid, raw)
				}
			case "_summary":
				switch raw {
				case "true", "text", "data", "count":
					q.Summary = raw
				case "false":
					q.Summary = ""
				default:
					return nil, fmt.Errorf("%w: _summary=%q: want true, text, data, count or false", ErrInvalid, raw)
				}
			case "_include":
				q.Include = append(q.Include, raw)
			case "_revinclude":
				q.RevInclude = append(q.RevInclude, raw)
			case "_elements":
				els, err := parseElements(raw)
				if err != nil {
					return nil, err
				}
				q.Elements = append(q.Elements, els...)
			default:
				vals, err := SplitList(raw)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, key, err)
				}
				q.Params = append(q.Params, Param{Name: name, Modifier: mod, Values: vals})
			}
		}
	}
	switch {
	case len(q.Params) > MaxParams:
		return nil, fmt.Errorf("%w: more than %d search parameters", ErrInvalid, MaxParams)
	case len(q.Include)+len(q.RevInclude) > MaxIncludes:
		return nil, fmt.Errorf("%w: more than %d _include/_revinclude values", ErrInvalid, MaxIncludes)
	case len(q.Sort) > MaxSortKeys:
		return nil, fmt.Errorf("%w: more than %d _sort keys", ErrInvalid, MaxSortKeys)
	}
	return q, nil
}

// parseElements splits an _elements value into element names.
func parseElements(raw string) ([]string, error) {
	var out []string
	for _, el := range strings.Split(raw, ",") {
		if el = strings.TrimSpace(el); el == "" {
			return nil, fmt.Errorf("%w: _elements has an empty element name", ErrInvalid)
		}
		out = append(out, el)
	}
	return out, nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func parsePositive(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, errors.New("want a whole number from 0")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("want a whole number from 0")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// SplitList splits a parameter value on unescaped commas, keeping the escape
// sequences (\, \| \$ \\) for the type-specific parsers to resolve.
func SplitList(raw string) ([]string, error) {
	// the values are raw's own bytes between unescaped commas (escapes are
	// kept for Unescape): slices of raw, no copy
	out := make([]string, 0, min(strings.Count(raw, ",")+1, MaxValues+1))
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			if i+1 < len(raw) {
				i++ // the escaped byte never splits
			}
		case ',':
			out = append(out, raw[start:i])
			start = i + 1
			if len(out) > MaxValues {
				return nil, fmt.Errorf("more than %d comma-separated values", MaxValues)
			}
		}
	}
	out = append(out, raw[start:])
	if len(out) > MaxValues {
		return nil, fmt.Errorf("more than %d comma-separated values", MaxValues)
	}
	return out, nil
}

// Unescape resolves FHIR search escapes (\, \| \$ \\). A lone trailing
// backslash or an unknown escape is invalid.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("value ends with a lone backslash")
		}
		switch n := s[i+1]; n {
		case ',', '|', '$', '\\':
			b.WriteByte(n)
			i++
		default:
			return "", fmt.Errorf("unknown escape \\%c", n)
		}
	}
	return b.String(), nil
}

// Token is a parsed token value: system|code, |code, system|, or code.
type Token struct {
	System    string
	Code      string
	HasSystem bool // a '|' was present: System is meaningful (possibly empty)
}

// ParseToken parses one token alternative.
func ParseToken(raw string) (Token, error) {
	// find the first unescaped '|'
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' {
			i++
			continue
		}
		if raw[i] == '|' {
			sys, err := Unescape(raw[:i])
			if err != nil {
				return Token{}, err
			}
			code, err := Unescape(raw[i+1:])
			if err != nil {
				return Token{}, err
			}
			return Token{System: sys, Code: code, HasSystem: true}, nil
		}
	}
	code, err := Unescape(raw)
	if err != nil {
		return Token{}, err
	}
	return Token{Code: code}, nil
}
