package facade

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// interactionLetter is the SMART v2 letter each interaction needs.
var interactionLetter = map[string]byte{
	"read": auth.Read, "search-type": auth.Search, "create": auth.Create,
	"conditional-create": auth.Create, "update": auth.Update, "delete": auth.Delete,
	// SMART v2: read covers vread and history
	"vread": auth.Read, "history-instance": auth.Read,
	"conditional-update": auth.Update, "conditional-delete": auth.Delete,
}

// conditional are the interactions whose condition is a search: they need
// the search grant too, and their condition is narrowed by it.
var conditional = map[string]bool{"conditional-create": true, "conditional-update": true, "conditional-delete": true}

// authorize checks the token's scopes for interaction on typ and keeps the
// decision for the handler's narrowing. Auth off allows everything.
func (s *Server) authorize(c echo.Context, typ, interaction string) error {
	if s.cfg.Auth == nil {
		return nil
	}
	d, err := s.decide(c, typ, interactionLetter[interaction])
	if err != nil {
		return err
	}
	if !d.Allowed {
		return httpErr(403, "forbidden", fmt.Sprintf("the token's scopes do not allow %s on %s", interaction, typ))
	}
	if conditional[interaction] {
		// the condition (If-None-Exist, or the query of a conditional
		// update or delete) is a search: it needs s too, and is narrowed
		// like one
		sd, err := s.decide(c, typ, auth.Search)
		if err != nil {
			return err
		}
		if !sd.Allowed {
			return httpErr(403, "forbidden", fmt.Sprintf("the condition of %s searches %s, which the token's scopes do not allow", interaction, typ))
		}
		reqOf(c).searchDecision = sd
	}
	reqOf(c).decision = d
	return nil
}

func (s *Server) decide(c echo.Context, typ string, letter byte) (auth.Decision, error) {
	p := principal(c)
	if p == nil {
		return auth.Decision{}, httpErr(401, "login", "a bearer token is required")
	}
	d := auth.Decide(p.Grants, typ, letter)
	if d.Allowed && d.Filter.Compartment {
		if p.Patient == "" {
			return auth.Decision{}, httpErr(403, "forbidden", "a patient/ scope needs a patient in the token (patient or fhirUser claim)")
		}
		if _, err := s.compartmentParam(typ); err != nil {
			return auth.Decision{}, err
		}
	}
	return d, nil
}

func filtered(d auth.Decision) bool { return d.Filter.Compartment || len(d.Filter.Params) > 0 }

// narrow adds the decision's filter to q as parameters the backend must
// apply in its own query: the patient compartment and any ?param=value
// restrictions. Parameters are ANDed, so narrowing never widens. A
// restriction the type cannot search on is refused rather than ignored
// (ignoring it would widen the grant).
func (s *Server) narrow(c echo.Context, typ string, q *search.Query, d auth.Decision) error {
	if !filtered(d) {
		return nil
	}
	if d.Filter.Compartment {
		name, err := s.compartmentParam(typ)
		if err != nil {
			return err
		}
		v := principal(c).Patient
		if name != "_id" {
			v = "Patient/" + v
		}
		q.Params = append(q.Params, search.Param{Name: name, Values: []string{escape(v)}})
	}
	if len(d.Filter.Params) > 0 {
		info, _ := s.typeInfo(typ)
		for name := range d.Filter.Params {
			base, _, _ := strings.Cut(name, ":")
			if info.ParamType(base) == "" {
				return httpErr(403, "forbidden", fmt.Sprintf("the token's restriction on %s cannot be enforced for %s", base, typ))
			}
		}
		rq, err := search.ParseQuery(url.Values(d.Filter.Params))
		if err != nil || len(rq.Params) == 0 || len(rq.Include)+len(rq.RevInclude)+len(rq.Sort)+len(rq.Elements) > 0 || rq.Count != 0 || rq.Total != "" || rq.Summary != "" {
			// a control parameter (_count, _include, ...) restricts nothing:
			// honouring the rest would widen the grant the issuer meant
			return httpErr(403, "forbidden", "the token's scope restriction is not a search this server can enforce")
		}
		q.Params = append(q.Params, rq.Params...)
	}
	return nil
}

// readInGrant reads typ/id as a read under d does: through the grant's
// own query when d is filtered (a resource outside it is the 404 of a
// missing one), else straight from the backend.
func (s *Server) readInGrant(c echo.Context, be backend.Backend, typ, id string, d auth.Decision) (*backend.Resource, error) {
	if filtered(d) {
		return s.findInGrant(c, be, typ, id, d)
	}
	return be.Read(c.Request().Context(), typ, id)
}

// findInGrant reads typ/id as a search of _id plus the narrowing
// parameters — the check the backend applies to searches, so reads and
// searches cannot disagree — and answers 404 when the resource is missing
// or outside the grant (the same answer, so a token cannot probe for other
// patients' ids; a deleted resource is a 404 too, as whose it was cannot be
// checked). One query: the search returns the resource itself.
func (s *Server) findInGrant(c echo.Context, be backend.Backend, typ, id string, d auth.Decision) (*backend.Resource, error) {
	q := &search.Query{Params: []search.Param{{Name: "_id", Values: []string{escape(id)}}}}
	if err := s.narrow(c, typ, q, d); err != nil {
		return nil, err
	}
	res, err := be.Search(c.Request().Context(), typ, q, backend.SearchOptions{Count: 1})
	if err != nil {
		return nil, err
	}
	for _, r := range s.keepInCompartment(c, res.Resources, d) {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, httpErr(404, "not-found", fmt.Sprintf("%s/%s is not known", typ, id))
}

// grantFor is the first of letters the token holds on typ (auth off: all).
// A type a patient-scoped token cannot be confined on counts as not granted.
func (s *Server) grantFor(c echo.Context, typ string, letters ...byte) (auth.Decision, bool) {
	if s.cfg.Auth == nil {
		return auth.Decision{Allowed: true}, true
	}
	for _, l := range letters {
		if d, err := s.decide(c, typ, l); err == nil && d.Allowed {
			return d, true
		}
	}
	return auth.Decision{}, false
}
