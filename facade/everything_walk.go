package facade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/jsonscan"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

// walkEverything fills one page with the matches of the legs from the
// page's position on, and notes where the next page starts.
func (s *Server) walkEverything(c echo.Context, run *everythingRun) error {
	run.seen = map[string]bool{}
	pos, left := run.pos, run.count
	for pos.Leg < len(pos.Legs) && left > 0 {
		leg := pos.Legs[pos.Leg]
		be, err := s.legBackend(c, leg, pos)
		if err != nil {
			return err
		}
		if be != nil {
			res, err := s.searchLeg(c, run, pos, be, left)
			if err != nil {
				return err
			}
			left -= len(res.Resources)
			if res.Next != "" {
				pos.Backend, pos.Cursor = be.Name(), res.Next
				run.next = &pos
				return nil
			}
		}
		pos.Leg++
		pos.Backend, pos.Cursor = "", ""
	}
	if pos.Leg < len(pos.Legs) {
		run.next = &pos
	}
	return nil
}

// legBackend is the backend a leg reads: its type's in the request's
// route snapshot, or, for a leg continued from a page token after a route
// flip, the backend that issued the cursor (nil: the type is no longer
// served, the leg is skipped).
func (s *Server) legBackend(c echo.Context, leg evLeg, pos evPos) (backend.Backend, error) {
	be := s.routes(c).BackendFor(leg.Type)
	if pos.Cursor == "" || (be != nil && be.Name() == pos.Backend) {
		return be, nil
	}
	// positions of one backend mean nothing to another
	if be = s.cfg.Router.ByName(pos.Backend); be == nil {
		return nil, httpErr(400, "invalid", "the backend of this page token is no longer serving; run the operation again")
	}
	return be, nil
}

// searchLeg runs one leg's narrowed search for up to count matches and
// adds them to the page.
func (s *Server) searchLeg(c echo.Context, run *everythingRun, pos evPos, be backend.Backend, count int) (*backend.SearchResult, error) {
	leg := pos.Legs[pos.Leg]
	d, ok := s.grantFor(c, leg.Type, auth.Search)
	if !ok {
		return &backend.SearchResult{}, nil
	}
	ref := run.id
	if leg.Param != "_id" {
		ref = "Patient/" + run.id
	}
	q := &search.Query{Params: []search.Param{{Name: leg.Param, Values: []string{escape(ref)}}}}
	if run.since != "" {
		if info, _ := s.typeInfo(leg.Type); info.ParamType("_lastUpdated") != "" {
			q.Params = append(q.Params, search.Param{Name: "_lastUpdated", Values: []string{"ge" + run.since}})
		} else if run.strict {
			return nil, httpErr(400, "not-supported", fmt.Sprintf("_since cannot be applied to %s: its store keeps no update time (without Prefer: handling=strict all of them are included, with a warning)", leg.Type))
		} else if leg == s.firstLegOf(pos, leg.Type) {
			run.warnings = append(run.warnings, fmt.Sprintf("_since cannot be applied to %s: its store keeps no update time, so all of the patient's %s resources are included", leg.Type, leg.Type))
		}
	}
	if err := s.narrow(c, leg.Type, q, d); err != nil {
		return nil, err
	}
	res, err := be.Search(c.Request().Context(), leg.Type, q, backend.SearchOptions{Cursor: pos.Cursor, Count: count, Strict: run.strict, Partial: !run.strict})
	if err != nil {
		return nil, err
	}
	for _, u := range res.Unmappable {
		run.warnings = append(run.warnings, u.Public+"; it is left out of this page (Prefer: handling=strict makes this an error)")
	}
	for _, name := range res.Ignored {
		run.warnings = append(run.warnings, fmt.Sprintf("%s: search parameter %q is not supported and was ignored", leg.Type, name))
	}
	for _, r := range s.keepInCompartment(c, res.Resources, d) {
		if key := r.Type + "/" + r.ID; !run.seen[key] && !s.inEarlierLeg(r, pos, "Patient/"+run.id) {
			run.seen[key] = true
			run.matches = append(run.matches, r)
		}
	}
	return res, nil
}

// firstLegOf is typ's first leg.
func (s *Server) firstLegOf(pos evPos, typ string) evLeg {
	for _, l := range pos.Legs {
		if l.Type == typ {
			return l
		}
	}
	return evLeg{}
}

// inEarlierLeg reports whether r also belongs to the patient through the
// parameter of an earlier leg of its type (it was, or will be, listed
// there): a rule instead of a memory, so pages never repeat a resource.
func (s *Server) inEarlierLeg(r *backend.Resource, pos evPos, patient string) bool {
	info, _ := s.typeInfo(r.Type)
	for _, l := range pos.Legs[:pos.Leg] {
		if l.Type != r.Type {
			continue
		}
		for _, v := range jsonscan.TopLevel(r.JSON, elementOf(info, l.Param)) {
			for _, ref := range refsIn(v) {
				if ref == patient {
					return true
				}
			}
		}
	}
	return false
}

// referencedEverything adds the resources the page's matches reference
// whose types are served but outside the compartment (a Practitioner, an
// Organization, a Location), read under the token's grants like
// _include; with _type only the named types are returned.
func (s *Server) referencedEverything(c echo.Context, run *everythingRun) error {
	if run.types != nil {
		return nil
	}
	inCompartment := map[string]bool{}
	for _, t := range s.compartmentTypes() {
		inCompartment[t] = true
	}
	byType := map[string][]*backend.Resource{}
	var types []string
	for _, r := range run.matches {
		if byType[r.Type] == nil {
			types = append(types, r.Type)
		}
		byType[r.Type] = append(byType[r.Type], r)
	}
	for _, typ := range types {
		info, _ := s.typeInfo(typ)
		for _, p := range info.SearchParams() {
			path, target, ok := info.IncludePath(p)
			if !ok || inCompartment[target] || s.routes(c).BackendFor(target) == nil {
				continue
			}
			if _, known := s.typeInfo(target); !known {
				continue
			}
			if _, granted := s.grantFor(c, target, auth.Read, auth.Search); !granted {
				run.warnings = append(run.warnings, fmt.Sprintf("the %s resources the patient's %s reference are left out: the token's scopes do not grant them", target, typ))
				continue
			}
			got, err := s.fetchIncluded(c, include{src: typ, param: p, path: path, target: target}, byType[typ], run.seen, &run.warnings)
			if err != nil {
				return err
			}
			run.included = append(run.included, got...)
		}
	}
	return nil
}

// everythingBinding binds a page token to the principal, the patient and
// the operation's parameters.
func (s *Server) everythingBinding(c echo.Context, run *everythingRun) string {
	q := *run.q
	q.Params = nil
	if run.since != "" {
		q.Params = append(q.Params, search.Param{Name: "_since", Values: []string{run.since}})
	}
	if run.types != nil {
		var ts []string
		for t := range run.types {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		q.Params = append(q.Params, search.Param{Name: "_type", Values: ts})
	}
	return pageBinding(principal(c), "Patient/"+run.id+"/"+everythingOp, &q)
}

// everythingBundle is the page's searchset: self and next links, the
// matches, the referenced resources, and the warnings.
func (s *Server) everythingBundle(c echo.Context, run *everythingRun) []byte {
	base := s.base(c)
	op := base + "/Patient/" + run.id + "/" + everythingOp
	size := 512
	for _, r := range append(run.matches, run.included...) {
		size += len(r.JSON) + len(base) + 96
	}
	b := newBundle(base, nil, size)
	self := op
	if qs := run.vals.Encode(); qs != "" {
		self += "?" + qs
	}
	b.link("self", self)
	if run.next != nil {
		pos, _ := json.Marshal(run.next)
		tok := s.cfg.Sealer.Seal(pagetoken.State{Type: "Patient/" + run.id + "/" + everythingOp, Query: run.vals.Encode(), Pos: string(pos), Bind: run.bind})
		b.link("next", op+"?_page="+tok)
	}
	for _, r := range run.matches {
		b.entry(r, "match")
	}
	for _, r := range run.included {
		b.entry(r, "include")
	}
	b.warnings(run.warnings)
	return b.bytes()
}

// parametersBody adds the parameters of a POSTed Parameters resource to
// vals (each parameter's value[x] as its string form).
func parametersBody(c echo.Context, vals url.Values) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if err != nil || (mt != "application/fhir+json" && mt != "application/json") {
		return httpErr(415, "not-supported", "POST "+everythingOp+" takes a Parameters resource as application/fhir+json")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyError(err, "could not read the request body")
	}
	var p struct {
		ResourceType string                       `json:"resourceType"`
		Parameter    []map[string]json.RawMessage `json:"parameter"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.ResourceType != "Parameters" {
		return &HTTPError{Status: 400, Code: "structure", Msg: "the body must be a Parameters resource", Path: "resourceType"}
	}
	for i, par := range p.Parameter {
		name, value, ok := parameterValue(par)
		if !ok {
			return &HTTPError{Status: 400, Code: "invalid", Msg: "each parameter needs a name and a simple value[x]", Path: fmt.Sprintf("Parameters.parameter[%d]", i)}
		}
		vals.Add(name, value)
	}
	return nil
}

// parameterValue reads a Parameters.parameter's name and primitive value.
func parameterValue(par map[string]json.RawMessage) (name, value string, ok bool) {
	if json.Unmarshal(par["name"], &name) != nil || name == "" {
		return "", "", false
	}
	for k, v := range par {
		if !strings.HasPrefix(k, "value") {
			continue
		}
		if s, isStr := jsonscan.String(v); isStr {
			return name, s, true
		}
		if n := bytes.TrimSpace(v); len(n) > 0 && (n[0] == '-' || (n[0] >= '0' && n[0] <= '9')) {
			return name, string(n), true
		}
	}
	return "", "", false
}
