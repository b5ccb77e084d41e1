// Package console is the migration console at /admin/console: one web
// page where migration engineers watch each type's route, parity and
// mirror, and move routes. It reads state only through the typed APIs
// (routing.Store, control.Store, the Prometheus registry) and runs every
// operation through package runs, the code the CLI runs, so the console
// and `fhirfacade route set / sync / parity` leave the same journal and
// audit trail.
//
// Pages are rendered on the server with html/template; the CSS and the
// small script (polling, enabling buttons) are embedded. With an OIDC
// configuration the console signs users in (authorization code + PKCE)
// and keeps a sealed session cookie; without one (FHIRFACADE_AUTH=off) it
// answers loopback peers only. Every POST carries the session's CSRF
// token.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/routing"
)

// Base is the path the console is served under.
const Base = "/admin/console"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires a Console.
type Config struct {
	Routes *routing.Store
	Ctl    *control.Store
	// Types are the mapped resource types (one overview row each).
	Types []string
	// Legacy and FHIR are the backends sync and parity work between
	// (FHIR nil: no FHIR server, sync and parity are not offered).
	Legacy, FHIR backend.Backend
	// Metrics is where the shadow comparison counters are read (the
	// registry /metrics serves).
	Metrics prometheus.Gatherer
	// OIDC signs users in (nil: FHIRFACADE_AUTH=off, loopback peers only).
	OIDC *OIDC
	// SessionKey seals the session cookie (32 or 64 bytes; nil: a random
	// key made at start, so sessions end when the process restarts).
	SessionKey []byte
	Log        *slog.Logger
	// Jobs is the context background sync and parity jobs run under
	// (serve's: they stop when the facade stops).
	Jobs context.Context
}

// Console is the console's HTTP handler.
type Console struct {
	cfg     Config
	tmpl    map[string]*template.Template
	mux     *http.ServeMux
	session *sessions
	jobs    *jobs
	rates   *shadowRates
}

// New builds the console; it fails only on a bad configuration.
func New(cfg Config) (*Console, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Jobs == nil {
		cfg.Jobs = context.Background()
	}
	sort.Strings(cfg.Types)
	sess, err := newSessions(cfg.SessionKey)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, session: sess, jobs: newJobs(), rates: newShadowRates(cfg.Metrics, time.Hour)}
	if c.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// page is a handler of a signed-in user's request.
type page func(w http.ResponseWriter, r *http.Request, s *session)

func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Base+"/static/", http.StripPrefix(Base+"/static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Base+"/login", c.login)
	m.HandleFunc("GET "+Base+"/callback", c.callback)
	m.HandleFunc("GET "+Base+"/signed-in", c.signedIn)
	for _, rt := range []struct {
		pattern string
		h       page
	}{
		{"GET " + Base, c.overview},
		{"GET " + Base + "/{$}", c.overview},
		{"GET " + Base + "/rows", c.overviewRows},
		{"GET " + Base + "/move/{type}", c.movePage},
		{"POST " + Base + "/move/{type}", c.moveApply},
		{"GET " + Base + "/journal", c.journal},
		{"GET " + Base + "/parity/{type}", c.parityType},
		{"GET " + Base + "/report/{id}", c.parityReport},
		{"POST " + Base + "/run/{kind}/{type}", c.runJob},
		{"GET " + Base + "/jobs/{id}", c.jobPage},
		{"GET " + Base + "/jobs/{id}/status", c.jobStatus},
		{"GET " + Base + "/mirror", c.mirror},
		{"POST " + Base + "/mirror/{id}/{action}", c.mirrorAction},
		{"GET " + Base + "/audit", c.auditPage},
		{"POST " + Base + "/audit/verify", c.auditVerify},
		{"POST " + Base + "/logout", c.logout},
	} {
		m.HandleFunc(rt.pattern, c.guard(rt.h))
	}
	c.mux = m
}

// guard lets a request reach a page only from an allowed caller: with
// OIDC a valid session of an administrator, without it a loopback peer
// (whom it gives a session for the CSRF token). Every POST must carry the
// session's CSRF token.
func (c *Console) guard(h page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.cfg.OIDC == nil && !loopback(r.RemoteAddr) {
			// with FHIRFACADE_AUTH=off nobody is signed in: only this
			// machine may reach the console, as with the API
			c.fail(w, r, http.StatusForbidden, "the console without FHIRFACADE_AUTH=smart answers loopback clients only")
			return
		}
		s := c.session.read(r)
		if s != nil && c.cfg.OIDC != nil && !s.OIDC {
			s = nil
		}
		if s != nil {
			revoked, err := c.cfg.Ctl.ConsoleSessionRevoked(r.Context(), sidHash(s.SID))
			if err != nil {
				// fail closed: a signed-out session must not pass while
				// the list of them cannot be read
				c.unavailable(w, r, err)
				return
			}
			if revoked {
				c.session.clear(w)
				s = nil
			}
		}
		if s == nil {
			if c.cfg.OIDC != nil {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, Base+"/login?next="+urlQuery(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				c.fail(w, r, http.StatusUnauthorized, "not signed in (or the session ended): sign in again")
				return
			}
			s = c.session.anonymous(w)
		}
		if r.Method == http.MethodPost && !c.session.checkCSRF(r, s) {
			c.fail(w, r, http.StatusForbidden, "the form's CSRF token is missing or wrong: reload the page and try again")
			return
		}
		h(w, r, s)
	}
}

// loopback reports whether a peer address is on this machine.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
