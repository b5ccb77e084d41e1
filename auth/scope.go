// Package auth turns a bearer token into a Principal: it validates JWTs
// against the issuer's JWKS (token.go) and reads SMART v1/v2 scopes into
// grants (scope.go) that say which interactions a token may perform on which
// types, and under which filters (the patient compartment, ?param=value
// restrictions).
package auth

import (
	"net/url"
	"sort"
	"strings"
)

// Interaction letters of SMART v2: create, read, update, delete, search.
const (
	Create = 'c'
	Read   = 'r'
	Update = 'u'
	Delete = 'd'
	Search = 's'
)

// Grant is one SMART clinical scope.
type Grant struct {
	Context  string     // patient, user or system
	Type     string     // a resource type or "*"
	Letters  string     // the interactions it allows, in cruds order
	Restrict url.Values // v2 ?param=value restrictions (nil: none)
	Raw      string
}

// ParseScopes reads the SMART clinical scopes out of a scope string list
// (OAuth `scope`/Entra `scp`, or `roles`). Other scopes (openid, fhirUser,
// launch/patient, offline_access, anything unknown) are skipped: they grant
// nothing here. Both `patient/Observation.rs` and the Entra ID spelling
// `patient.Observation.rs` (`all` for `*`) are accepted, because Entra does
// not allow "/" in scope values.
func ParseScopes(scopes []string) []Grant {
	var out []Grant
	for _, s := range scopes {
		if g, ok := parseScope(s); ok {
			out = append(out, g)
		}
	}
	return out
}

func parseScope(s string) (Grant, bool) {
	g := Grant{Raw: s}
	rest := s
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		vals, err := url.ParseQuery(rest[q+1:])
		if err != nil || len(vals) == 0 || hasEmpty(vals) {
			// an unreadable restriction grants nothing; nor does an empty
			// one (?gender=): a search ignores an empty parameter, so
			// honouring it would grant every resource of the type
			return g, false
		}
		g.Restrict, rest = vals, rest[:q]
	}
	ctx, tail, ok := cutAny(rest, "/.")
	if !ok {
		return g, false
	}
	switch ctx {
	case "patient", "user", "system":
	default:
		return g, false
	}
	typ, perm, ok := strings.Cut(tail, ".")
	if !ok || typ == "" || strings.ContainsAny(perm, "./") {
		return g, false
	}
	if typ == "all" {
		typ = "*"
	}
	g.Context, g.Type = ctx, typ
	switch perm {
	case "read": // SMART v1
		g.Letters = "rs"
	case "write":
		g.Letters = "cud"
	case "*":
		g.Letters = "cruds"
	default:
		// v2: a non-empty subsequence of "cruds", in that order
		at := 0
		for i := 0; i < len(perm); i++ {
			j := strings.IndexByte("cruds"[at:], perm[i])
			if j < 0 {
				return g, false
			}
			at += j + 1
		}
		if perm == "" {
			return g, false
		}
		g.Letters = perm
	}
	if g.Restrict != nil && strings.ContainsAny(g.Letters, "cud") {
		// restrictions are defined for reads and searches; a restricted
		// write scope would need the body checked against a search
		// expression, so it grants nothing rather than too much
		return g, false
	}
	return g, true
}

// hasEmpty reports a restriction with an empty name or value, or an empty
// item in a comma-separated OR list (?code=a,).
func hasEmpty(vals url.Values) bool {
	for k, vs := range vals {
		if strings.TrimSpace(k) == "" {
			return true
		}
		for _, v := range vs {
			for _, part := range strings.Split(v, ",") {
				if strings.TrimSpace(part) == "" {
					return true
				}
			}
		}
	}
	return false
}

func cutAny(s, seps string) (string, string, bool) {
	i := strings.IndexAny(s, seps)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// Filter is what one grant adds to a query: confinement to the token's
// patient compartment and/or the grant's parameter restrictions.
type Filter struct {
	Compartment bool
	Params      url.Values
}

func (f Filter) key() string {
	keys := make([]string, 0, len(f.Params))
	for k := range f.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if f.Compartment {
		b.WriteString("C|")
	}
	for _, k := range keys {
		vs := append([]string(nil), f.Params[k]...)
		sort.Strings(vs)
		b.WriteString(k + "=" + strings.Join(vs, ",") + "&")
	}
	return b.String()
}

// Decision is the answer for one interaction on one type.
type Decision struct {
	Allowed bool
	// Filter narrows what the interaction may touch; the zero Filter is no
	// narrowing.
	Filter Filter
	// Narrowed is true when several different filters were granted and
	// only one of them is applied: the union of differently-filtered
	// grants cannot be written as one FHIR query, so the facade applies
	// one (less data, never more) and says so.
	Narrowed bool
}

// Decide says whether grants allow interaction letter on typ and how the
// access must be narrowed. The union of the matching grants is what they
// allow: a grant without filter makes the access unfiltered; otherwise one
// filter is applied (grants restricting the same single parameter are
// merged as an OR of their values).
func Decide(grants []Grant, typ string, letter byte) Decision {
	var filters []Filter
	for _, g := range grants {
		if (g.Type != typ && g.Type != "*") || strings.IndexByte(g.Letters, letter) < 0 {
			continue
		}
		f := Filter{Compartment: g.Context == "patient", Params: g.Restrict}
		if !f.Compartment && len(f.Params) == 0 {
			return Decision{Allowed: true}
		}
		filters = append(filters, f)
	}
	if len(filters) == 0 {
		return Decision{}
	}
	// identical filters collapse
	seen := map[string]bool{}
	var uniq []Filter
	for _, f := range filters {
		if k := f.key(); !seen[k] {
			seen[k] = true
			uniq = append(uniq, f)
		}
	}
	// a compartment-only filter allows a superset of every other
	// compartment filter; it cannot stand for a filter outside the
	// compartment (user/ with a restriction)
	compartmentOnly, allCompartment := false, true
	for _, f := range uniq {
		compartmentOnly = compartmentOnly || len(f.Params) == 0
		allCompartment = allCompartment && f.Compartment
	}
	if compartmentOnly && allCompartment {
		return Decision{Allowed: true, Filter: Filter{Compartment: true}}
	}
	if merged, ok := mergeSingleParam(uniq); ok {
		return Decision{Allowed: true, Filter: merged}
	}
	return Decision{Allowed: true, Filter: uniq[0], Narrowed: len(uniq) > 1}
}

// mergeSingleParam ORs filters that all restrict the same one parameter
// with the same compartment setting: category=laboratory and
// category=vital-signs become category=laboratory,vital-signs.
func mergeSingleParam(fs []Filter) (Filter, bool) {
	if len(fs) < 2 {
		return Filter{}, false
	}
	var name string
	var vals []string
	for i, f := range fs {
		if len(f.Params) != 1 || f.Compartment != fs[0].Compartment {
			return Filter{}, false
		}
		for k, vs := range f.Params {
			if len(vs) != 1 || (i > 0 && k != name) || strings.ContainsAny(k, ":") {
				return Filter{}, false
			}
			name = k
			vals = append(vals, vs[0])
		}
	}
	return Filter{Compartment: fs[0].Compartment, Params: url.Values{name: {strings.Join(vals, ",")}}}, true
}
