package facade_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/tombstone"
	"github.com/fhirfacade/fhirfacade/upstream"
)

const securePatients = 4

type secure struct {
	*env
	is      *testutil.Issuer
	audit   *audit.Store
	writer  *audit.Writer
	ctl     *control.Store
	be      backend.Backend
	stopped chan struct{}
	bulk    *bulk.Engine
}

type secureOpts struct {
	route     string // legacy or fhir
	rateLimit float64
	failOpen  bool
	// readTimeout is the HTTP server's ReadTimeout (0: none)
	readTimeout time.Duration
	// tombstones wraps the backend as serve does (deletes answer 410)
	tombstones bool
	// idmap puts the id map in front of legacy as serve does (a PUT to a
	// new FHIR-style id creates)
	idmap bool
	// bulk serves $export (files in a temporary folder; no workers run:
	// the test runs jobs with secure.bulk.RunOnce)
	bulk bool
	// upstreamTypes (fhir route) also serves every type the FHIR server
	// offers, as serve does (Group, Provenance, ...)
	upstreamTypes bool
}

// newSecure serves the demo data from legacy SQLite or from the test FHIR
// server (the same resources copied there with PUT, as sync does), with
// SMART auth from a local issuer and the audit trail in a SQLite control
// store.
func newSecure(t *testing.T, o secureOpts) *secure {
	t.Helper()
	ctx := context.Background()
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, securePatients)
	var be backend.Backend = legacy.New(db, reg)
	cat := catalog.FromSpecs(reg)
	if o.route == "fhir" {
		srv := testutil.StartFHIRServer(t)
		c, err := upstream.New(upstream.Config{BaseURL: srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		fb := upstream.NewBackend(c)
		if o.upstreamTypes {
			raw, err := c.Capabilities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			up, err := catalog.FromCapabilities(raw)
			if err != nil {
				t.Fatal(err)
			}
			cat, _ = catalog.Merge(cat, up)
		}
		for _, typ := range []string{"Patient", "Encounter", "Observation"} {
			res, err := be.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Count: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Resources {
				var m map[string]any
				_ = json.Unmarshal(r.JSON, &m)
				if _, _, err := fb.Update(ctx, typ, r.ID, m, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		be = fb
	}
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	if o.idmap && o.route != "fhir" {
		ids := idmap.New(ctl)
		if err := ids.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		be = &idmap.Backend{Inner: be, Map: ids, Reg: reg}
	}
	if o.tombstones {
		be = &tombstone.Backend{Inner: be, Store: ctl}
	}
	st := &audit.Store{DB: ctl.DB}
	w := audit.NewWriter(st)
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { w.Run(wctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	// on legacy every type the specs map is served; the FHIR server was
	// given only the first three
	types := map[string]bool{"Patient": true, "Encounter": true, "Observation": true}
	if o.upstreamTypes {
		for _, typ := range cat.Types() {
			types[typ] = true
		}
	}
	if o.route != "fhir" {
		for _, typ := range reg.Types() {
			types[typ] = true
		}
	}
	router := facade.StaticRouter{Backend: be, Types: types}
	var exports *bulk.Engine
	if o.bulk {
		exports = newBulk(t, ctl, router)
	}
	is := testutil.NewIssuer(t)
	sealer := testutil.Sealer(t)
	logs := &bytes.Buffer{}
	hs := testutil.Serve(t, func(base string) http.Handler {
		return facade.New(facade.Config{
			Catalog:       cat,
			Router:        router,
			Bulk:          exports,
			Sealer:        sealer,
			Log:           slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, nil)),
			Auth:          auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL}),
			Audit:         w,
			AuditFailOpen: o.failOpen,
			RateLimit:     o.rateLimit,
			SMART:         map[string]any{"issuer": is.URL, "jwks_uri": is.JWKSURL},
			Admin:         http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }),
			Console:       http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("console " + r.Method)) }),
			BaseURL:       base,
		}).Handler()
	}, production(o.readTimeout))
	return &secure{env: &env{t: t, srv: hs, logs: logs}, is: is, audit: st, writer: w, ctl: ctl, be: be, stopped: stopped, bulk: exports}
}

// token for sub with scopes and, when patient != "", a patient claim.
func (s *secure) token(scope, patient string) string {
	c := s.is.Claims("user-"+patient, scope)
	if patient != "" {
		c["patient"] = patient
	}
	return s.is.Token(s.t, c)
}

func (s *secure) as(tok, method, path, body string, hdr ...string) resp {
	s.t.Helper()
	return s.do(method, path, body, append([]string{"Authorization", "Bearer " + tok}, hdr...)...)
}

func (s *secure) count() int64 {
	n, err := s.audit.Count(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// requests is how many requests the stored records stand for (an
// aggregated record counts several).
func (s *secure) requests() int {
	n := 0
	if err := s.audit.Each(context.Background(), time.Time{}, func(r *audit.Record) error { n += r.Requests(); return nil }); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// waitRequests waits until the records stand for want requests (counted
// refusals are stored when their window ends, a second after the first).
func (s *secure) waitRequests(want int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n := s.requests(); n != want; n = s.requests() {
		if n > want || time.Now().After(deadline) {
			s.t.Fatalf("audit records stand for %d requests, want %d", n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTokens: a request without a valid token never reaches data; each
// refusal is a 401 OperationOutcome with WWW-Authenticate, and is audited
// (counted per address and window: the records stand for every request).
func TestTokens(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	good := s.is.Claims("u", "system/*.read")
	with := func(k string, v any) map[string]any {
		c := s.is.Claims("u", "system/*.read")
		c[k] = v
		return c
	}
	cases := []struct {
		name, hdr string
		want      int
	}{
		{"valid RS256", "Bearer " + s.is.Token(t, good), 200},
		{"valid ES256", "Bearer " + s.is.TokenES256(t, good), 200},
		{"no header", "", 401},
		{"basic auth", "Basic dXNlcjpwYXNz", 401},
		{"expired", "Bearer " + s.is.Token(t, with("exp", time.Now().Add(-time.Hour).Unix())), 401},
		{"not yet valid", "Bearer " + s.is.Token(t, with("nbf", time.Now().Add(time.Hour).Unix())), 401},
		{"wrong aud", "Bearer " + s.is.Token(t, with("aud", "https://elsewhere/fhir")), 401},
		{"wrong iss", "Bearer " + s.is.Token(t, with("iss", "https://evil.test")), 401},
		{"alg none", "Bearer " + s.is.Unsigned(t, good), 401},
		{"HS256 with the public key", "Bearer " + s.is.Sign(t, good, jwa.HS256(), s.is.PublicPEM(t), "rsa-1"), 401},
		{"unknown kid", "Bearer " + s.is.Sign(t, good, jwa.RS256(), s.is.RSA, "other"), 401},
		{"tampered", "Bearer " + testutil.Tamper(s.is.Token(t, s.is.Claims("u", "patient/Patient.r")), good), 401},
		{"typ at+jwt", "Bearer " + s.is.SignHeaders(t, good, map[string]any{"typ": "at+jwt"}), 200},
		{"typ JWE", "Bearer " + s.is.SignHeaders(t, good, map[string]any{"typ": "JWE"}), 401},
		{"crit unknown", "Bearer " + s.is.SignHeaders(t, good, map[string]any{"crit": []string{"foo"}, "foo": true}), 401},
		{"exp as a string", "Bearer " + s.is.Token(t, with("exp", fmt.Sprint(time.Now().Add(time.Hour).Unix()))), 401},
		{"nbf as a string", "Bearer " + s.is.Token(t, with("nbf", fmt.Sprint(time.Now().Add(-time.Hour).Unix()))), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			var r resp
			if tc.hdr == "" {
				r = s.get("/fhir/Patient/1")
			} else {
				r = s.get("/fhir/Patient/1", "Authorization", tc.hdr)
			}
			s.wantStatus(r, tc.want, tc.name)
			if tc.want == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("no WWW-Authenticate: %v", r.header)
			}
			if tc.want == 401 && strings.Contains(string(r.raw), "exp") {
				t.Fatalf("refusal tells which check failed: %s", r.raw)
			}
		})
	}
	s.t = t
	s.waitRequests(len(cases))
	if n := s.count(); n > 3+2 { // the three valid ones, the refusals in one window (or two)
		t.Fatalf("%d records for %d requests", n, len(cases))
	}
	// public endpoints need no token
	s.wantStatus(s.get("/fhir/metadata"), 200, "metadata")
	res, err := http.Get(s.srv.URL + "/fhir/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if res.StatusCode != 200 || doc["issuer"] != s.is.URL {
		t.Fatalf("smart-configuration: %d %v", res.StatusCode, doc)
	}
}

// TestScopeMatrix: each interaction on each type is allowed exactly when
// a scope carries its letter (v2 single letters, v1 read/write).
func TestScopeMatrix(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	admin := s.token("system/*.cruds", "")
	bodies := map[string]string{}
	for _, typ := range []string{"Patient", "Encounter", "Observation"} {
		r := s.as(admin, "GET", "/fhir/"+typ+"/2", "")
		s.wantStatus(r, 200, "read "+typ)
		bodies[typ] = string(r.raw)
	}
	next := map[string]int{"Patient": 3, "Encounter": 10, "Observation": 40}
	type call struct {
		letter byte
		do     func(tok, typ string) resp
	}
	calls := []call{
		{'r', func(tok, typ string) resp { return s.as(tok, "GET", "/fhir/"+typ+"/1", "") }},
		{'s', func(tok, typ string) resp { return s.as(tok, "GET", "/fhir/"+typ+"?_count=2", "") }},
		{'c', func(tok, typ string) resp {
			var m map[string]any
			_ = json.Unmarshal([]byte(bodies[typ]), &m)
			delete(m, "id")
			delete(m, "meta")
			b, _ := json.Marshal(m)
			return s.as(tok, "POST", "/fhir/"+typ, string(b))
		}},
		{'u', func(tok, typ string) resp { return s.as(tok, "PUT", "/fhir/"+typ+"/2", bodies[typ]) }},
		{'d', func(tok, typ string) resp {
			next[typ]++
			return s.as(tok, "DELETE", fmt.Sprintf("/fhir/%s/%d", typ, next[typ]), "")
		}},
	}
	scopes := map[string]string{"c": "c", "r": "r", "u": "u", "d": "d", "s": "s", "read": "rs", "write": "cud", "cruds": "cruds"}
	for _, typ := range []string{"Patient", "Encounter", "Observation"} {
		for perm, letters := range scopes {
			for _, other := range []string{typ, "*"} {
				tok := s.token("system/"+other+"."+perm, "")
				for _, cl := range calls {
					name := fmt.Sprintf("%s system/%s.%s %c", typ, other, perm, cl.letter)
					t.Run(name, func(t *testing.T) {
						s.t = t
						r := cl.do(tok, typ)
						allowed := strings.IndexByte(letters, cl.letter) >= 0
						if allowed && (r.status == 403 || r.status >= 500 || r.status == 401) {
							t.Fatalf("want allowed, got %d %s", r.status, r.raw)
						}
						if !allowed && r.status != 403 {
							t.Fatalf("want 403, got %d %s", r.status, r.raw)
						}
					})
				}
			}
			// a scope for another type grants nothing here
			s.t = t
			tok := s.token("system/Medication."+perm, "")
			s.wantStatus(calls[0].do(tok, typ), 403, typ+" with a Medication scope")
		}
	}
	// a token with no clinical scope at all
	s.t = t
	s.wantStatus(s.as(s.token("openid fhirUser", ""), "GET", "/fhir/Patient/1", ""), 403, "no clinical scope")
}

// TestPatientCompartment: patient A's token sees only A's data, on both
// backends: reads of B's resources are 404, searches and includes are
// narrowed in the backend query, writes about B are refused.
func TestPatientCompartment(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route})
			full := s.token("system/*.rs", "")
			a, b := "1", "2"
			tokA := s.token("patient/*.rs patient/Observation.cud", a)
			// ids of B's and A's data, found with a system token
			obsOf := func(p string) []string {
				r := s.as(full, "GET", "/fhir/Observation?subject=Patient/"+p+"&_count=100", "")
				s.wantStatus(r, 200, "obs of "+p)
				var ids []string
				for _, res := range entries(r, "match") {
					ids = append(ids, res["id"].(string))
				}
				return ids
			}
			obsA, obsB := obsOf(a), obsOf(b)
			if len(obsA) == 0 || len(obsB) == 0 {
				t.Fatalf("fixture: %d/%d observations", len(obsA), len(obsB))
			}
			s.wantStatus(s.as(tokA, "GET", "/fhir/Patient/"+a, ""), 200, "own Patient")
			s.wantStatus(s.as(tokA, "GET", "/fhir/Patient/"+b, ""), 404, "other Patient")
			own := s.as(tokA, "GET", "/fhir/Observation/"+obsA[0], "")
			s.wantStatus(own, 200, "own Observation")
			if sys := s.as(full, "GET", "/fhir/Observation/"+obsA[0], ""); own.header.Get("ETag") == "" || own.header.Get("ETag") != sys.header.Get("ETag") ||
				own.header.Get("Last-Modified") != sys.header.Get("Last-Modified") {
				t.Fatalf("a narrowed read lost its version headers: %v vs %v", own.header, sys.header)
			}
			s.wantStatus(s.as(tokA, "GET", "/fhir/Observation/"+obsB[0], ""), 404, "other Observation")

			onlyA := func(r resp, what string) int {
				t.Helper()
				s.wantStatus(r, 200, what)
				n := 0
				for _, mode := range []string{"match", "include"} {
					for _, res := range entries(r, mode) {
						n++
						ref := ""
						switch res["resourceType"] {
						case "Patient":
							ref = "Patient/" + res["id"].(string)
						case "Observation":
							ref = res["subject"].(map[string]any)["reference"].(string)
						case "Encounter":
							ref = res["subject"].(map[string]any)["reference"].(string)
						}
						if ref != "Patient/"+a {
							t.Fatalf("%s: %s/%v belongs to %s", what, res["resourceType"], res["id"], ref)
						}
					}
				}
				return n
			}
			if n := onlyA(s.as(tokA, "GET", "/fhir/Observation?_count=100", ""), "search all"); n != len(obsA) {
				t.Fatalf("search all: %d results, A has %d", n, len(obsA))
			}
			if n := onlyA(s.as(tokA, "GET", "/fhir/Observation?subject=Patient/"+b, ""), "search B"); n != 0 {
				t.Fatalf("B's observations visible: %d", n)
			}
			onlyA(s.as(tokA, "GET", "/fhir/Patient?_count=100", ""), "patients")
			onlyA(s.as(tokA, "GET", "/fhir/Encounter?_include=Encounter:subject&_count=100", ""), "encounters with include")
			onlyA(s.as(tokA, "GET", "/fhir/Patient?_revinclude=Observation:subject&_count=100", ""), "revinclude")
			onlyA(s.as(tokA, "POST", "/fhir/Observation/_search", "_count=100", "Content-Type", "application/x-www-form-urlencoded"), "POST _search")
			// paging: a page token of a system search replayed with A's token
			// is refused (TestPageTokenBinding has the cases)
			r := s.as(full, "GET", "/fhir/Observation?_count=5", "")
			s.wantStatus(s.as(tokA, "GET", link(r, "next"), ""), 403, "foreign page token")
			// a Patient the token may not see is left out of includes
			tokEnc := s.token("patient/Encounter.rs", a)
			r = s.as(tokEnc, "GET", "/fhir/Encounter?_include=Encounter:subject", "")
			s.wantStatus(r, 200, "include without Patient scope")
			if len(entries(r, "include")) != 0 || !strings.Contains(string(r.raw), "left out") {
				t.Fatalf("include outside the grant: %s", r.raw)
			}
			// v2 restrictions
			if n := onlyA(s.as(s.token("patient/Observation.rs?category=laboratory", a), "GET", "/fhir/Observation?_count=100", ""), "restricted lab"); n != len(obsA) {
				t.Fatalf("category=laboratory: %d want %d", n, len(obsA))
			}
			if n := onlyA(s.as(s.token("patient/Observation.rs?category=vital-signs", a), "GET", "/fhir/Observation?_count=100", ""), "restricted vitals"); n != 0 {
				t.Fatalf("category=vital-signs: %d want 0", n)
			}
			s.wantStatus(s.as(s.token("patient/Observation.rs?category=vital-signs", a), "GET", "/fhir/Observation/"+obsA[0], ""), 404, "read outside the restriction")
			s.wantStatus(s.as(s.token("patient/Observation.rs?_count=1", a), "GET", "/fhir/Observation", ""), 403, "a restriction that restricts nothing")
			s.wantStatus(s.as(s.token("patient/Observation.rs?focus=Patient/1", a), "GET", "/fhir/Observation", ""), 403, "a restriction on an unsupported parameter")
			s.wantStatus(s.as(s.token("user/Patient.rs?gender=", ""), "GET", "/fhir/Patient", ""), 403, "an empty restriction (would match every patient)")
			s.wantStatus(s.as(s.token("user/Observation.rs?category=laboratory,", ""), "GET", "/fhir/Observation", ""), 403, "an empty item in a restriction")
			// writes
			rb := s.as(full, "GET", "/fhir/Observation/"+obsB[0], "")
			var m map[string]any
			_ = json.Unmarshal(rb.raw, &m)
			delete(m, "id")
			delete(m, "meta")
			bodyB, _ := json.Marshal(m)
			s.wantStatus(s.as(tokA, "POST", "/fhir/Observation", string(bodyB)), 403, "create about B")
			m["subject"] = map[string]any{"reference": "Patient/" + a}
			// the encounter must be A's too: a patient/ scope writes
			// references inside its compartment only
			m["encounter"] = map[string]any{"reference": "Encounter/1"}
			bodyA, _ := json.Marshal(m)
			s.wantStatus(s.as(tokA, "POST", "/fhir/Observation", string(bodyA)), 201, "create about A")
			m["id"] = obsB[0]
			takeover, _ := json.Marshal(m)
			s.wantStatus(s.as(tokA, "PUT", "/fhir/Observation/"+obsB[0], string(takeover)), 404, "rewrite B's observation as A's")
			s.wantStatus(s.as(tokA, "DELETE", "/fhir/Observation/"+obsB[0], ""), 404, "delete B's")
			s.wantStatus(s.as(full, "GET", "/fhir/Observation/"+obsB[0], ""), 200, "B's observation untouched")
			s.wantStatus(s.as(s.token("patient/*.rs", ""), "GET", "/fhir/Observation", ""), 403, "patient scope without a patient claim")
		})
	}
}

// TestAuditTrail: every request has its record, with who, what and whose;
// the chain verifies; the export is valid AuditEvent NDJSON.
func TestAuditTrail(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	ctx := context.Background()
	tok := s.token("patient/*.rs", "1")
	sent := 0
	start := time.Now()
	for i := 0; i < 20; i++ {
		s.as(tok, "GET", "/fhir/Observation?_count=3", "")
		s.as(tok, "GET", "/fhir/Patient/2", "")
		s.get("/fhir/Patient/1")
		sent += 3
	}
	// one record per authenticated answer; the anonymous refusals are
	// counted in one record per one-second window the loop spanned (more
	// windows on a slow machine, never one per refusal)
	windows := int(time.Since(start)/time.Second) + 2
	s.waitRequests(sent)
	if n := s.count(); n < 41 || n > int64(40+windows) {
		t.Fatalf("%d records for %d requests over %d windows", n, sent, windows)
	}
	rep, err := s.audit.Verify(ctx)
	if err != nil || rep.Problem != nil {
		t.Fatalf("verify: %v %v", err, rep.Problem)
	}
	var recs []*audit.Record
	_ = s.audit.Each(ctx, time.Time{}, func(r *audit.Record) error { recs = append(recs, r); return nil })
	search, denied, anon := recs[0], recs[1], (*audit.Record)(nil)
	for _, r := range recs {
		if r.Status == 401 && anon == nil {
			anon = r
		}
	}
	if search.Interaction != "search-type" || search.ClientID != "client-user-1" || search.User != "user-1" || len(search.IDs) != 3 ||
		len(search.Patients) != 1 || search.Patients[0] != "Patient/1" || search.Backend != "legacy" || search.Status != 200 || search.Query == "" || search.Source == "" || search.RequestID == "" {
		t.Fatalf("search record %+v", search)
	}
	if denied.Interaction != "read" || denied.Status != 404 || len(denied.IDs) != 0 || denied.Outcome != "invalid" {
		t.Fatalf("out-of-compartment read record %+v", denied)
	}
	if anon == nil || anon.Count < 1 || anon.Outcome != "denied" || anon.ClientID != "" || anon.Interaction != "read" || anon.Path != "/fhir/Patient/1" {
		t.Fatalf("anonymous record %+v", anon)
	}
	var buf bytes.Buffer
	n, err := s.audit.Export(ctx, time.Time{}, &buf)
	if err != nil || n != len(recs) {
		t.Fatalf("export %d %v", n, err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if err := testutil.ValidateFHIR(t, "AuditEvent", line); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditFailsClosed: with the store gone, reads answer 503 instead of
// data and writes are refused before they happen; fail-open answers.
func TestAuditFailsClosed(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprint("failOpen=", failOpen), func(t *testing.T) {
			s := newSecure(t, secureOpts{route: "legacy", failOpen: failOpen})
			tok := s.token("system/*.cruds", "")
			s.wantStatus(s.as(tok, "GET", "/fhir/Patient/1", ""), 200, "before")
			s.ctl.Close() // the control store goes away
			r := s.as(tok, "GET", "/fhir/Patient/1", "")
			if !failOpen {
				s.wantStatus(r, 503, "read without audit")
				if bytes.Contains(r.raw, []byte(`"Patient"`)) {
					t.Fatalf("data leaked without an audit record: %s", r.raw)
				}
				s.wantStatus(s.as(tok, "DELETE", "/fhir/Patient/3", ""), 503, "delete without audit")
				s.wantStatus(s.as(s.token("system/*.rs", ""), "GET", "/fhir/Patient/3", ""), 503, "still failing")
			} else {
				s.wantStatus(r, 200, "fail open")
			}
		})
	}
}

// TestAuditKeepsCompletedWrite: when the store fails after a write was
// made, the client gets the true answer (a 503 would make it retry the
// create) and the record is kept and stored once the store is back; the
// next write, with the store known to be failing, is refused before it
// happens.
func TestAuditKeepsCompletedWrite(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	ctx := context.Background()
	tok := s.token("system/*.cruds", "")
	s.wantStatus(s.as(tok, "GET", "/fhir/Patient/1", ""), 200, "before")
	before := s.count()
	// a real fault in the real store: the chain head is gone
	if _, err := s.ctl.DB.ExecContext(ctx, "ALTER TABLE audit_head RENAME TO audit_head_away"); err != nil {
		t.Fatal(err)
	}
	created := s.as(tok, "POST", "/fhir/Patient", fmt.Sprintf(newPatient, 901))
	s.wantStatus(created, 201, "create while the audit store fails")
	loc := created.header.Get("Location")
	s.wantStatus(s.as(tok, "POST", "/fhir/Patient", fmt.Sprintf(newPatient, 902)), 503, "next write, store known failing")
	if _, err := s.ctl.DB.ExecContext(ctx, "ALTER TABLE audit_head_away RENAME TO audit_head"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.count() < before+1 {
		if time.Now().After(deadline) {
			t.Fatalf("the retained record was never stored (%d records)", s.count())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var found *audit.Record
	_ = s.audit.Each(ctx, time.Time{}, func(r *audit.Record) error {
		if r.Interaction == "create" && r.Status == 201 {
			found = r
		}
		return nil
	})
	if found == nil || len(found.IDs) != 1 || !strings.Contains(loc, found.IDs[0]+"/") {
		t.Fatalf("create record %+v for Location %s", found, loc)
	}
	rep, err := s.audit.Verify(ctx)
	if err != nil || rep.Problem != nil {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	if n := s.count(); n != before+1 {
		// the refused write's record could not be stored: it was refused
		// while the store failed, and nothing was changed
		t.Fatalf("%d records, want %d", n, before+1)
	}
}

// TestRateLimit: a client past its bucket gets 429 with Retry-After and an
// OperationOutcome; another client is unaffected.
func TestRateLimit(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", rateLimit: 2})
	tokA, tokB := s.token("system/*.rs", "a"), s.token("system/*.rs", "b")
	var limited resp
	for i := 0; i < 10 && limited.status == 0; i++ {
		if r := s.as(tokA, "GET", "/fhir/Patient/1", ""); r.status == 429 {
			limited = r
		}
	}
	s.wantStatus(limited, 429, "flood")
	if ra := limited.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	s.wantStatus(s.as(tokB, "GET", "/fhir/Patient/1", ""), 200, "other client")
}

// TestAdminScope: /admin needs the admin scope or role.
func TestAdminScope(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	r := s.do("GET", "/admin/routes", "")
	if r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
	if r := s.as(s.token("system/*.cruds", ""), "GET", "/admin/routes", ""); r.status != 403 {
		t.Fatalf("clinical scope on admin: %d %s", r.status, r.raw)
	}
	c := s.is.Claims("ops", "")
	c["roles"] = []string{"fhirfacade.admin"}
	req, _ := http.NewRequest("GET", s.srv.URL+"/admin/routes", nil)
	req.Header.Set("Authorization", "Bearer "+s.is.Token(t, c))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("admin role: %d", res.StatusCode)
	}
}

// TestConsoleMount: /admin/console is served outside the bearer-token
// /admin chain (the console signs its users in itself), while /admin/routes
// still needs a token; a console form posted from another origin or site
// is refused before the console sees it.
func TestConsoleMount(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	for _, c := range []struct {
		method, path string
		hdr          []string
		want         int
		body         string
	}{
		{"GET", "/admin/console", nil, 200, "console GET"},
		{"GET", "/admin/console/move/Patient", nil, 200, "console GET"},
		{"POST", "/admin/console/move/Patient", form, 200, "console POST"},
		{"POST", "/admin/console/move/Patient", append([]string{"Origin", "http://evil.example"}, form...), 403, "own origin"},
		{"POST", "/admin/console/move/Patient", append([]string{"Sec-Fetch-Site", "cross-site"}, form...), 403, "another site"},
		{"GET", "/admin/routes", nil, 401, ""},
	} {
		req, _ := http.NewRequest(c.method, s.srv.URL+c.path, strings.NewReader("a=b"))
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Set(c.hdr[i], c.hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want || !strings.Contains(string(raw), c.body) {
			t.Errorf("%s %s %v: %d %s, want %d with %q", c.method, c.path, c.hdr, res.StatusCode, raw, c.want, c.body)
		}
	}
}

// TestPageTokenBinding: a page token is only honoured for the principal
// that obtained it and the narrowed search it continues, on both backends
// (on the fhir route the cursor is the upstream server's own next link,
// which would otherwise answer the issuing principal's query as is).
func TestPageTokenBinding(t *testing.T) {
	for _, route := range []string{"legacy", "fhir"} {
		t.Run(route, func(t *testing.T) {
			s := newSecure(t, secureOpts{route: route})
			sys := s.token("system/*.*", "")
			first := s.as(sys, "GET", "/fhir/Observation?_count=2&_total=accurate", "")
			s.wantStatus(first, 200, "system search")
			next := link(first, "next")
			if next == "" {
				t.Fatal("fixture: no next link")
			}
			others := []struct{ name, tok string }{
				{"restricted user scope", s.token("user/Observation.rs?subject=Patient/3", "")},
				{"category restriction", s.token("user/Observation.rs?category=vital-signs", "")},
				{"patient scope", s.token("patient/Observation.rs", "3")},
				{"same scopes, another client", s.is.Token(t, s.is.Claims("someone-else", "system/*.*"))},
			}
			for _, o := range others {
				r := s.as(o.tok, "GET", next, "")
				s.wantStatus(r, 403, o.name+" replaying another principal's next link")
				if _, leaked := r.body["total"]; leaked || len(entries(r, "match")) > 0 {
					t.Fatalf("%s: the refusal carries data: %s", o.name, r.raw)
				}
			}
			// the principal that obtained it pages on
			s.wantStatus(s.as(sys, "GET", next, ""), 200, "own next link")

			// a restricted principal's own pages stay narrowed, total too
			restricted := s.token("user/Observation.rs?subject=Patient/3", "")
			want := s.as(sys, "GET", "/fhir/Observation?subject=Patient/3&_count=1000&_total=accurate", "")
			s.wantStatus(want, 200, "Patient/3's observations")
			r := s.as(restricted, "GET", "/fhir/Observation?_count=2&_total=accurate", "")
			seen := 0
			for page := 0; ; page++ {
				s.wantStatus(r, 200, fmt.Sprintf("restricted page %d", page))
				if r.body["total"] != want.body["total"] {
					t.Fatalf("page %d: total %v, want Patient/3's %v", page, r.body["total"], want.body["total"])
				}
				for _, res := range entries(r, "match") {
					seen++
					if ref := res["subject"].(map[string]any)["reference"]; ref != "Patient/3" {
						t.Fatalf("page %d: %v outside the restriction", page, ref)
					}
				}
				n := link(r, "next")
				if n == "" || page > 50 {
					break
				}
				r = s.as(restricted, "GET", n, "")
			}
			if float64(seen) != want.body["total"] {
				t.Fatalf("paged %d observations, want %v", seen, want.body["total"])
			}
			if strings.Contains(s.logs.String(), "outside the narrowed compartment") {
				t.Fatalf("a backend answered outside the narrowing: %s", s.logs.String())
			}
		})
	}
}

// rawRequest writes head (CRLF line ends added) and body on a connection of
// its own, then either closes it (the client goes away) or reads the
// answer; it returns the status (0 when it went away).
func (s *secure) rawRequest(head []string, body string, goAway bool) int {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(head, "\r\n") + "\r\n\r\n" + body)); err != nil {
		s.t.Fatal(err)
	}
	if goAway {
		return 0
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestRequestsAudited: every request that reached the server has its
// record — also those refused before any handler ran (oversized headers
// and bodies, unknown paths and methods, /admin outside its routes) and
// those whose client went away or whose body never came.
func TestRequestsAudited(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", readTimeout: 300 * time.Millisecond})
	tok := s.token("system/*.cruds", "")
	c := s.is.Claims("ops", "")
	c["roles"] = []string{"fhirfacade.admin"}
	admin := s.is.Token(t, c)
	status := func(r resp) int { return r.status }
	partial := []string{"POST /fhir/Patient HTTP/1.1", "Host: " + s.srv.Listener.Addr().String(), "Authorization: Bearer " + tok,
		"Content-Type: application/fhir+json", "Content-Length: 1000"}
	cases := []struct {
		name string
		do   func() int
		want int // 0: the client went away
	}{
		{"body over the limit (Content-Length)", func() int {
			return status(s.as(tok, "POST", "/fhir/Patient", `{"resourceType":"Patient","name":[{"family":"`+strings.Repeat("x", 2<<20)+`"}]}`))
		}, 413},
		{"chunked body over the limit", func() int {
			req, _ := http.NewRequest("POST", s.srv.URL+"/fhir/Patient", io.MultiReader(strings.NewReader(strings.Repeat(" ", 2<<20))))
			req.Header.Set("Content-Type", "application/fhir+json")
			req.Header.Set("Authorization", "Bearer "+tok)
			return status(s.send(req))
		}, 413},
		{"header over the limit", func() int {
			return status(s.as(tok, "GET", "/fhir/Patient/1", "", "X-Padding", strings.Repeat("p", 100<<10)))
		}, 431},
		{"/admin", func() int { return status(s.as(admin, "GET", "/admin", "")) }, 404},
		{"unknown path", func() int { return status(s.as(tok, "GET", "/nothing/here", "")) }, 404},
		{"unknown method", func() int { return status(s.as(tok, "PROPFIND", "/fhir/Patient", "")) }, 405},
		{"client went away mid-body", func() int { return s.rawRequest(partial, `{"resourceType":`, true) }, 0},
		{"body read timed out", func() int { return s.rawRequest(partial, `{"resourceType":`, false) }, 408},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			before := s.requests()
			if got := tc.do(); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			s.waitRequests(before + 1)
		})
	}
	s.t = t
	if rep, err := s.audit.Verify(context.Background()); err != nil || rep.Problem != nil {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// TestThrottledTrafficCounted: a flood of rate-limited and anonymous
// requests is counted, not recorded one by one: far fewer records than
// requests, whose counts sum to the requests; every answer to an
// authenticated request still has its own record; the chain verifies and
// the export says how many requests each AuditEvent stands for.
func TestThrottledTrafficCounted(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", rateLimit: 5})
	tok := s.token("system/*.rs", "")
	const n = 2000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	began := time.Now()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				req, _ := http.NewRequest("GET", s.srv.URL+"/fhir/Patient/1", nil)
				if i%2 == 1 {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				res, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	windows := int(time.Since(began)/time.Second) + 2
	s.waitRequests(n)
	records := int(s.count())
	t.Logf("%d requests %v in %s: %d audit records", n, statuses, time.Since(began).Round(time.Millisecond), records)
	// one record per 200; per window at most one per status and key
	// (the address for anonymous 401s and 429s, the client for its 429s)
	if bound := statuses[200] + 3*windows; records > bound || records > n/10 || statuses[429] == 0 {
		t.Fatalf("%d records for %d requests %v (at most %d)", records, n, statuses, bound)
	}
	ctx := context.Background()
	if rep, err := s.audit.Verify(ctx); err != nil || rep.Problem != nil {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	var throttled *audit.Record
	_ = s.audit.Each(ctx, time.Time{}, func(r *audit.Record) error {
		if r.Status == 429 && r.ClientID != "" && throttled == nil {
			throttled = r
		}
		return nil
	})
	if throttled == nil || throttled.ClientID != "client-user-" || throttled.Count < 1 {
		t.Fatalf("a throttled client's record does not name it: %+v", throttled)
	}
	var buf bytes.Buffer
	if _, err := s.audit.Export(ctx, time.Time{}, &buf); err != nil {
		t.Fatal(err)
	}
	exported := 0
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var ev struct {
			Entity []struct {
				Detail []struct{ Type, ValueString string } `json:"detail"`
			} `json:"entity"`
		}
		_ = json.Unmarshal(line, &ev)
		count := 1
		for _, e := range ev.Entity {
			for _, d := range e.Detail {
				if d.Type == "count" {
					_, _ = fmt.Sscan(d.ValueString, &count)
				}
			}
		}
		exported += count
	}
	if exported != n {
		t.Fatalf("the export stands for %d requests, want %d", exported, n)
	}
}

// TestLoggedValuesCapped: a client value that reaches a log line (a token
// header quoted in the refusal reason, the method, its request id) is
// capped there: a 40 KB value does not log 40 KB per request.
func TestLoggedValuesCapped(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	huge := strings.Repeat("k", 40<<10)
	cases := []struct {
		name, method, token string
		hdr                 []string
		want                int
	}{
		{"kid", "GET", s.is.SignHeaders(t, s.is.Claims("u", "system/*.rs"), map[string]any{"kid": huge}), nil, 401},
		{"iss", "GET", s.is.Token(t, map[string]any{"iss": huge, "aud": s.is.Audience, "exp": time.Now().Add(time.Hour).Unix()}), nil, 401},
		{"method", huge, s.token("system/*.rs", ""), nil, 405}, // an extension method on a route
		{"X-Request-Id", "GET", s.token("system/*.rs", ""), []string{"X-Request-Id", huge}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.logs.Reset()
			s.wantStatus(s.as(tc.token, tc.method, "/fhir/Patient/1", "", tc.hdr...), tc.want, tc.name)
			for _, line := range strings.Split(s.logs.String(), "\n") {
				if len(line) > 4096 {
					t.Fatalf("a log line of %d bytes: %.300s…", len(line), line)
				}
			}
		})
	}
}

// TestRequestIDServerSide: the request id is always the server's own; what
// a client sends as X-Request-Id is kept apart, capped, in the record and
// the export — a client cannot name its requests after someone else's.
func TestRequestIDServerSide(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	ctx := context.Background()
	tok := s.token("system/*.rs", "")
	last := func() *audit.Record {
		var rec *audit.Record
		_ = s.audit.Each(ctx, time.Time{}, func(r *audit.Record) error { rec = r; return nil })
		return rec
	}
	cases := []struct {
		name, sent, kept string
	}{
		{"none sent", "", ""},
		{"another request's id", "victim-request-1", "victim-request-1"},
		{"the same again", "victim-request-1", "victim-request-1"},
		{"text for the log", `a"b} {"level":"ERROR`, `a"b} {"level":"ERROR`},
		{"10 KB", strings.Repeat("r", 10<<10), strings.Repeat("r", 104) + "…(+10136 bytes)"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			var hdr []string
			if tc.sent != "" {
				hdr = []string{"X-Request-Id", tc.sent}
			}
			r := s.as(tok, "GET", "/fhir/Patient/1", "", hdr...)
			s.wantStatus(r, 200, tc.name)
			rid := r.header.Get("X-Request-Id")
			if len(rid) != 24 || rid == tc.sent || seen[rid] {
				t.Fatalf("request id %q (sent %.40q, seen before %v)", rid, tc.sent, seen[rid])
			}
			seen[rid] = true
			rec := last()
			if rec.RequestID != rid || rec.ClientRequestID != tc.kept {
				t.Fatalf("record request id %q, client's %.60q; want %q, %.60q", rec.RequestID, rec.ClientRequestID, rid, tc.kept)
			}
		})
	}
	s.t = t
	var buf bytes.Buffer
	if _, err := s.audit.Export(ctx, time.Time{}, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `{"type":"clientRequestId","valueString":"victim-request-1"}`) {
		t.Fatalf("the export does not carry the client's request id:\n%s", buf.String())
	}
}
