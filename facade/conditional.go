package facade

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// Conditional update and delete (PUT [type]?search, DELETE [type]?search):
// the condition is a search, narrowed like any search by the token's grant
// (a match in another patient's data must neither be touched nor show
// through as a 412), then:
//
//	matches  PUT                                   DELETE
//	0        create (with an id in the body:       204, nothing deleted (R4: "an
//	         update-as-create of that id)           ordinary delete", which of
//	                                                nothing succeeds)
//	1        update of the match (an id in the     delete of the match
//	         body must be the match's, else 400)
//	>1       412                                   412 (conditionalDelete: single)
//
// The match is then written with If-Match its version (or the client's
// If-Match), so a change between the search and the write makes the write
// fail instead of acting on a resource that may no longer match; such a
// race, and a concurrent create of a match, are retried once.

// conditionalRetries bounds the retries after a race with another writer.
const conditionalRetries = 2

// condition parses the request's query into the narrowed search of a
// conditional update or delete.
func (s *Server) condition(c echo.Context, typ string) (*search.Query, error) {
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, httpErr(400, "invalid", "the query string is malformed")
	}
	vals.Del("_format")
	vals.Del("_pretty")
	q, err := search.ParseQuery(vals)
	if err != nil {
		return nil, err
	}
	if len(q.Params) == 0 {
		return nil, httpErr(400, "invalid", "a conditional "+map[string]string{http.MethodPut: "update", http.MethodDelete: "delete"}[c.Request().Method]+" needs search parameters (PUT or DELETE "+typ+"?param=value)")
	}
	info, _ := s.typeInfo(typ)
	for _, p := range q.Params {
		// checked here, not left to the backend: a FHIR server may ignore
		// a parameter it does not know even when asked to be strict, and
		// an ignored parameter widens the condition onto other resources
		if info.ParamType(p.Name) == "" && p.Name != "_id" {
			return nil, httpErr(400, "not-supported", fmt.Sprintf("search parameter %q is not supported for %s, so it cannot select what to write", p.Name, typ))
		}
	}
	normalizeRefs(info, q)
	if err := s.narrow(c, typ, q, reqOf(c).searchDecision); err != nil {
		return nil, err
	}
	return q, nil
}

// matches runs the condition: at most two matches (two already mean 412),
// kept inside the token's compartment.
func (s *Server) matches(c echo.Context, be backend.Backend, typ string, q *search.Query) ([]*backend.Resource, error) {
	// strict: a parameter the backend would ignore must not widen the
	// condition into matching (and overwriting) something else
	res, err := be.Search(c.Request().Context(), typ, q, backend.SearchOptions{Count: 2, Strict: true})
	if err != nil {
		return nil, err
	}
	return s.keepInCompartment(c, res.Resources, reqOf(c).searchDecision), nil
}

func (s *Server) conditionalUpdate(c echo.Context) error {
	typ, be, err := s.resolve(c, "conditional-update")
	if err != nil {
		return err
	}
	cond, err := s.condition(c, typ)
	if err != nil {
		return err
	}
	m, err := s.body(c, typ)
	if err != nil {
		return err
	}
	if d := reqOf(c).decision; filtered(d) {
		if err := s.bodyInCompartment(c, typ, m); err != nil {
			return err
		}
	}
	s.noteQuery(c, c.Request().URL.RawQuery)
	ifMatch, err := ifMatchVersion(c)
	if err != nil {
		return err
	}
	bodyID, _ := m["id"].(string) // the client's, before an attempt sets the match's
	for attempt := 0; ; attempt++ {
		r, status, err := s.updateByCondition(c, be, typ, cond, m, bodyID, ifMatch)
		if errors.Is(err, errRaced) && attempt < conditionalRetries {
			continue
		}
		if errors.Is(err, errRaced) {
			return httpErr(409, "conflict", fmt.Sprintf("the resources matching the condition kept changing while %s was updated; try again", typ))
		}
		if err != nil {
			return err
		}
		s.noteResources(c, r)
		return s.respondWritten(c, status, r)
	}
}

// errRaced: another writer changed what the condition matches between the
// search and the write.
var errRaced = errors.New("raced with another writer")

// updateByCondition is one attempt of a conditional update: the status
// to answer (201 created, 200 updated) or the error. bid is the id the
// client put in the body ("" none).
func (s *Server) updateByCondition(c echo.Context, be backend.Backend, typ string, cond *search.Query, m map[string]any, bid, ifMatch string) (*backend.Resource, int, error) {
	found, err := s.matches(c, be, typ, cond)
	if err != nil {
		return nil, 0, err
	}
	hasID := bid != ""
	switch {
	case len(found) > 1:
		return nil, 0, httpErr(412, "multiple-matches", fmt.Sprintf("the condition matches more than one %s; make it more selective", typ))
	case len(found) == 0 && hasID:
		if err := checkID(typ, bid); err != nil {
			return nil, 0, err
		}
		if err := s.idUnused(c, be, typ, bid); err != nil {
			return nil, 0, err
		}
		return s.updateID(c, be, typ, bid, m, ifMatch)
	case len(found) == 0:
		if ifMatch != "" {
			return nil, 0, httpErr(412, "not-found", "If-Match was given but nothing matches the condition")
		}
		// the condition again, in the backend's write (legacy runs it in
		// the insert's transaction): a match created meanwhile is found
		delete(m, "id")
		r, created, err := be.Create(writeContext(c), typ, m, cond)
		if err != nil {
			return nil, 0, err
		}
		if !created {
			return nil, 0, errRaced
		}
		return r, http.StatusCreated, nil
	}
	match := found[0]
	if hasID && bid != match.ID {
		return nil, 0, &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("the body's id %s is not the id of the resource the condition matches (%s)", bid, match.ID), Path: typ + ".id"}
	}
	m["id"] = match.ID
	vid := ifMatch
	if vid == "" {
		vid = match.VersionID
	}
	r, status, err := s.updateID(c, be, typ, match.ID, m, vid)
	if errors.Is(err, backend.ErrPreconditionFailed) && ifMatch == "" {
		return nil, 0, errRaced
	}
	return r, status, err
}

// idUnused allows the update-as-create of typ/id by a conditional update
// that matched nothing only if the id names nothing yet: a resource under
// that id does not match the condition, and overwriting it would replace
// what the client did not select (R5 says 409; R4 leaves it open). Under a
// filtered grant the existence check is the grant's own (findInGrant): a
// resource outside it answers the 404 of a missing one, as a read does, or
// the 409 would tell a patient-scoped token which ids another patient's
// resources have.
func (s *Server) idUnused(c echo.Context, be backend.Backend, typ, id string) error {
	conflict := &HTTPError{Status: 409, Code: "conflict", Msg: fmt.Sprintf("the condition matches no %s, but the body's id %s names an existing one; drop the id to create, or update %s/%s directly", typ, id, typ, id), Path: typ + ".id"}
	if d := reqOf(c).decision; filtered(d) {
		// missing or outside the grant: the same 404 (a filtered grant
		// cannot update-as-create: updateID checks the stored version)
		if _, err := s.findInGrant(c, be, typ, id, d); err != nil {
			return err
		}
		return conflict
	}
	_, err := be.Read(c.Request().Context(), typ, id)
	switch {
	case err == nil:
		return conflict
	case errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone):
		return nil
	}
	return err
}

// updateID updates typ/id as an update of that id would: under a filtered
// grant the stored version must be the token's too.
func (s *Server) updateID(c echo.Context, be backend.Backend, typ, id string, m map[string]any, ifMatch string) (*backend.Resource, int, error) {
	if d := reqOf(c).decision; filtered(d) {
		if _, err := s.findInGrant(c, be, typ, id, d); err != nil {
			return nil, 0, err
		}
	}
	r, created, err := be.Update(writeContext(c), typ, id, m, ifMatch)
	if err != nil {
		return nil, 0, err
	}
	if created {
		return r, http.StatusCreated, nil
	}
	return r, http.StatusOK, nil
}

func (s *Server) conditionalDelete(c echo.Context) error {
	typ, be, err := s.resolve(c, "conditional-delete")
	if err != nil {
		return err
	}
	cond, err := s.condition(c, typ)
	if err != nil {
		return err
	}
	s.noteQuery(c, c.Request().URL.RawQuery)
	ifMatch, err := ifMatchVersion(c)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.deleteByCondition(c, be, typ, cond, ifMatch)
		if errors.Is(err, errRaced) && attempt < conditionalRetries {
			continue
		}
		if errors.Is(err, errRaced) {
			return httpErr(409, "conflict", fmt.Sprintf("the %s matching the condition kept changing; try again", typ))
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// deleteByCondition is one attempt of a conditional delete.
func (s *Server) deleteByCondition(c echo.Context, be backend.Backend, typ string, cond *search.Query, ifMatch string) error {
	found, err := s.matches(c, be, typ, cond)
	if err != nil {
		return err
	}
	switch len(found) {
	case 0:
		if ifMatch != "" {
			return httpErr(412, "not-found", "If-Match was given but nothing matches the condition")
		}
		return nil
	case 1:
	default:
		return httpErr(412, "multiple-matches", fmt.Sprintf("the condition matches more than one %s; this server deletes one resource at a time", typ))
	}
	id := found[0].ID
	if d := reqOf(c).decision; filtered(d) {
		if _, err := s.findInGrant(c, be, typ, id, d); err != nil {
			return err
		}
	}
	if n := s.note(c); n != nil && !containsStr(n.ids, typ+"/"+id) {
		n.ids = append(n.ids, typ+"/"+id)
	}
	vid := ifMatch
	if vid == "" {
		vid = found[0].VersionID
	}
	err = be.Delete(writeContext(c), typ, id, vid)
	if errors.Is(err, backend.ErrPreconditionFailed) && ifMatch == "" {
		return errRaced
	}
	return err
}
