// Package facade is the FHIR R4 HTTP layer (echo): FHIR's HTTP rules
// (content types, OperationOutcome, ETag/If-Match, Prefer, paging tokens,
// Bundles), the CapabilityStatement, and the operational endpoints. It
// serves each resource type from whichever Backend the routing gives it.
//
// A request passes the middlewares, each a small type in its own file —
// observe.go (request id, metrics, log line), audit.go (the audit trail),
// limits.go (header and body sizes), trust.go (Host, Origin, proxies),
// authn.go (bearer token, principal), ratelimit.go, adminaccess.go — and
// then a handler (fhir.go; search.go in stages parse, narrow, fetch,
// include, bundle; everything.go, Patient/$everything; subset.go,
// _summary and _elements; capability.go; smart.go), which authorises it
// (authz.go, compartment.go). What they learn of the request is one typed value,
// request (request.go). Every route answers every method (methods.go:
// OPTIONS with its Allow list, 405 for the rest).
package facade

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/internal/logcap"
	"github.com/fhirfacade/fhirfacade/pagetoken"
)

// Routes is one consistent view of which backend owns each type: a request
// takes one at its start and uses it to the end, so a concurrent route flip
// never splits a request across two tables.
type Routes = backend.Routes

// Router hands out route snapshots.
type Router interface {
	Snapshot() Routes
	// ByName is a backend by its Name(), for continuing a search whose page
	// token another backend issued before a flip (nil if gone).
	ByName(name string) backend.Backend
}

// StaticRouter serves every type from one backend (day 0: all legacy).
type StaticRouter struct {
	Backend backend.Backend
	Types   map[string]bool
}

// Snapshot implements Router.
func (r StaticRouter) Snapshot() Routes { return r }

// ByName implements Router.
func (r StaticRouter) ByName(name string) backend.Backend {
	if r.Backend.Name() == name {
		return r.Backend
	}
	return nil
}

// BackendFor implements Routes.
func (r StaticRouter) BackendFor(typ string) backend.Backend {
	if r.Types[typ] {
		return r.Backend
	}
	return nil
}

// Config wires a Server.
type Config struct {
	// Catalog describes the served types (package catalog builds it from
	// the mapping specs)
	Catalog Catalog
	Router  Router
	Sealer  *pagetoken.Sealer
	Log     *slog.Logger
	// Ready are the /readyz checks, by name.
	Ready map[string]func(context.Context) error
	// Metrics registers the facade's collectors (nil: a private registry).
	Metrics *prometheus.Registry
	// DefaultCount is the page size without _count (default 20).
	DefaultCount int
	// MaxBody is the largest request body in bytes (default 1 MiB).
	MaxBody int64
	// MaxHeader is the largest total of request header fields in bytes
	// (default 64 KiB); more is a 431 OperationOutcome. The HTTP server's
	// own limit (MaxHeaderBytes) is set well above it, so the facade, not
	// net/http's plain-text 431, answers realistic oversized headers.
	MaxHeader int
	// Version is reported in the CapabilityStatement.
	Version string
	// Admin serves /admin/* (nil: not mounted).
	Admin http.Handler
	// Console serves the migration console under /admin/console (nil: not
	// mounted). It authenticates its users itself (OIDC session, or
	// loopback only with auth off) and checks its own CSRF tokens, so it
	// is mounted outside the bearer-token /admin chain.
	Console http.Handler
	// Auth validates bearer tokens (nil: FHIRFACADE_AUTH=off, every
	// request allowed; serve permits that only on loopback).
	Auth Authenticator
	// AdminAccess is the scope or role /admin requires (default
	// "fhirfacade.admin").
	AdminAccess string
	// SMART is the /.well-known/smart-configuration document (nil: 404).
	SMART map[string]any
	// Audit stores one record per request (nil: no audit trail).
	Audit Auditor
	// AuditFailOpen answers even when the audit record could not be
	// stored (default: fail closed with 503).
	AuditFailOpen bool
	// AuditAsync answers once the record is queued in memory instead of
	// committed: much cheaper (no commit wait), but a crash loses the
	// records of the last moments' answers. Refusals still fail closed.
	AuditAsync bool
	// RateLimit is requests per second per client id (0: unlimited);
	// RateBurst the bucket size.
	RateLimit float64
	RateBurst int
	// BaseURL is the public FHIR base URL (FHIRFACADE_BASE_URL), the only
	// source of every absolute URL the facade emits; its host is also one
	// the API answers for. Required: New panics without a valid one.
	BaseURL string
	// AllowedHosts are further Host values the API answers for, "name"
	// (any port) or "name:port" (checked by ParseAllowedHosts; New panics
	// on a bad one); any other Host gets 421.
	AllowedHosts []string
	// Bulk runs $export jobs (nil: $export is not served).
	Bulk *bulk.Engine
	// TrustedProxies are the peers whose forwarding headers
	// (X-Forwarded-*, Forwarded) are believed; nobody's by default.
	TrustedProxies []netip.Prefix
}

// Server is the facade's HTTP server.
type Server struct {
	cfg     Config
	e       *echo.Echo
	ops     *echo.Echo
	baseURL string
	hosts   []hostRule
	log     *slog.Logger
	metrics *metrics
	started time.Time
	// allow is each route's Allow list, by echo path (methods.go)
	allow map[string][]string
	// the middlewares and endpoints with state of their own
	authn *authn
	audit *auditTrail // nil: no audit trail
	admin adminAccess
	smart smartConfiguration
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	cfg = withDefaults(cfg)
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		panic("facade: BaseURL: " + err.Error())
	}
	s := &Server{cfg: cfg, e: echo.New(), log: cfg.Log, started: time.Now(),
		baseURL: base, hosts: hostRules(base, cfg.AllowedHosts), allow: map[string][]string{}}
	s.metrics = newMetrics(cfg.Metrics)
	s.authn = &authn{auth: cfg.Auth, limit: newLimiter(cfg.RateLimit, cfg.RateBurst), log: s.log}
	s.audit = newAuditTrail(cfg, s.metrics.auditFailures, s.log)
	s.admin = adminAccess{authOn: cfg.Auth != nil, access: cfg.AdminAccess}
	s.smart = smartConfiguration{doc: cfg.SMART}
	s.ops = s.opsEcho()
	s.mount()
	return s
}

// withDefaults fills the settings left zero.
func withDefaults(cfg Config) Config {
	if cfg.DefaultCount <= 0 {
		cfg.DefaultCount = 20
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxHeader <= 0 {
		cfg.MaxHeader = 64 << 10
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	// client-supplied values reach log lines (token headers in refusal
	// reasons, methods, ids): none may be longer than logcap.Max
	cfg.Log = slog.New(logcap.Handler(cfg.Log.Handler()))
	if cfg.AdminAccess == "" {
		cfg.AdminAccess = "fhirfacade.admin"
	}
	return cfg
}

// mount puts the middlewares and routes of the API on s.e.
func (s *Server) mount() {
	e, cfg := s.e, s.cfg
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	// the peer's address and scheme come from forwarding headers only when
	// a configured proxy sent them
	e.IPExtractor = echo.ExtractIPFromXFFHeader(trustOptions(cfg.TrustedProxies)...)
	e.SchemeExtractor = echo.ExtractSchemeFromHeaders(trustOptions(cfg.TrustedProxies)...)
	e.Use(assignRequestID)
	e.Use(s.observe)
	e.Use(recoverOutcome)
	// every request past routing is audited, the refusals of everything
	// after this included (a foreign Host's 421 too); a panic below is
	// answered (and audited) as 500
	e.Use(s.audit.handle, recoverOutcome, s.headerLimit, s.checkHost)

	// SMART discovery sits at the FHIR base (and at the root for clients
	// that look there); it is public, like the CapabilityStatement.
	// HEAD is GET without the body (net/http drops it, headers and
	// Content-Length stay), on every read that only reads: an HTTP server
	// must take it (RFC 9110 9.1). Never on a GET that starts work
	// ($export kick-off). Every route answers the methods it does not
	// serve itself (methods.go).
	s.handle(e, "", "/fhir/.well-known/smart-configuration", reads(s.smart.serve))
	s.handle(e, "", "/.well-known/smart-configuration", reads(s.smart.serve))
	// negotiate: JSON only, on every FHIR endpoint (format.go)
	s.handle(e, "", "/fhir/metadata", reads(s.metadata), negotiate)

	if cfg.Console != nil {
		h := echo.WrapHandler(cfg.Console)
		e.Any("/admin/console", h, s.guardConsoleWrite, s.bodyLimit)
		e.Any("/admin/console/*", h, s.guardConsoleWrite, s.bodyLimit)
	}
	if cfg.Admin != nil {
		e.Any("/admin/*", echo.WrapHandler(cfg.Admin), s.guardAdminWrite, s.authn.handle, s.admin.handle, s.bodyLimit)
	}
	s.mountFHIR()
}

// mountFHIR mounts every FHIR interaction: authenticated and rate-limited
// (a body is read only after that), then authorised per interaction in
// the handlers. A method FHIR does not define on a route (PATCH, POST on
// an instance, TRACE) is a 405 with an OperationOutcome and the route's
// Allow list.
func (s *Server) mountFHIR() {
	f := s.e.Group("/fhir", s.authn.handle, s.bodyLimit, negotiate)
	// the group's catch-all (echo's, for a group with middlewares): 404,
	// or 405 for an extension method on a path that has routes
	f.RouteNotFound("", s.noRoute)
	f.RouteNotFound("/*", s.noRoute)
	// the base with and without its trailing slash (clients post to both;
	// fhir-kit-client posts to [base]/)
	s.handle(f, "/fhir", "", methods{http.MethodPost: s.bundle})
	s.handle(f, "/fhir", "/", methods{http.MethodPost: s.bundle})
	s.handle(f, "/fhir", "/:type", reads(s.searchGET).with(http.MethodPost, s.create).
		with(http.MethodPut, s.conditionalUpdate).with(http.MethodDelete, s.conditionalDelete))
	s.handle(f, "/fhir", "/:type/_search", methods{http.MethodPost: s.searchPOST})
	s.handle(f, "/fhir", "/:type/:id", reads(s.read).with(http.MethodPut, s.update).with(http.MethodDelete, s.delete))
	s.handle(f, "/fhir", "/:type/:id/_history/:vid", reads(s.vread))
	s.handle(f, "/fhir", "/:type/:id/_history", reads(s.history))
	// type and system history are not supported: every method is a 405,
	// GET and HEAD the handler's own, which names the interaction (a
	// route added again replaces that method's handler)
	for _, p := range []string{"/:type/_history", "/_history"} {
		s.handle(f, "/fhir", p, methods{})
		f.Match([]string{http.MethodGet, http.MethodHead}, p, s.typeHistory)
	}
	s.handle(f, "/fhir", "/:type/:id/$everything", methods{http.MethodGet: s.everythingGET, http.MethodPost: s.everythingPOST})
	if s.cfg.Bulk != nil {
		s.mountBulk(f)
	}
}

// MaxHeaderBytes is the HTTP server's header limit (request line
// included). It is far above Config.MaxHeader so that the facade answers
// oversized headers with a 431 OperationOutcome; only a request past this
// gets net/http's own plain-text 431, which no handler can change.
const MaxHeaderBytes = 4 << 20

// Handler is the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// OpsHandler serves /healthz, /readyz and /metrics: the operations
// listener's (FHIRFACADE_OPS_LISTEN), never the API's, so that neither the
// metrics nor the readiness of the databases answer whoever reaches the API.
func (s *Server) OpsHandler() http.Handler { return s.ops }

func (s *Server) opsEcho() *echo.Echo {
	o := echo.New()
	o.HideBanner, o.HidePort = true, true
	o.HTTPErrorHandler = s.errorHandler
	o.GET("/healthz", func(c echo.Context) error { return c.JSON(200, map[string]string{"status": "ok"}) })
	o.GET("/readyz", s.readyz)
	o.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.cfg.Metrics, promhttp.HandlerOpts{})))
	return o
}

// Run serves the API on api and the operations endpoints on ops until ctx
// ends (then shuts both down gracefully) or either fails.
func (s *Server) Run(ctx context.Context, api, ops net.Listener) error {
	defer s.audit.flush() // the last window's counted refusals
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- serveOn(ctx, api, s.e) }()
	go func() {
		if err := serveOn(ctx, ops, s.ops); err != nil {
			errc <- fmt.Errorf("operations listener: %w", err)
			return
		}
		errc <- nil
	}()
	err := <-errc
	cancel()
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

func serveOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: MaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	// one generic word per component: which database, where, and why it
	// failed are in the log only
	out := map[string]string{}
	status := 200
	for name, check := range s.cfg.Ready {
		if err := check(ctx); err != nil {
			out[name] = "failed"
			status = 503
			s.log.Warn("readiness check failed", slog.String("check", name), slog.String("error", err.Error()))
		} else {
			out[name] = "ok"
		}
	}
	return c.JSON(status, out)
}
