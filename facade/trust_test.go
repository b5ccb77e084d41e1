package facade_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/facade/admin"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/routing"
)

type trustOpts struct {
	base    string // public base URL ("": the test server's own)
	hosts   []string
	proxies []netip.Prefix
	auth    bool
	ready   map[string]func(context.Context) error
}

// trustEnv is the facade over legacy SQLite with the real /admin/routes
// handler on a SQLite control store.
type trustEnv struct {
	*env
	own    string // the test server's host:port
	routes *routing.Store
	is     *testutil.Issuer
}

func newTrustEnv(t *testing.T, o trustOpts) *trustEnv {
	t.Helper()
	ctx := context.Background()
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, patients)
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	te := &trustEnv{routes: routing.NewStore(ctl.DB)}
	if err := te.routes.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cfg := facade.Config{
		Catalog:        catalog.FromSpecs(reg),
		Router:         facade.StaticRouter{Backend: legacy.New(db, reg), Types: map[string]bool{"Patient": true, "Encounter": true, "Observation": true}},
		Sealer:         testutil.Sealer(t),
		Log:            slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, nil)),
		Admin:          admin.Routes(te.routes),
		AllowedHosts:   o.hosts,
		TrustedProxies: o.proxies,
		Ready:          o.ready,
	}
	if o.auth {
		te.is = testutil.NewIssuer(t)
		cfg.Auth = auth.NewVerifier(auth.VerifierConfig{Issuers: []string{te.is.URL}, Audiences: []string{te.is.Audience}, JWKSURL: te.is.JWKSURL})
	}
	var srv *facade.Server
	hs := testutil.Serve(t, func(base string) http.Handler {
		te.own = strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/fhir")
		cfg.BaseURL = base
		if o.base != "" {
			cfg.BaseURL = o.base
			cfg.AllowedHosts = append(cfg.AllowedHosts, te.own)
		}
		srv = facade.New(cfg)
		return srv.Handler()
	})
	ops := httptest.NewServer(srv.OpsHandler())
	t.Cleanup(ops.Close)
	te.env = &env{t: t, srv: hs, ops: ops, logs: logs}
	return te
}

func (te *trustEnv) state(typ string) routing.State {
	tab, err := te.routes.Load(context.Background())
	if err != nil {
		te.t.Fatal(err)
	}
	return tab.State(typ)
}

// TestHostAllowList: a request naming a host the facade is not (DNS
// rebinding: attacker.example re-pointed at this address) gets 421 on
// /fhir and /admin; forwarding headers name the host only when a
// configured proxy sent them.
func TestHostAllowList(t *testing.T) {
	direct := newTrustEnv(t, trustOpts{hosts: []string{"fhir.example.org"}})
	proxied := newTrustEnv(t, trustOpts{hosts: []string{"fhir.example.org"}, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	const own = "<own>"
	for _, c := range []struct {
		name  string
		te    *trustEnv
		path  string
		hdr   []string
		want  int
		debug string
	}{
		{name: "attacker Host on a read", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "attacker.example"}, want: 421},
		{name: "attacker Host on a search", te: direct, path: "/fhir/Patient?_count=1", hdr: []string{"Host", "attacker.example:80"}, want: 421},
		{name: "attacker Host on metadata", te: direct, path: "/fhir/metadata", hdr: []string{"Host", "attacker.example"}, want: 421},
		{name: "attacker Host on /admin", te: direct, path: "/admin/routes", hdr: []string{"Host", "attacker.example"}, want: 421},
		{name: "the base URL's host", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", own}, want: 200},
		{name: "the base URL's host on another port", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "127.0.0.1:1"}, want: 421},
		{name: "an allowed name, any port", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "FHIR.example.org:8443"}, want: 200},
		{name: "an allowed name without port", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "fhir.example.org"}, want: 200},
		{name: "a name the allowed one ends with", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "evil-fhir.example.org"}, want: 421},
		{name: "X-Forwarded-Host from an untrusted peer does not admit", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "attacker.example", "X-Forwarded-Host", "fhir.example.org"}, want: 421},
		{name: "X-Forwarded-Host from an untrusted peer is ignored", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", own, "X-Forwarded-Host", "attacker.example"}, want: 200},
		{name: "Forwarded from an untrusted peer does not admit", te: direct, path: "/fhir/Patient/1", hdr: []string{"Host", "attacker.example", "Forwarded", "host=fhir.example.org"}, want: 421},
		{name: "trusted proxy forwards an attacker host", te: proxied, path: "/fhir/Patient/1", hdr: []string{"Host", own, "X-Forwarded-Host", "attacker.example"}, want: 421},
		{name: "trusted proxy forwards an allowed host", te: proxied, path: "/fhir/Patient/1", hdr: []string{"Host", "internal.svc", "X-Forwarded-Host", "fhir.example.org"}, want: 200},
		{name: "trusted proxy: the nearest value counts, not the client's", te: proxied, path: "/fhir/Patient/1", hdr: []string{"Host", own, "X-Forwarded-Host", "fhir.example.org, attacker.example"}, want: 421},
		{name: "trusted proxy: a client-sent value before the proxy's", te: proxied, path: "/fhir/Patient/1", hdr: []string{"Host", own, "X-Forwarded-Host", "attacker.example, fhir.example.org"}, want: 200},
		{name: "trusted proxy, Forwarded host=", te: proxied, path: "/admin/routes", hdr: []string{"Host", own, "Forwarded", `for=192.0.2.60;proto=https;host="attacker.example"`}, want: 421},
		{name: "trusted proxy, Forwarded host= allowed", te: proxied, path: "/fhir/Patient/1", hdr: []string{"Host", "internal.svc", "Forwarded", `for=192.0.2.60;host=fhir.example.org`}, want: 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.te.t = t
			hdr := append([]string(nil), c.hdr...)
			for i := range hdr {
				hdr[i] = strings.ReplaceAll(hdr[i], own, c.te.own)
			}
			c.te.wantStatus(c.te.get(c.path, hdr...), c.want, c.name)
		})
	}
}

// TestAbsoluteURLsFromBaseURL: links, fullUrl, Location and the
// CapabilityStatement's implementation.url come from the configured base
// URL, whatever Host, X-Forwarded-Host or X-Forwarded-Proto the request
// carries.
func TestAbsoluteURLsFromBaseURL(t *testing.T) {
	for _, c := range []struct {
		name, base string
	}{
		{"the default base (the listen address)", ""},
		{"a configured public base behind TLS", "https://fhir.example.org/r4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			te := newTrustEnv(t, trustOpts{base: c.base, hosts: []string{"alias.example.org"}})
			base := c.base
			if base == "" {
				base = te.srv.URL + "/fhir"
			}
			// the peer is loopback, which echo's default trusts for
			// X-Forwarded-Proto: the facade must not
			hdr := []string{"Host", "alias.example.org", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}
			if strings.HasPrefix(base, "https:") {
				hdr[len(hdr)-1] = "http"
			}
			var urls []string
			r := te.get("/fhir/Observation?patient=1&_include=Observation:patient&_count=3", hdr...)
			te.wantStatus(r, 200, "search")
			urls = append(urls, link(r, "self"), link(r, "next"))
			for _, e := range r.body["entry"].([]any) {
				urls = append(urls, e.(map[string]any)["fullUrl"].(string))
			}
			w := te.do("POST", "/fhir/Patient", fmt.Sprintf(newPatient, 1), hdr...)
			te.wantStatus(w, 201, "create")
			urls = append(urls, w.header.Get("Location"))
			m := te.get("/fhir/metadata", hdr...)
			te.wantStatus(m, 200, "metadata")
			urls = append(urls, m.body["implementation"].(map[string]any)["url"].(string))
			for _, u := range urls {
				if !strings.HasPrefix(u, base+"/") && u != base {
					t.Errorf("%q does not start with the base URL %s", u, base)
				}
			}
		})
	}
}

// TestAdminCSRF: with auth off (loopback), another web page cannot move a
// route through the browser of someone on this machine: writes under
// /admin take application/json only and refuse a foreign Origin or
// Sec-Fetch-Site: cross-site; the journal's actor is never the body's.
func TestAdminCSRF(t *testing.T) {
	te := newTrustEnv(t, trustOpts{hosts: []string{"fhir.example.org"}})
	move := `{"state":"shadow","reason":"csrf probe"}`
	for _, c := range []struct {
		name  string
		body  string
		hdr   []string
		want  int
		moved bool
	}{
		{name: "text/plain from a foreign origin", body: move, hdr: []string{"Content-Type", "text/plain", "Origin", "http://evil.example"}, want: 403},
		{name: "text/plain without Origin", body: move, hdr: []string{"Content-Type", "text/plain;charset=UTF-8"}, want: 415},
		{name: "form-encoded", body: "state=shadow&reason=csrf", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, want: 415},
		{name: "multipart form", body: move, hdr: []string{"Content-Type", "multipart/form-data; boundary=x"}, want: 415},
		{name: "no Content-Type", body: move, hdr: []string{"Content-Type", ""}, want: 415},
		{name: "JSON from a foreign origin", body: move, hdr: []string{"Content-Type", "application/json", "Origin", "http://evil.example"}, want: 403},
		{name: "JSON from an opaque origin", body: move, hdr: []string{"Content-Type", "application/json", "Origin", "null"}, want: 403},
		{name: "JSON from the right host on another port", body: move, hdr: []string{"Content-Type", "application/json", "Origin", "http://127.0.0.1:1"}, want: 403},
		{name: "JSON, Sec-Fetch-Site cross-site", body: move, hdr: []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, want: 403},
		{name: "JSON naming its own actor", body: `{"state":"shadow","reason":"r","actor":"mallory"}`, hdr: []string{"Content-Type", "application/json"}, want: 400},
		{name: "JSON from this origin", body: move, hdr: []string{"Content-Type", "application/json", "Origin", "<own>", "Sec-Fetch-Site", "same-origin"}, want: 200, moved: true},
		{name: "JSON from an allowed host's origin", body: `{"state":"legacy","reason":"back"}`, hdr: []string{"Content-Type", "application/json", "Origin", "https://fhir.example.org"}, want: 200, moved: true},
		{name: "JSON without Origin (curl, the CLI)", body: move, hdr: []string{"Content-Type", "application/json; charset=utf-8"}, want: 200, moved: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			te.t = t
			before := te.state("Patient")
			hdr := append([]string(nil), c.hdr...)
			for i := range hdr {
				hdr[i] = strings.ReplaceAll(hdr[i], "<own>", te.srv.URL)
			}
			te.wantStatus(te.raw("POST", "/admin/routes/Patient", c.body, hdr...), c.want, c.name)
			if moved := te.state("Patient") != before; moved != c.moved {
				t.Fatalf("route moved: %v, want %v (%s -> %s)", moved, c.moved, before, te.state("Patient"))
			}
		})
	}
	h, err := te.routes.History(context.Background(), "Patient")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("journal has %d moves, want 3", len(h))
	}
	for _, e := range h {
		if e.Actor != facade.AnonymousActor {
			t.Errorf("journal actor %q, want %q", e.Actor, facade.AnonymousActor)
		}
	}
}

// TestAdminActorFromToken: with auth on, the journal names the token's
// client and user; a body naming an actor is refused.
func TestAdminActorFromToken(t *testing.T) {
	te := newTrustEnv(t, trustOpts{auth: true})
	c := te.is.Claims("ops", "")
	c["roles"] = []string{"fhirfacade.admin"}
	tok := "Bearer " + te.is.Token(t, c)
	r := te.raw("POST", "/admin/routes/Patient", `{"state":"shadow","reason":"r","actor":"mallory"}`, "Content-Type", "application/json", "Authorization", tok)
	te.wantStatus(r, 400, "body naming an actor")
	r = te.raw("POST", "/admin/routes/Patient", `{"state":"shadow","reason":"token test"}`, "Content-Type", "application/json", "Authorization", tok)
	te.wantStatus(r, 200, "move")
	h, err := te.routes.History(context.Background(), "Patient")
	if err != nil || len(h) != 1 {
		t.Fatalf("history %v %v", h, err)
	}
	if h[0].Actor != "client-ops/ops" {
		t.Fatalf("journal actor %q, want the token's client-ops/ops", h[0].Actor)
	}
}

// raw sends a request with exactly the headers given (do adds a FHIR
// Content-Type to every body); an empty value removes the header.
func (te *trustEnv) raw(method, path, body string, hdr ...string) resp {
	te.t.Helper()
	req, _ := http.NewRequest(method, te.srv.URL+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		te.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	out.raw, _ = io.ReadAll(res.Body)
	if err := json.Unmarshal(out.raw, &out.body); err != nil {
		te.t.Fatalf("%s %s: body is not JSON: %s", method, path, out.raw)
	}
	return out
}

// TestOpsListener: /healthz, /readyz and /metrics are served by the
// operations handler only; the API port answers 404 OperationOutcome for
// them, and /readyz says ok or failed per component, never where or why.
func TestOpsListener(t *testing.T) {
	te := newTrustEnv(t, trustOpts{ready: map[string]func(context.Context) error{
		"legacy": func(context.Context) error { return nil },
		"control": func(context.Context) error {
			return errors.New("dial postgres://facade:s3cret@db.internal:5432/control: refused")
		},
	}})
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		te.wantStatus(te.get(p), 404, p+" on the API port")
	}
	for _, c := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/readyz", 503}, {"/metrics", 200}} {
		res, err := http.Get(te.ops.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Fatalf("%s on the ops listener: %d, want %d: %s", c.path, res.StatusCode, c.want, b)
		}
		if c.path == "/readyz" && (string(bytes.TrimSpace(b)) != `{"control":"failed","legacy":"ok"}`) {
			t.Fatalf("/readyz body %s", b)
		}
		if bytes.Contains(b, []byte("db.internal")) || bytes.Contains(b, []byte("s3cret")) {
			t.Fatalf("%s names the database: %s", c.path, b)
		}
	}
}
