package facade

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// Outcome is an OperationOutcome resource.
type Outcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

func newOutcome(severity, code, msg string) *Outcome {
	return &Outcome{ResourceType: "OperationOutcome", Issue: []Issue{{Severity: severity, Code: code, Diagnostics: msg}}}
}

// HTTPError is an error with its status and OperationOutcome issue code.
type HTTPError struct {
	Status int
	Code   string // OperationOutcome issue type
	Msg    string
	Path   string // FHIRPath of the element at fault, if any
	Err    error  // cause, for the log only
}

func (e *HTTPError) Error() string { return e.Msg }
func (e *HTTPError) Unwrap() error { return e.Err }

func httpErr(status int, code, msg string) *HTTPError {
	return &HTTPError{Status: status, Code: code, Msg: msg}
}

// classify turns any error into status, issue code and a message safe to
// show: messages of sentinel-wrapped client errors are built from the
// request; anything else is reported as an internal error without detail.
func classify(err error) *HTTPError {
	var he *HTTPError
	if errors.As(err, &he) {
		return he
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		switch ee.Code {
		case http.StatusNotFound:
			return &HTTPError{Status: 404, Code: "not-found", Msg: "no such endpoint", Err: err}
		case http.StatusMethodNotAllowed:
			return &HTTPError{Status: 405, Code: "not-supported", Msg: "method not allowed here", Err: err}
		case http.StatusRequestEntityTooLarge:
			return &HTTPError{Status: 413, Code: "too-costly", Msg: "request body too large", Err: err}
		}
		return &HTTPError{Status: ee.Code, Code: "processing", Msg: http.StatusText(ee.Code), Err: err}
	}
	switch {
	case errors.Is(err, backend.ErrNotFound):
		return &HTTPError{Status: 404, Code: "not-found", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrGone):
		return &HTTPError{Status: 410, Code: "deleted", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrConflict):
		return &HTTPError{Status: 409, Code: "conflict", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrPreconditionFailed):
		return &HTTPError{Status: 412, Code: "conflict", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrUnprocessable):
		he := &HTTPError{Status: 422, Code: "processing", Msg: err.Error(), Err: err}
		var el *backend.ElementError
		if errors.As(err, &el) {
			he.Path = el.Path
		}
		return he
	case errors.Is(err, backend.ErrUnmappable):
		// a stored row the mapping cannot translate: its key, element and
		// column are named, its value (PHI) is not
		he := &HTTPError{Status: 422, Code: "processing", Msg: "a stored resource cannot be mapped", Err: err}
		var re *backend.RowError
		if errors.As(err, &re) {
			he.Msg, he.Path = re.Public(), re.Path
		}
		return he
	case errors.Is(err, backend.ErrInvalid), errors.Is(err, search.ErrInvalid):
		return &HTTPError{Status: 400, Code: "invalid", Msg: err.Error(), Err: err}
	case errors.Is(err, pagetoken.ErrInvalid):
		return &HTTPError{Status: 400, Code: "invalid", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrNotSupported):
		return &HTTPError{Status: 400, Code: "not-supported", Msg: err.Error(), Err: err}
	case errors.Is(err, backend.ErrUnavailable):
		return &HTTPError{Status: 503, Code: "transient", Msg: "a backing store is unavailable; retry later", Err: err}
	}
	return &HTTPError{Status: 500, Code: "exception", Msg: "internal error; the request id names it in the server log", Err: err}
}

// errorHandler is echo's one error handler: every error becomes an
// OperationOutcome. Driver and SQL text never reach the client (classify
// only shows messages of the errors it recognises, and backends wrap
// database errors in ErrUnavailable, whose message is fixed).
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	he := classify(err)
	if c.Request().Context().Err() != nil && he.Status >= 500 {
		// the client went away (or a batch it sent was abandoned): not a
		// server failure, so no error log line and no 5xx in the metrics;
		// 499 is the "client closed request" status proxies log
		he = &HTTPError{Status: 499, Code: "transient", Msg: "the client closed the request", Err: err}
	}
	reqOf(c).defaultDetail(he.Msg)
	if he.Status >= 500 {
		s.log.Error("request failed", slog.String("request_id", requestID(c)), slog.Int("status", he.Status), slog.String("error", errorForLog(he)))
	}
	oo := newOutcome("error", he.Code, he.Msg)
	if he.Path != "" {
		oo.Issue[0].Expression = []string{he.Path}
	}
	if he.Status == 405 && c.Response().Header().Get("Allow") == "" {
		// a handler's own 405 (type history, no versions kept): the
		// route's other methods, never a generic list naming the one
		// just refused
		if allow, ok := s.allowWithout(c.Path(), c.Request().Method); ok {
			c.Response().Header().Set("Allow", allow)
		}
	}
	_ = writeJSON(c, he.Status, oo)
}

// errorForLog is the cause chain (backends have already reduced database
// errors to codes, so no values of the query are in it).
func errorForLog(he *HTTPError) string {
	if he.Err == nil {
		return he.Msg
	}
	return he.Err.Error()
}

// WriteOutcome writes an OperationOutcome with one error issue: for the
// handlers mounted beside the facade's own (/admin), so every error the
// server gives has the same shape.
func WriteOutcome(rw http.ResponseWriter, status int, code, msg string) {
	raw, _ := json.Marshal(newOutcome("error", code, msg))
	rw.Header().Set("Content-Type", "application/fhir+json")
	rw.WriteHeader(status)
	_, _ = rw.Write(raw)
}
