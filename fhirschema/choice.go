package fhirschema

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// R4 allows at most one type of a choice element (value[x], effective[x],
// deceased[x], ...) in one object. The R4 JSON schema cannot say so: it
// lists each type as its own optional property (valueQuantity, valueString,
// ...), so a resource with both validated. choices finds those groups in
// the schema itself, so that Validate can refuse two of one group.

// choices maps a property name to the choice groups it belongs to (one per
// schema definition that has it as a choice).
type choices map[string][]string

// choiceGroups reads the groups from the schema document: in each
// definition, the properties named prefix+Type (Type a definition of the
// schema: Quantity, string as String, dateTime as DateTime) that share
// their prefix and their description form one choice element, when there
// are at least two of them.
func choiceGroups(doc any) choices {
	defs, _ := asMap(doc)["definitions"].(map[string]any)
	out := choices{}
	for name, def := range defs {
		props, _ := asMap(def)["properties"].(map[string]any)
		groups := map[string][]string{}
		for k, p := range props {
			prefix, ok := choicePrefix(k, defs)
			if !ok {
				continue
			}
			desc, _ := asMap(p)["description"].(string)
			id := name + "." + prefix + "[x]\x00" + desc
			groups[id] = append(groups[id], k)
		}
		for id, members := range groups {
			if len(members) < 2 {
				continue
			}
			for _, k := range members {
				out[k] = append(out[k], id)
			}
		}
	}
	return out
}

// choicePrefix splits a property name at its first capital that starts a
// type name of the schema (valueQuantity: value; effectiveDateTime:
// effective).
func choicePrefix(k string, defs map[string]any) (string, bool) {
	if k == "" || k[0] == '_' {
		return "", false
	}
	for i, r := range k {
		if i == 0 || !unicode.IsUpper(r) {
			continue
		}
		typ := k[i:]
		if _, ok := defs[typ]; ok {
			return k[:i], true
		}
		if _, ok := defs[strings.ToLower(typ[:1])+typ[1:]]; ok {
			return k[:i], true
		}
	}
	return "", false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// check walks a parsed resource and returns a failure for every object
// that holds two types of one choice element.
func (c choices) check(typ string, inst any) []Failure {
	var out []Failure
	var walk func(v any, loc []string)
	walk = func(v any, loc []string) {
		switch v := v.(type) {
		case map[string]any:
			out = append(out, c.object(typ, v, loc)...)
			for k, e := range v {
				walk(e, append(loc[:len(loc):len(loc)], k))
			}
		case []any:
			for i, e := range v {
				walk(e, append(loc[:len(loc):len(loc)], strconv.Itoa(i)))
			}
		}
	}
	walk(inst, nil)
	return out
}

// object returns the failures of one object: each choice group two or
// more of its properties belong to.
func (c choices) object(typ string, m map[string]any, loc []string) []Failure {
	seen := map[string][]string{}
	for k := range m {
		for _, id := range c[k] {
			seen[id] = append(seen[id], k)
		}
	}
	var out []Failure
	reported := map[string]bool{}
	for id, keys := range seen {
		if len(keys) < 2 {
			continue
		}
		sort.Strings(keys)
		msg := strings.Join(keys, " and ")
		if reported[msg] {
			continue // the same pair in several definitions' groups
		}
		reported[msg] = true
		elem, _, _ := strings.Cut(id, "\x00")
		_, elem, _ = strings.Cut(elem, ".")
		// the path names the first of them, so that a spec check can name
		// the columns behind it
		out = append(out, Failure{Path: fhirPath(typ, append(loc[:len(loc):len(loc)], keys[0])), Msg: msg + " are two types of the choice element " + elem + " (R4 allows one)"})
	}
	return out
}
