package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade/console"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// world is a console over a real SQLite control store, served over TLS
// (the session cookie is Secure) to a client with a cookie jar.
type world struct {
	t      *testing.T
	ctl    *control.Store
	routes *routing.Store
	srv    *httptest.Server
	client *http.Client
}

func newWorld(t *testing.T, oidc func(redirect string) *console.OIDC) *world {
	t.Helper()
	ctx := context.Background()
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	routes := routing.NewStore(ctl.DB)
	types := []string{"Encounter", "Patient"}
	if err := routes.Ensure(ctx, types); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := console.Config{Routes: routes, Ctl: ctl, Types: types}
	if oidc != nil {
		cfg.OIDC = oidc(srv.URL + console.Base + "/callback")
	}
	c, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = c
	jar, _ := cookiejar.New(nil)
	client := srv.Client()
	client.Jar = jar
	return &world{t: t, ctl: ctl, routes: routes, srv: srv, client: client}
}

// newOIDCWorld is a world whose console signs users in at a test issuer
// (real tokens signed by a key made here) and needs fhirfacade.admin.
func newOIDCWorld(t *testing.T) (*world, *testutil.Issuer) {
	t.Helper()
	is := testutil.NewIssuer(t)
	verifier := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL})
	w := newWorld(t, func(redirect string) *console.OIDC {
		o, err := console.NewOIDC(context.Background(), console.OIDCSettings{Issuer: is.URL, ClientID: "console", RedirectURL: redirect,
			Scopes: []string{"fhirfacade.admin"}, AdminAccess: "fhirfacade.admin", Verify: verifier.Verify})
		if err != nil {
			t.Fatal(err)
		}
		return o
	})
	return w, is
}

// get fetches a console page and returns its status and body.
func (w *world) get(path string) (int, string) {
	w.t.Helper()
	res, err := w.client.Get(w.srv.URL + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// wantSignIn fetches path without following redirects and fails unless
// the console sends the browser to the sign-in; what names the case.
func (w *world) wantSignIn(path, what string) {
	w.t.Helper()
	c := *w.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(w.srv.URL + path)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), console.Base+"/login") {
		w.t.Fatalf("%s: %d %s, want 303 to the sign-in", what, res.StatusCode, res.Header.Get("Location"))
	}
}

// post submits a form without following the redirect.
func (w *world) post(path string, form url.Values) (int, string, string) {
	w.t.Helper()
	c := *w.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(w.srv.URL+path, form)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

func (w *world) state(typ string) routing.Route {
	w.t.Helper()
	tb, err := w.routes.Load(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return tb.Routes[typ]
}

// TestMoveFlow (auth off, loopback): the overview lists the types; a move
// page shows the guard's verdict and the dry run; a POST without the CSRF
// token or without a reason changes nothing; a move is journaled at once;
// a page made stale by a move through the API/CLI path is told "moved by
// someone else" and nothing changes; the parity guard refuses shadow →
// fhir until forced.
func TestMoveFlow(t *testing.T) {
	w := newWorld(t, nil)
	code, body := w.get(console.Base)
	if code != 200 || !strings.Contains(body, `data-type="Patient" data-state="legacy"`) {
		t.Fatalf("overview %d:\n%s", code, body)
	}
	code, body = w.get(console.Base + "/move/Patient?to=shadow")
	if code != 200 || !strings.Contains(body, "Guard verdict: allowed") || !strings.Contains(body, "mirrored to FHIR through the outbox") {
		t.Fatalf("move page %d:\n%s", code, body)
	}
	csrf := csrfOf(t, body)
	for _, c := range []struct {
		name string
		form url.Values
		want int
		text string
	}{
		{"no CSRF token", url.Values{"to": {"shadow"}, "version": {"1"}, "reason": {"x"}}, 403, "CSRF"},
		{"wrong CSRF token", url.Values{"csrf": {csrf + "x"}, "to": {"shadow"}, "version": {"1"}, "reason": {"x"}}, 403, "CSRF"},
		{"no reason", url.Values{"csrf": {csrf}, "to": {"shadow"}, "version": {"1"}, "reason": {"  "}}, 409, "a reason is required"},
		{"no version", url.Values{"csrf": {csrf}, "to": {"shadow"}, "reason": {"x"}}, 400, "version"},
		{"bad state", url.Values{"csrf": {csrf}, "to": {"sideways"}, "version": {"1"}, "reason": {"x"}}, 400, "sideways"},
	} {
		status, _, page := w.post(console.Base+"/move/Patient", c.form)
		if status != c.want || !strings.Contains(page, c.text) {
			t.Errorf("%s: %d, want %d with %q:\n%s", c.name, status, c.want, c.text, page)
		}
		if st := w.state("Patient"); st.State != routing.Legacy || st.Version != 1 {
			t.Fatalf("%s changed the route: %+v", c.name, st)
		}
	}
	status, loc, _ := w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"shadow"}, "version": {"1"}, "reason": {"start shadow reads"}})
	if status != 303 || w.state("Patient").State != routing.Shadow {
		t.Fatalf("move: %d %s, route %+v", status, loc, w.state("Patient"))
	}
	_, body = w.get(loc)
	if !strings.Contains(body, "legacy → shadow (version 2)") || !strings.Contains(body, "start shadow reads") || !strings.Contains(body, "anonymous@loopback") {
		t.Fatalf("the journal does not show the move:\n%s", body)
	}

	// stale page: someone moves Patient back through the API/CLI path
	// while this page still shows version 2
	_, body = w.get(console.Base + "/move/Patient?to=fhir")
	if !strings.Contains(body, "Guard verdict: refused") || !strings.Contains(body, "no parity report exists for Patient") || !strings.Contains(body, "Override the guard") {
		t.Fatalf("the guard's refusal is not shown:\n%s", body)
	}
	if _, err := w.routes.Set(context.Background(), routing.Move{Type: "Patient", To: routing.Legacy, Actor: "cli-user", Reason: "rollback", Version: 2}); err != nil {
		t.Fatal(err)
	}
	status, _, body = w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"fhir"}, "version": {"2"}, "reason": {"go"}, "force": {"yes"}})
	if status != 409 || !strings.Contains(body, "Moved by someone else") || !strings.Contains(body, `id="current-version">3<`) {
		t.Fatalf("stale page: %d:\n%s", status, body)
	}
	if st := w.state("Patient"); st.State != routing.Legacy || st.Version != 3 {
		t.Fatalf("the stale move changed the route: %+v", st)
	}

	// the guard refuses shadow → fhir without a parity report; forced, it
	// moves and the journal says so
	if _, _, _ = w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"shadow"}, "version": {"3"}, "reason": {"again"}}); w.state("Patient").State != routing.Shadow {
		t.Fatal("back to shadow failed")
	}
	status, _, body = w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"fhir"}, "version": {"4"}, "reason": {"go"}})
	if status != 409 || !strings.Contains(body, "no parity report exists") || w.state("Patient").State != routing.Shadow {
		t.Fatalf("unforced guarded move: %d:\n%s", status, body)
	}
	status, loc, _ = w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"fhir"}, "version": {"4"}, "reason": {"accepted risk"}, "force": {"yes"}})
	if status != 303 || w.state("Patient").State != routing.FHIR {
		t.Fatalf("forced move: %d", status)
	}
	_, body = w.get(loc)
	if !strings.Contains(body, "shadow → fhir (version 5), forced") {
		t.Fatalf("the journal does not show the forced move:\n%s", body)
	}
	// every move made here is in the audit trail under the console's actor
	n := 0
	_ = (&audit.Store{DB: w.ctl.DB}).Each(context.Background(), time.Time{}, func(r *audit.Record) error {
		if r.Interaction == "route-set" && r.Source == "console" && r.User == "anonymous@loopback" {
			n++
		}
		return nil
	})
	if n < 4 {
		t.Errorf("%d console route-set audit records, want at least 4", n)
	}
}

// TestNotLoopback: with auth off, a peer that is not on this machine is
// refused, page and action alike.
func TestNotLoopback(t *testing.T) {
	w := newWorld(t, nil)
	h := w.srv.Config.Handler
	for _, m := range []string{"GET", "POST"} {
		req := httptest.NewRequest(m, console.Base+"/move/Patient?to=shadow", nil)
		req.RemoteAddr = "10.1.2.3:5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 403 || !strings.Contains(rec.Body.String(), "loopback") {
			t.Errorf("%s from 10.1.2.3: %d %s", m, rec.Code, rec.Body.String())
		}
	}
}

// TestOIDCSignIn: sign-in by authorization code + PKCE at a local issuer;
// an administrator gets a session and can act (with the CSRF token), a
// user without the admin scope is refused, and without a session the
// pages send to the sign-in and actions are refused.
func TestOIDCSignIn(t *testing.T) {
	w, is := newOIDCWorld(t)
	// not signed in: a page sends to the sign-in, an action is refused
	w.wantSignIn(console.Base+"/journal", "no session")
	c := *w.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if status, _, _ := w.post(console.Base+"/move/Patient", url.Values{"to": {"shadow"}, "version": {"1"}, "reason": {"x"}}); status != 401 {
		t.Fatalf("action without a session: %d", status)
	}

	// a user without the admin scope is refused at the callback
	is.SetLogin("nurse", "openid patient/*.rs")
	code, body := w.get(console.Base + "/login")
	if code != 403 || !strings.Contains(body, "needs the fhirfacade.admin scope or role") {
		t.Fatalf("non-admin sign-in: %d:\n%s", code, body)
	}
	if res, err := c.Get(w.srv.URL + console.Base + "/journal"); err != nil || res.StatusCode != 303 {
		t.Fatalf("a refused sign-in left a session: %v %v", res, err)
	}

	// an administrator signs in and moves a type; the journal and the
	// audit trail name them
	is.SetLogin("admin-7", "openid fhirfacade.admin")
	code, body = w.get(console.Base + "/login?next=" + url.QueryEscape(console.Base+"/move/Patient?to=shadow"))
	if code != 200 || !strings.Contains(body, "Continue to the console") {
		t.Fatalf("admin sign-in: %d:\n%s", code, body)
	}
	code, body = w.get(console.Base + "/move/Patient?to=shadow")
	if code != 200 || !strings.Contains(body, "admin-7") {
		t.Fatalf("signed-in page: %d:\n%s", code, body)
	}
	csrf := csrfOf(t, body)
	if status, _, _ := w.post(console.Base+"/move/Patient", url.Values{"to": {"shadow"}, "version": {"1"}, "reason": {"x"}}); status != 403 {
		t.Fatalf("signed-in action without the CSRF token: %d", status)
	}
	if status, _, body := w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"shadow"}, "version": {"1"}, "reason": {"signed in"}}); status != 303 {
		t.Fatalf("signed-in move: %d:\n%s", status, body)
	}
	h, err := w.routes.History(context.Background(), "Patient")
	if err != nil || len(h) != 1 || h[0].Actor != "admin-7" {
		t.Fatalf("journal %+v %v", h, err)
	}
	// sign-ins are audited, the refused one too
	var signIns []string
	_ = (&audit.Store{DB: w.ctl.DB}).Each(context.Background(), time.Time{}, func(r *audit.Record) error {
		if r.Interaction == "console-sign-in" {
			signIns = append(signIns, r.User+" "+r.Outcome)
		}
		return nil
	})
	if len(signIns) != 2 || !strings.HasPrefix(signIns[0], "nurse ") || !strings.HasPrefix(signIns[1], "admin-7 ") || signIns[0] == "nurse "+signIns[1][len("admin-7 "):] {
		t.Errorf("sign-in audit records: %q", signIns)
	}
	// a forged session cookie is no session
	u, _ := url.Parse(w.srv.URL + console.Base)
	w.client.Jar.SetCookies(u, []*http.Cookie{{Name: "fhirfacade_console", Value: "forged", Path: console.Base, Secure: true}})
	w.wantSignIn(console.Base+"/journal", "a forged session cookie")
}

// TestSignOutRevokes: a copy of a session cookie taken before sign-out
// (another browser, a stolen laptop) is refused after it, though its seal
// and expiry are still good; a second sign-out of the same session is fine.
func TestSignOutRevokes(t *testing.T) {
	w, is := newOIDCWorld(t)
	is.SetLogin("admin-7", "openid fhirfacade.admin")
	if code, body := w.get(console.Base + "/login"); code != 200 {
		t.Fatalf("sign-in: %d:\n%s", code, body)
	}
	code, body := w.get(console.Base + "/journal")
	if code != 200 {
		t.Fatalf("signed in: %d", code)
	}
	csrf := csrfOf(t, body)
	u, _ := url.Parse(w.srv.URL + console.Base)
	copied := w.client.Jar.Cookies(u)
	if status, _, body := w.post(console.Base+"/logout", url.Values{"csrf": {csrf}}); status != 303 {
		t.Fatalf("sign-out: %d %s", status, body)
	}
	w.client.Jar.SetCookies(u, copied)
	w.wantSignIn(console.Base+"/journal", "the signed-out session's cookie")
	w.client.Jar.SetCookies(u, copied) // the refusal above cleared it
	if status, _, _ := w.post(console.Base+"/move/Patient", url.Values{"csrf": {csrf}, "to": {"shadow"}, "version": {"1"}, "reason": {"replay"}}); status != 401 {
		t.Fatalf("an action with the signed-out session's cookie: %d, want 401", status)
	}
	if got := w.state("Patient").State; got != routing.Legacy {
		t.Fatalf("Patient moved to %s by a signed-out session", got)
	}
}

// TestMirrorParityAudit: failed outbox rows are listed with their reason
// and retried or skipped (CSRF required, journaled, a row no longer failed
// is a conflict); stored parity reports are listed and shown; runs need a
// FHIR server; the audit chain is verified from the page.
func TestMirrorParityAudit(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	for _, id := range []string{"7", "8"} {
		if err := w.ctl.EnqueueOutbox(ctx, w.ctl.DB, control.OutboxPending, "", "fhir", "Patient", id); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := w.ctl.OutboxNext(ctx, 10)
	for _, r := range rows {
		if err := w.ctl.FinishOutbox(ctx, r.ID, control.OutboxFailed, "HTTP 422: name.family too long"); err != nil {
			t.Fatal(err)
		}
	}
	code, body := w.get(console.Base + "/mirror")
	if code != 200 || !strings.Contains(body, "Patient/7") || !strings.Contains(body, "name.family too long") {
		t.Fatalf("mirror %d:\n%s", code, body)
	}
	csrf := csrfOf(t, body)
	retry := console.Base + "/mirror/" + itoa(rows[0].ID) + "/retry"
	if status, _, _ := w.post(retry, url.Values{"type": {"Patient"}}); status != 403 {
		t.Fatalf("retry without CSRF: %d", status)
	}
	if status, _, body := w.post(retry, url.Values{"csrf": {csrf}, "type": {"Patient"}}); status != 303 {
		t.Fatalf("retry: %d %s", status, body)
	}
	if status, _, body := w.post(retry, url.Values{"csrf": {csrf}, "type": {"Patient"}}); status != 409 || !strings.Contains(body, "no longer failed") {
		t.Fatalf("second retry: %d %s", status, body)
	}
	if status, _, _ := w.post(console.Base+"/mirror/"+itoa(rows[1].ID)+"/skip", url.Values{"csrf": {csrf}, "type": {"Patient"}}); status != 303 {
		t.Fatalf("skip: %d", status)
	}
	if c, _ := w.ctl.OutboxCountsByType(ctx); c["Patient"] != (control.OutboxCounts{Pending: 1}) {
		t.Fatalf("outbox after retry and skip: %+v", c["Patient"])
	}
	_, body = w.get(console.Base + "/journal?type=Patient")
	if !strings.Contains(body, "queued again") || !strings.Contains(body, "skipped (not copied)") {
		t.Fatalf("the journal does not show retry and skip:\n%s", body)
	}

	id, err := w.ctl.StoreParityReport(ctx, control.ParityReport{Type: "Patient", At: time.Now(), Passed: false, Matching: 9, Total: 10,
		Body: `{"schema":1,"type":"Patient","passed":false,"counts":{"legacy":10,"fhir":10,"matching":9,"mismatched":1},"mismatchesByPath":{"birthDate":1}}`})
	if err != nil {
		t.Fatal(err)
	}
	_, body = w.get(console.Base + "/parity/Patient")
	if !strings.Contains(body, "FAIL") || !strings.Contains(body, "<circle") || !strings.Contains(body, "9 / 10") {
		t.Fatalf("parity list:\n%s", body)
	}
	code, body = w.get(console.Base + "/report/" + itoa(id))
	if code != 200 || !strings.Contains(body, "<code>birthDate</code>") || !strings.Contains(body, "are not stored") {
		t.Fatalf("report %d:\n%s", code, body)
	}
	if code, _ := w.get(console.Base + "/report/999999"); code != 404 {
		t.Fatalf("missing report: %d", code)
	}
	if status, _, body := w.post(console.Base+"/run/parity/Patient", url.Values{"csrf": {csrf}}); status != 409 || !strings.Contains(body, "FHIRFACADE_FHIR_URL") {
		t.Fatalf("parity without a FHIR server: %d %s", status, body)
	}

	if status, _, _ := w.post(console.Base+"/audit/verify", url.Values{"csrf": {csrf}}); status != 303 {
		t.Fatalf("verify: %d", status)
	}
	_, body = w.get(console.Base + "/audit")
	if !strings.Contains(body, "chain whole") || !strings.Contains(body, "anonymous@loopback") {
		t.Fatalf("audit page:\n%s", body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
