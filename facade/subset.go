package facade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// _summary and _elements (R4 search §3.1.1.5.9-10): the facade subsets the
// resources it returns itself, whichever backend served them, so that a
// route flip never changes what a client sees. Which elements a summary
// keeps comes from the catalog (TypeInfo.Elements, R4's isSummary,
// min ≥ 1 and isModifier flags); no element is named here but the few the
// spec names (id, meta, text).

// subsettedTag is the meta.tag a subsetted resource carries, so that no
// client takes it for the whole resource (or writes it back as such).
const subsettedTag = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED","display":"subsetted"}`

// alwaysKept are the elements every subset keeps (besides resourceType).
var alwaysKept = map[string]bool{"id": true, "meta": true}

// summaryKeeps is, per _summary mode, whether an element stays.
var summaryKeeps = map[string]func(name string, el ElementInfo) bool{
	"true": func(_ string, el ElementInfo) bool { return el.Summary || el.Mandatory },
	"text": func(name string, el ElementInfo) bool { return name == "text" || el.Mandatory },
	"data": func(name string, _ ElementInfo) bool { return name != "text" },
}

// subset is how a request shapes the resources it returns: a _summary
// mode or a list of _elements (the zero value returns them whole).
type subset struct {
	summary  string
	elements map[string]bool
}

// active reports whether resources are cut at all.
func (sb subset) active() bool { return sb.summary != "" || sb.elements != nil }

// newSubset checks _summary and _elements for the types the answer may
// hold: every _elements name must be an element of at least one of them
// (a summary of a type whose elements are unknown is refused too).
func (s *Server) newSubset(q *search.Query, types ...string) (subset, error) {
	sb := subset{summary: q.Summary}
	if sb.summary == "count" {
		sb.summary = "" // handled by the search: no resources at all
	}
	if len(q.Elements) > 0 && q.Summary != "" {
		return subset{}, httpErr(400, "invalid", "_summary and _elements cannot be combined; use one of them")
	}
	if !sb.active() && len(q.Elements) == 0 {
		return sb, nil
	}
	for _, typ := range types {
		if info, _ := s.typeInfo(typ); info.Elements == nil {
			return subset{}, httpErr(400, "not-supported", fmt.Sprintf("_summary and _elements are not available for %s: its elements are unknown here", typ))
		}
	}
	if len(q.Elements) > 0 {
		sb.elements = map[string]bool{}
	}
	for _, name := range q.Elements {
		if !s.anyHasElement(name, types) {
			return subset{}, &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("_elements: %q is not an element of %s", truncate(name, 64), strings.Join(types, " or ")), Path: "_elements"}
		}
		sb.elements[name] = true
	}
	return sb, nil
}

// anyHasElement reports whether name is a top-level element of one of types.
func (s *Server) anyHasElement(name string, types []string) bool {
	for _, typ := range types {
		info, _ := s.typeInfo(typ)
		if _, ok := elementFor(info, name); ok {
			return true
		}
	}
	return false
}

// elementFor is the element a JSON key (or an _elements name) stands for:
// the element itself, a primitive's "_name" extension, or one type of a
// choice ("valueQuantity" or "value" for "value[x]").
func elementFor(info TypeInfo, key string) (string, bool) {
	key = strings.TrimPrefix(key, "_")
	if _, ok := info.Elements[key]; ok {
		return key, true
	}
	if _, ok := info.Elements[key+"[x]"]; ok {
		return key + "[x]", true
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] < 'A' || key[i] > 'Z' {
			continue
		}
		if _, ok := info.Elements[key[:i]+"[x]"]; ok {
			return key[:i] + "[x]", true
		}
	}
	return "", false
}

// keeps reports whether the subset keeps the JSON key of a resource of the
// type info describes.
func (sb subset) keeps(info TypeInfo, key string) bool {
	if key == "resourceType" || alwaysKept[key] {
		return true
	}
	name, ok := elementFor(info, key)
	if !ok {
		return false // not an R4 element: no subset vouches for it
	}
	el := info.Elements[name]
	if sb.elements != nil {
		base := strings.TrimSuffix(name, "[x]")
		return el.Mandatory || el.Modifier || sb.elements[base] || sb.elements[strings.TrimPrefix(key, "_")]
	}
	return summaryKeeps[sb.summary](name, el)
}

// applySubset returns the subsetted copies of rs (rs itself when nothing is cut).
func (s *Server) applySubset(sb subset, rs []*backend.Resource) ([]*backend.Resource, error) {
	if !sb.active() {
		return rs, nil
	}
	out := make([]*backend.Resource, len(rs))
	for i, r := range rs {
		info, _ := s.typeInfo(r.Type)
		if info.Elements == nil {
			// an included type whose elements are unknown comes whole
			// (the searched types were checked by newSubset)
			out[i] = r
			continue
		}
		raw, err := sb.cut(info, r.JSON)
		if err != nil {
			return nil, fmt.Errorf("subset %s/%s: %w", r.Type, r.ID, err)
		}
		cp := *r
		cp.JSON = raw
		out[i] = &cp
	}
	return out, nil
}

// cut writes the resource with only the kept elements, in their order, and
// the SUBSETTED tag in its meta.
func (sb subset) cut(info TypeInfo, raw []byte) ([]byte, error) {
	keys, vals, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(raw))
	out = append(out, '{')
	hasMeta := false
	for i, k := range keys {
		if !sb.keeps(info, k) {
			continue
		}
		v := vals[i]
		if k == "meta" {
			hasMeta = true
			if v, err = tagSubsetted(v); err != nil {
				return nil, err
			}
		}
		out = appendField(out, k, v)
	}
	if !hasMeta {
		out = appendField(out, "meta", []byte(`{"tag":[`+subsettedTag+`]}`))
	}
	return append(out, '}'), nil
}

// tagSubsetted adds the SUBSETTED tag to a meta object (once).
func tagSubsetted(meta []byte) ([]byte, error) {
	keys, vals, err := objectFields(meta)
	if err != nil {
		return nil, err
	}
	out := []byte{'{'}
	tagged := false
	for i, k := range keys {
		v := vals[i]
		if k == "tag" {
			tagged = true
			v = withTag(v)
		}
		out = appendField(out, k, v)
	}
	if !tagged {
		out = appendField(out, "tag", []byte("["+subsettedTag+"]"))
	}
	return append(out, '}'), nil
}

// withTag is a meta.tag list with the SUBSETTED tag added (unless there).
func withTag(list []byte) []byte {
	if bytes.Contains(list, []byte(`"SUBSETTED"`)) {
		return list
	}
	body := bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(list), []byte("]")))
	out := append([]byte(nil), body...)
	if !bytes.Equal(body, []byte("[")) {
		out = append(out, ',')
	}
	return append(out, subsettedTag+"]"...)
}

// objectFields splits a JSON object into its keys and raw values, in order.
func objectFields(raw []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

// appendField appends "key":value to an object being written.
func appendField(out []byte, key string, v []byte) []byte {
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = append(out, jsonString(key)...)
	out = append(out, ':')
	return append(out, v...)
}

// readSubset is the subset a read asks for (_summary, _elements).
func (s *Server) readSubset(typ string, raw url.Values) (subset, error) {
	v := url.Values{}
	for _, k := range []string{"_summary", "_elements"} {
		if raw.Has(k) {
			v[k] = raw[k]
		}
	}
	q, err := search.ParseQuery(v)
	if err != nil {
		return subset{}, err
	}
	if q.Summary == "count" {
		return subset{}, httpErr(400, "invalid", "_summary=count applies to searches, not to a read")
	}
	return s.newSubset(q, typ)
}
