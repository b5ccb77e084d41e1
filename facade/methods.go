package facade

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

// Every route the facade mounts answers every method: the ones it serves
// go to their handlers, OPTIONS is a 204 with the route's Allow list, and
// any other method a 405 with that list (RFC 9110 9.3.7, 15.5.6). Before,
// the /fhir group's catch-all (echo registers one for a group with
// middlewares) answered every method a route lacked with 404 "no such
// endpoint" — OPTIONS, TRACE and a misspelt method alike — so a client
// could not tell a missing endpoint from a method this one lacks.
//
// OPTIONS grants no CORS: the facade serves no browser origin but its own
// (see trust.go), so a preflight gets a 204 without any
// Access-Control-Allow-* header and the browser refuses the cross-origin
// request, as it should, without a 404 that says the endpoint is missing.

// methods are a route's handlers by method.
type methods map[string]echo.HandlerFunc

// reads is GET and HEAD (GET without the body) served by h.
func reads(h echo.HandlerFunc) methods {
	return methods{http.MethodGet: h, http.MethodHead: h}
}

// with adds the handler of one more method.
func (ms methods) with(method string, h echo.HandlerFunc) methods {
	ms[method] = h
	return ms
}

// routedMethods are the methods echo routes by name, in the order an
// Allow list names them; an extension method reaches noRoute.
var routedMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodOptions, http.MethodTrace, http.MethodConnect, echo.PROPFIND, echo.REPORT,
}

// adder is an echo or a group of it: what a route is mounted on.
type adder interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// handle mounts the route prefix+path on r (the /fhir group with prefix
// "/fhir", or the echo itself with prefix ""): its methods with their
// handlers and mw, every other method routed by name with 405, and
// OPTIONS. OPTIONS goes on the echo itself, outside the group's
// middlewares: it needs no token (it tells what the public
// CapabilityStatement tells, and a browser's preflight never carries one).
func (s *Server) handle(r adder, prefix, path string, ms methods, mw ...echo.MiddlewareFunc) {
	full := prefix + path
	var allow []string
	for _, m := range routedMethods {
		if ms[m] != nil || m == http.MethodOptions {
			allow = append(allow, m)
		}
	}
	s.allow[full] = allow
	list := strings.Join(allow, ", ")
	for _, m := range routedMethods {
		switch {
		case ms[m] != nil:
			r.Add(m, path, ms[m], mw...)
		case m == http.MethodOptions:
			s.e.Add(m, full, options(list))
		default:
			r.Add(m, path, notAllowed(full, list), mw...)
		}
	}
}

// options answers OPTIONS: 204 with the route's Allow list.
func options(allow string) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Allow", allow)
		return c.NoContent(http.StatusNoContent)
	}
}

// notAllowed answers a method the route path does not serve: 405 with
// the route's Allow list and an OperationOutcome naming the method.
func notAllowed(path, allow string) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Allow", allow)
		return httpErr(http.StatusMethodNotAllowed, "not-supported",
			logcap.Cut(c.Request().Method, 20)+" is not supported on "+path+"; it serves "+allow)
	}
}

// noRoute answers what no route matched under /fhir: an extension method
// (not one echo routes by name) on a path that has routes is a 405 with
// their Allow list, found by routing the path as OPTIONS, which every
// route serves; anything else is a 404.
func (s *Server) noRoute(c echo.Context) error {
	probe := s.e.NewContext(c.Request(), nil)
	s.e.Router().Find(http.MethodOptions, echo.GetPath(c.Request()), probe)
	if allow, ok := s.allow[probe.Path()]; ok {
		return notAllowed(probe.Path(), strings.Join(allow, ", "))(c)
	}
	return echo.ErrNotFound
}

// allowWithout is the Allow list of a 405 a handler gave on a route it
// serves (type history, vread on a backend that keeps no versions): the
// route's methods but the one refused, whose GET and HEAD go together.
// ok is false for a route handle did not mount.
func (s *Server) allowWithout(path, method string) (string, bool) {
	allow, ok := s.allow[path]
	if !ok {
		return "", false
	}
	read := method == http.MethodGet || method == http.MethodHead
	var out []string
	for _, m := range allow {
		if m == method || read && (m == http.MethodGet || m == http.MethodHead) {
			continue
		}
		out = append(out, m)
	}
	return strings.Join(out, ", "), true
}
