package mappings

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
)

// Values are column values read from a resource for write-back, keyed by
// qualified column ("t.mrn", "ltc.loinc_cd"). A nil value writes NULL.
type Values map[string]any

// Decode reads a resource (decoded with json.Decoder.UseNumber) into column
// values through the template. Every element must land in a column: an
// element the template lacks, a literal the resource contradicts, or a value
// a transform cannot take is an *backend.ElementError (ErrUnprocessable). Mapped
// columns the resource leaves out become NULL: an update replaces the whole
// resource, as FHIR PUT does.
func (s *Spec) Decode(res map[string]any) (Values, error) {
	return s.decode(res, nil)
}

// decode is Decode, also listing the output-only values res gives in
// claims (when not nil).
func (s *Spec) decode(res map[string]any, claims *[]claim) (Values, error) {
	if rt, _ := res["resourceType"].(string); rt != s.ResourceType {
		return nil, &backend.ElementError{Path: "resourceType", Msg: fmt.Sprintf("want %s", s.ResourceType)}
	}
	out := Values{}
	d := decoder{s: s, claims: claims}
	for _, k := range sortedKeys(res) {
		v := res[k]
		path := s.ResourceType + "." + k
		switch k {
		case "resourceType", "id":
			continue
		case "meta":
			if err := checkMeta(v, path); err != nil {
				return nil, err
			}
			continue
		case "text":
			// a generated narrative is derived from the data the template
			// holds; any other narrative would be lost, so it is refused
			if t, ok := v.(map[string]any); !ok || t["status"] != "generated" {
				return nil, &backend.ElementError{Path: path, Msg: "only a generated narrative can be accepted (legacy keeps no narrative)"}
			}
			continue
		}
		i := d.find(s.root, k)
		if i < 0 {
			return nil, &backend.ElementError{Path: path, Msg: "no legacy column holds this element"}
		}
		if err := d.keyed(s.root.keys[i], k, s.root.kids[i], v, path, out); err != nil {
			return nil, err
		}
	}
	// PUT replaces: every mapped main-table column not given is cleared.
	for _, ref := range s.writableCols() {
		if _, ok := out[ref]; !ok {
			out[ref] = nil
		}
	}
	for col, def := range s.WriteBack.Defaults {
		if ref := qualify(col); out[ref] == nil {
			out[ref] = def
		}
	}
	return out, nil
}

// CheckRequired reports the first required column that values leave NULL,
// by the element that would fill it.
func (s *Spec) CheckRequired(v Values) error {
	for _, r := range s.WriteBack.Required {
		ref := qualify(r)
		if v[ref] == nil {
			return &backend.ElementError{Path: s.colPaths[ref], Msg: "is required (the legacy column is NOT NULL)"}
		}
	}
	return nil
}

func (s *Spec) writableCols() []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case kExpr:
			if !n.expr.derived {
				out = append(out, n.expr.refs...)
			}
		case kInterp:
			for _, x := range n.interp.exprs {
				if !x.derived {
					out = append(out, x.refs...)
				}
			}
		case kObject, kArray:
			for _, k := range n.kids {
				walk(k)
			}
		}
	}
	walk(s.root)
	return out
}

func checkMeta(v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return &backend.ElementError{Path: path, Msg: "want an object"}
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "versionId", "lastUpdated", "source", "profile":
			// server-assigned, or claims about the data rather than data
		default:
			return &backend.ElementError{Path: path + "." + k, Msg: "legacy cannot keep it"}
		}
	}
	return nil
}

type decoder struct {
	s      *Spec
	claims *[]claim // output-only values the resource gives; nil: not kept
}

// claim is a value a written resource gives that the stored row must give
// back: an output-only (| derived) value, which legacy does not store and
// holds only if legacy derives the same, or an exact number, which a
// column of smaller scale would round.
type claim struct {
	x      *expr
	suffix string // a choice's type suffix
	v      any    // the JSON value, or the text of an interpolated piece
	piece  bool   // v is one piece of an interpolated string
	number bool   // v is a number stored as such: compared as a number
	path   string
}

func (d decoder) claim(c claim) {
	if d.claims != nil {
		*d.claims = append(*d.claims, c)
	}
}

// find returns the template key index serving input key k (value[x] serves
// valueQuantity), or -1.
func (d decoder) find(n *node, k string) int {
	for i, tk := range n.keys {
		if tk == k {
			return i
		}
		if base, ok := strings.CutSuffix(tk, "[x]"); ok && strings.HasPrefix(k, base) && len(k) > len(base) && k[len(base)] >= 'A' && k[len(base)] <= 'Z' {
			return i
		}
	}
	return -1
}

func (d decoder) keyed(tk, k string, n *node, v any, path string, out Values) error {
	if base, ok := strings.CutSuffix(tk, "[x]"); ok {
		return d.assign(n.expr, k[len(base):], v, path, out)
	}
	return d.walk(n, v, path, out)
}

func (d decoder) walk(n *node, v any, path string, out Values) error {
	switch n.kind {
	case kLiteral:
		if !sameJSON(n.litVal, v) {
			return &backend.ElementError{Path: path, Msg: fmt.Sprintf("legacy can only hold %s here", n.lit)}
		}
		return nil
	case kExpr:
		return d.assign(n.expr, "", v, path, out)
	case kInterp:
		str, ok := v.(string)
		it := n.interp
		if !ok || !strings.HasPrefix(str, it.prefix) || !strings.HasSuffix(str, it.suffix) || len(str) < len(it.prefix)+len(it.suffix) {
			return &backend.ElementError{Path: path, Msg: fmt.Sprintf("want %s...%s", it.prefix, it.suffix)}
		}
		return d.assignText(it, str[len(it.prefix):len(str)-len(it.suffix)], path, out)
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return &backend.ElementError{Path: path, Msg: "want an object"}
		}
		for _, k := range sortedKeys(m) {
			i := d.find(n, k)
			if i < 0 {
				return &backend.ElementError{Path: path + "." + k, Msg: "no legacy column holds this element"}
			}
			if err := d.keyed(n.keys[i], k, n.kids[i], m[k], path+"."+k, out); err != nil {
				return err
			}
		}
		return nil
	case kArray:
		return d.walkArray(n, v, path, out)
	}
	return nil
}

// walkArray decodes an array, item by item, into the template items that
// can hold them.
func (d decoder) walkArray(n *node, v any, path string, out Values) error {
	items, ok := v.([]any)
	if !ok {
		return &backend.ElementError{Path: path, Msg: "want an array"}
	}
	used := make([]bool, len(n.kids))
	for i, item := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		errs := make([]error, len(n.kids))
		matched := false
		// an item goes to the first unused template item that can hold
		// it: literals (system, use) pick telecom home vs work
		for j, kid := range n.kids {
			if used[j] {
				continue
			}
			trial := Values{}
			mark := d.mark()
			err := d.walk(kid, item, ipath, trial)
			d.reset(mark, err)
			if err == nil {
				if err := merge(out, trial, ipath); err != nil {
					return err
				}
				used[j], matched = true, true
				break
			}
			errs[j] = err
		}
		if matched {
			continue
		}
		if len(n.kids) == 1 && errs[0] != nil {
			return errs[0]
		}
		// several template items: when the item's literals (its coding
		// system, its telecom use) pick exactly one of them, that one's
		// own error names the element at fault (a coding's display or
		// version) rather than the whole item, so a client can tell what
		// to leave out
		if j := selectedBy(n.kids, used, item); j >= 0 {
			return errs[j]
		}
		return &backend.ElementError{Path: ipath, Msg: "no legacy column holds this element"}
	}
	return nil
}

// selectedBy is the one unused template object among kids whose literal
// members item gives, all with the same values (at least one), or -1 when
// none or several are so selected.
func selectedBy(kids []*node, used []bool, item any) int {
	m, ok := item.(map[string]any)
	if !ok {
		return -1
	}
	found := -1
	for j, kid := range kids {
		if used[j] || kid.kind != kObject {
			continue
		}
		agree, disagree := 0, false
		for i, k := range kid.keys {
			v, given := m[k]
			if kid.kids[i].kind != kLiteral || !given {
				continue
			}
			if sameJSON(kid.kids[i].litVal, v) {
				agree++
			} else {
				disagree = true
			}
		}
		if agree == 0 || disagree {
			continue
		}
		if found >= 0 {
			return -1
		}
		found = j
	}
	return found
}

// mark and reset drop the claims of a template item tried and refused.
func (d decoder) mark() int {
	if d.claims == nil {
		return 0
	}
	return len(*d.claims)
}

func (d decoder) reset(mark int, err error) {
	if err != nil && d.claims != nil {
		*d.claims = (*d.claims)[:mark]
	}
}

func (d decoder) assign(x *expr, suffix string, v any, path string, out Values) error {
	if x.derived {
		d.claim(claim{x: x, suffix: suffix, v: v, path: path})
		return nil
	}
	vals, err := x.tr.dec(suffix, v)
	if err != nil {
		var ee *backend.ElementError
		if errors.As(err, &ee) {
			return &backend.ElementError{Path: path + ee.Path, Msg: ee.Msg}
		}
		return &backend.ElementError{Path: path, Msg: err.Error()}
	}
	if x.tr.name == "decimal" && vals[0] != nil {
		d.claim(claim{x: x, v: v, number: true, path: path})
	}
	trial := Values{}
	for i, ref := range x.refs {
		trial[ref] = vals[i]
	}
	return merge(out, trial, path)
}

// merge adds trial to out; a column given two different values is refused.
func merge(out, trial Values, path string) error {
	for k, v := range trial {
		if old, ok := out[k]; ok && !sameVal(old, v) {
			return &backend.ElementError{Path: path, Msg: "contradicts another element stored in the same legacy column"}
		}
		out[k] = v
	}
	return nil
}

func sameVal(a, b any) bool {
	switch x := a.(type) {
	case DateVal:
		y, ok := b.(DateVal)
		return ok && x.Equal(y.Time)
	case DateTimeVal:
		y, ok := b.(DateTimeVal)
		return ok && x.Equal(y.Time)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// assignText splits the text between an interpolation's prefix and suffix
// at the literals between its expressions (each at its first occurrence)
// and assigns the pieces; derived expressions are skipped.
func (d decoder) assignText(it *interp, body, path string, out Values) error {
	// a literal between two values that also occurs inside one of them
	// ("Mary Ann" between spaces) makes the split ambiguous: refused, not
	// guessed
	for _, m := range it.mids {
		if strings.Count(body, m) != strings.Count(strings.Join(it.mids, "\x00"), m) {
			return &backend.ElementError{Path: path, Msg: fmt.Sprintf("cannot be split into its legacy columns: %q occurs inside a value", m)}
		}
	}
	for i, x := range it.exprs {
		piece := body
		if i < len(it.mids) {
			j := strings.Index(body, it.mids[i])
			if j < 0 {
				return &backend.ElementError{Path: path, Msg: fmt.Sprintf("want the text to have %q between its parts", it.mids[i])}
			}
			piece, body = body[:j], body[j+len(it.mids[i]):]
		}
		if x.derived {
			d.claim(claim{x: x, v: piece, piece: true, path: path})
			continue
		}
		if err := d.assign(x, "", piece, path, out); err != nil {
			return err
		}
	}
	return nil
}
