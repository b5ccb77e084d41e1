package facade

import (
	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
)

// request is everything the facade learns about one request while it
// handles it: who sent it, what it asks for, what it was allowed, and what
// the answer disclosed. The middlewares and handlers fill it; the audit
// trail, the metrics and the request's log line read it when the answer is
// made. One request is handled by one goroutine, middlewares included (the
// audit trail and observe read it after their next handler has returned),
// so it needs no lock; it is never shared between requests.
type request struct {
	// clientRequestID is the client's own X-Request-Id, capped ("" when
	// none was sent).
	clientRequestID string
	// principal is the caller whose token was accepted (nil: none, or
	// auth off).
	principal *auth.Principal
	// decision is what the token grants for the interaction on the type;
	// searchDecision the search grant a conditional create's If-None-Exist
	// is narrowed by.
	decision, searchDecision auth.Decision
	// typ is the resource type once it is known to be served; interaction
	// and backend label the request ("" until a handler names them).
	typ, interaction, backend string
	// routes is the route snapshot the request uses to its end (nil until
	// first taken).
	routes Routes
	// auditDetail is the record's detail: the first reason given for a
	// refusal (hasDetail: one was given).
	auditDetail string
	hasDetail   bool
	// noted is what the answer discloses, for the audit record.
	noted auditNote
	// audited: the request's record is stored already (a streamed answer
	// stores it before its first byte, bulkaudit.go).
	audited bool
	// patients remembers the patients of each resource of the answer
	// (patientsIn).
	patients map[*backend.Resource][]string
}

// keyRequest is the one echo context key the facade uses.
const keyRequest = "fhirfacade.request"

// reqOf is the request's state, made on first use.
func reqOf(c echo.Context) *request {
	if r, ok := c.Get(keyRequest).(*request); ok {
		return r
	}
	r := &request{}
	c.Set(keyRequest, r)
	return r
}

// setDetail gives the audit record's detail: a refusal's reason more
// precise than its answer's message.
func (r *request) setDetail(detail string) { r.auditDetail, r.hasDetail = detail, true }

// defaultDetail gives the audit record's detail unless a step gave one
// already (the error handler's answer message is only the fallback).
func (r *request) defaultDetail(detail string) {
	if !r.hasDetail {
		r.setDetail(detail)
	}
}

// principal is the caller whose token was accepted (nil: none, or auth
// off).
func principal(c echo.Context) *auth.Principal { return reqOf(c).principal }
