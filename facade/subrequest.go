package facade

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/auth"
)

// subRequest is a Bundle entry dispatched through the server's own routes
// and handlers, so that it is authorised, compartment-narrowed, checked
// and answered exactly as the same request sent alone. It is carried in
// the entry's request context (no client can set that), and tells the
// middlewares what the Bundle's request has done already: the caller's
// token was verified and rate-limited once (authn takes principal), its
// Host checked (checkHost passes), and its route snapshot taken (routes).
// The audit trail collects the entry's record in records instead of
// storing it: a transaction's records are stored once its outcome is
// known, so the trail never shows a rolled-back write as made.
type subRequest struct {
	principal *auth.Principal
	routes    Routes
	records   []*audit.Record
	// requestID is the Bundle request's id: each entry's record carries it
	// as its client request id.
	requestID string
}

type subKey struct{}

// decodedKey keys, in an entry's request context, the resource the entry's
// body was marshalled from (see decodedBody).
type decodedKey struct{}

// decodedBody is the object a sub-request's body was marshalled from by
// dispatch, if this request is such an entry: decoding the body again
// would give an equal object (the Bundle was decoded with UseNumber, so
// numbers are json.Number and marshal verbatim; strings were already
// made valid UTF-8 by that decode), so body() takes it instead of
// spending a decode per entry. Each dispatch marshals a fresh copy
// (resolveRefs), so the handler may change it freely.
func decodedBody(c echo.Context) map[string]any {
	m, _ := c.Request().Context().Value(decodedKey{}).(map[string]any)
	return m
}

// subOf is the request's subRequest (nil: a request from a client).
func subOf(c echo.Context) *subRequest {
	s, _ := c.Request().Context().Value(subKey{}).(*subRequest)
	return s
}

// captured is a sub-request's answer.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captured) Header() http.Header { return w.header }

func (w *captured) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *captured) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// subHeaders are the outer request's headers every entry inherits.
var subHeaders = []string{"Prefer"}

// dispatch runs one entry (its method, URL relative to the base, headers
// and resource) through the server's routes as a sub-request of outer.
func (s *Server) dispatch(ctx context.Context, outer *http.Request, sub *subRequest, e *entry, url string, resource any) *captured {
	w := &captured{header: http.Header{}}
	var body []byte
	if resource != nil {
		var err error
		if body, err = json.Marshal(resource); err != nil {
			w.status = http.StatusBadRequest
			return w
		}
	}
	ctx = context.WithValue(ctx, subKey{}, sub)
	if m, ok := resource.(map[string]any); ok {
		ctx = context.WithValue(ctx, decodedKey{}, m)
	}
	req, err := http.NewRequestWithContext(ctx, e.method, "/fhir/"+url, bytes.NewReader(body))
	if err != nil {
		writeOutcomeTo(w, 400, "invalid", "entry.request.url is not a valid URL")
		return w
	}
	req.Host, req.RemoteAddr = outer.Host, outer.RemoteAddr
	for _, h := range subHeaders {
		if v := outer.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for h, v := range e.headers {
		if v != "" {
			req.Header.Set(h, v)
		}
	}
	// the entry's record names the Bundle request it came from
	req.Header.Set(echo.HeaderXRequestID, sub.requestID)
	s.e.ServeHTTP(w, req)
	return w
}

// writeOutcomeTo is WriteOutcome for a captured answer.
func writeOutcomeTo(w *captured, status int, code, msg string) {
	WriteOutcome(w, status, code, msg)
}
