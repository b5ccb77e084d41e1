package facade

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// _include and _revinclude: resolved against the catalog, then read from
// the backend of each included type under the token's grant for it.

// revIncludeCap bounds the resources one page's _revinclude adds; more are
// reported in an OperationOutcome entry rather than silently cut.
const revIncludeCap = 1000

// idChunk is how many ids one include lookup asks for (search.MaxValues).
const idChunk = search.MaxValues

type include struct {
	src, param, path, target string
}

func (s *Server) includes(typ string, vals []string, strict bool, warnings *[]string) ([]include, error) {
	var out []include
	for _, v := range vals {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] != typ {
			if strict {
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_include=%s: want %s:<reference parameter>", v, typ))
			}
			*warnings = append(*warnings, fmt.Sprintf("_include=%s is not supported and was ignored", v))
			continue
		}
		info, _ := s.typeInfo(typ)
		path, target, ok := info.IncludePath(parts[1])
		if !ok || (len(parts) == 3 && parts[2] != target) {
			switch {
			case strict && ok:
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_include=%s: %s of %s refers to %s, not %s", v, parts[1], typ, target, parts[2]))
			case strict:
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_include=%s: %s has no reference parameter %q", v, typ, parts[1]))
			}
			*warnings = append(*warnings, fmt.Sprintf("_include=%s is not supported and was ignored", v))
			continue
		}
		out = append(out, include{src: typ, param: parts[1], path: path, target: target})
	}
	return out, nil
}

func (s *Server) revIncludes(typ string, vals []string, strict bool, warnings *[]string) ([]include, error) {
	var out []include
	for _, v := range vals {
		parts := strings.Split(v, ":")
		ok := len(parts) >= 2 && len(parts) <= 3
		var path, target string
		if ok {
			if sp, known := s.typeInfo(parts[0]); known {
				path, target, ok = sp.IncludePath(parts[1])
				ok = ok && target == typ && (len(parts) == 2 || parts[2] == typ)
			} else {
				ok = false
			}
		}
		if !ok {
			if strict {
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_revinclude=%s: want <type>:<reference parameter to %s>", v, typ))
			}
			*warnings = append(*warnings, fmt.Sprintf("_revinclude=%s is not supported and was ignored", v))
			continue
		}
		out = append(out, include{src: parts[0], param: parts[1], path: path, target: target})
	}
	return out, nil
}

// refsAt collects the "Type/id" references at a dotted element path.
func refsAt(raw []byte, path string) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	cur := []any{v}
	for _, step := range strings.Split(path, ".") {
		var next []any
		for _, x := range cur {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			switch y := m[step].(type) {
			case []any:
				next = append(next, y...)
			case nil:
			default:
				next = append(next, y)
			}
		}
		cur = next
	}
	var out []string
	for _, x := range cur {
		if m, ok := x.(map[string]any); ok {
			if r, ok := m["reference"].(string); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// fetchIncluded reads the targets of one _include from the backend that owns
// the target type (which may differ from the matches' backend).
func (s *Server) fetchIncluded(c echo.Context, inc include, matches []*backend.Resource, seen map[string]bool, warnings *[]string) ([]*backend.Resource, error) {
	d, ok := s.grantFor(c, inc.target, auth.Read, auth.Search)
	if !ok {
		*warnings = append(*warnings, fmt.Sprintf("_include=%s:%s: the token's scopes do not grant %s; those resources are left out", inc.src, inc.param, inc.target))
		return nil, nil
	}
	var ids []string
	for _, r := range matches {
		for _, ref := range refsAt(r.JSON, inc.path) {
			typ, id, ok := strings.Cut(ref, "/")
			if !ok || typ != inc.target || strings.Contains(id, "/") || seen[ref] {
				continue
			}
			seen[ref] = true
			ids = append(ids, id)
		}
	}
	be := s.routes(c).BackendFor(inc.target)
	if be == nil && len(ids) > 0 {
		// a reference to a type this facade does not serve (a mapping's
		// reference to a Practitioner kept elsewhere)
		*warnings = append(*warnings, fmt.Sprintf("_include=%s:%s: %s is not served here; those resources are left out", inc.src, inc.param, inc.target))
		return nil, nil
	}
	if be == nil || len(ids) == 0 {
		return nil, nil
	}
	var out []*backend.Resource
	for lo := 0; lo < len(ids); lo += idChunk {
		chunk := ids[lo:min(lo+idChunk, len(ids))]
		q := &search.Query{Params: []search.Param{{Name: "_id", Values: escapeAll(chunk)}}}
		if err := s.narrow(c, inc.target, q, d); err != nil {
			return nil, err
		}
		res, err := be.Search(c.Request().Context(), inc.target, q, backend.SearchOptions{Count: len(chunk)})
		if err != nil {
			return nil, err
		}
		out = append(out, s.keepInCompartment(c, res.Resources, d)...)
	}
	return out, nil
}

// fetchRevIncluded finds resources of inc.src that point at the matches.
func (s *Server) fetchRevIncluded(c echo.Context, typ string, inc include, matches []*backend.Resource, seen map[string]bool, warnings *[]string) ([]*backend.Resource, bool, error) {
	d, ok := s.grantFor(c, inc.src, auth.Search)
	if !ok {
		*warnings = append(*warnings, fmt.Sprintf("_revinclude=%s:%s: the token's scopes do not grant searching %s; those resources are left out", inc.src, inc.param, inc.src))
		return nil, false, nil
	}
	be := s.routes(c).BackendFor(inc.src)
	if be == nil || len(matches) == 0 {
		return nil, false, nil
	}
	var out []*backend.Resource
	for lo := 0; lo < len(matches); lo += idChunk {
		var refs []string
		for _, r := range matches[lo:min(lo+idChunk, len(matches))] {
			refs = append(refs, escape(typ+"/"+r.ID))
		}
		pos := ""
		for {
			q := &search.Query{Params: []search.Param{{Name: inc.param, Values: refs}}}
			if err := s.narrow(c, inc.src, q, d); err != nil {
				return nil, false, err
			}
			res, err := be.Search(c.Request().Context(), inc.src, q, backend.SearchOptions{Cursor: pos, Count: min(search.MaxCount, revIncludeCap-len(out)+1)})
			if err != nil {
				return nil, false, err
			}
			for _, r := range s.keepInCompartment(c, res.Resources, d) {
				key := r.Type + "/" + r.ID
				if seen[key] {
					continue
				}
				if len(out) == revIncludeCap {
					return out, true, nil
				}
				seen[key] = true
				out = append(out, r)
			}
			if res.Next == "" {
				break
			}
			pos = res.Next
		}
	}
	return out, false, nil
}
