package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

func verifier(is *testutil.Issuer) *auth.Verifier {
	return auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL, RefreshEvery: time.Hour})
}

// TestVerifyMatrix: every way a token can be wrong gets ErrUnauthenticated;
// RS256 and ES256 tokens from the issuer pass.
func TestVerifyMatrix(t *testing.T) {
	is := testutil.NewIssuer(t)
	v := verifier(is)
	ctx := context.Background()
	good := func() map[string]any { return is.Claims("alice", "patient/Observation.rs") }
	with := func(k string, val any) map[string]any {
		c := good()
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	now := time.Now()
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256 valid", is.Token(t, good()), true},
		{"ES256 valid", is.TokenES256(t, good()), true},
		{"aud as list", is.Token(t, with("aud", []string{"other", is.Audience})), true},
		{"expired", is.Token(t, with("exp", now.Add(-5*time.Minute).Unix())), false},
		{"expired within skew", is.Token(t, with("exp", now.Add(-10*time.Second).Unix())), true},
		{"no exp", is.Token(t, with("exp", nil)), false},
		{"not yet valid", is.Token(t, with("nbf", now.Add(10*time.Minute).Unix())), false},
		{"wrong aud", is.Token(t, with("aud", "https://other.test/fhir")), false},
		{"no aud", is.Token(t, with("aud", nil)), false},
		{"wrong iss", is.Token(t, with("iss", "https://evil.test")), false},
		{"alg none", is.Unsigned(t, good()), false},
		{"HS256 keyed with the public key", is.Sign(t, good(), jwa.HS256(), is.PublicPEM(t), "rsa-1"), false},
		{"RS256 under the EC kid", is.Sign(t, good(), jwa.RS256(), is.RSA, "ec-1"), false},
		{"unknown kid", is.Sign(t, good(), jwa.RS256(), is.RSA, "nope"), false},
		{"tampered payload", testutil.Tamper(is.Token(t, good()), with("scope", "system/*.*")), false},
		{"garbage", "not.a.jwt", false},
		{"empty", "", false},
		{"RS512 not allowed", is.Sign(t, good(), jwa.RS512(), is.RSA, "rsa-1"), false},
		// the JOSE header: an extension the verifier does not implement must
		// not be ignored (RFC 7515 4.1.11), and only a JWT is a bearer token
		{"typ absent", is.SignHeaders(t, good(), nil), true},
		{"typ JWT", is.SignHeaders(t, good(), map[string]any{"typ": "JWT"}), true},
		{"typ jwt (case)", is.SignHeaders(t, good(), map[string]any{"typ": "jwt"}), true},
		{"typ at+jwt", is.SignHeaders(t, good(), map[string]any{"typ": "at+jwt"}), true},
		{"typ application/at+jwt", is.SignHeaders(t, good(), map[string]any{"typ": "application/AT+JWT"}), true},
		{"typ JWE", is.SignHeaders(t, good(), map[string]any{"typ": "JWE"}), false},
		{"typ id token", is.SignHeaders(t, good(), map[string]any{"typ": "secevent+jwt"}), false},
		{"typ not a string", is.SignHeaders(t, good(), map[string]any{"typ": 1}), false},
		{"crit unknown", is.SignHeaders(t, good(), map[string]any{"crit": []string{"foo"}, "foo": 1}), false},
		{"crit empty", is.SignHeaders(t, good(), map[string]any{"crit": []string{}}), false},
		{"crit b64", is.SignHeaders(t, good(), map[string]any{"crit": []string{"b64"}, "b64": true}), false},
		// time claims are NumericDates (RFC 7519 2): a string is not one
		{"exp as a string", is.Token(t, with("exp", fmt.Sprint(now.Add(time.Hour).Unix()))), false},
		{"exp as a date string", is.Token(t, with("exp", now.Add(time.Hour).Format(time.RFC3339))), false},
		{"nbf as a string", is.Token(t, with("nbf", fmt.Sprint(now.Add(-time.Hour).Unix()))), false},
		{"iat as a string", is.Token(t, with("iat", fmt.Sprint(now.Unix()))), false},
		{"exp as a boolean", is.Token(t, with("exp", true)), false},
		{"exp fractional", is.Token(t, with("exp", float64(now.Add(time.Hour).Unix())+0.5)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(ctx, tc.token)
			if tc.ok {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if p.Subject != "alice" || p.ClientID != "client-alice" || len(p.Grants) != 1 {
					t.Fatalf("principal %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("want ErrUnauthenticated, got %v", err)
			}
		})
	}
}

// TestRotation: a token under a newly published kid triggers one refetch;
// floods of unknown kids do not refetch within RefreshEvery.
func TestRotation(t *testing.T) {
	is := testutil.NewIssuer(t)
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL, RefreshEvery: time.Hour})
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.Token(t, is.Claims("a", ""))); err != nil {
		t.Fatal(err)
	}
	if n := is.Fetches.Load(); n != 1 {
		t.Fatalf("fetches %d", n)
	}
	for i := 0; i < 50; i++ {
		_, _ = v.Verify(ctx, is.Sign(t, is.Claims("a", ""), jwa.RS256(), is.RSA, "random"))
	}
	if n := is.Fetches.Load(); n != 1 {
		t.Fatalf("unknown kids caused %d fetches, want 1 (rate limited)", n)
	}
	// a fresh verifier (no recent fetch) picks up a rotated key
	v2 := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL, RefreshEvery: time.Millisecond})
	if _, err := v2.Verify(ctx, is.Token(t, is.Claims("a", ""))); err != nil {
		t.Fatal(err)
	}
	nk := is.Rotate(t, "rsa-2")
	time.Sleep(5 * time.Millisecond)
	if _, err := v2.Verify(ctx, is.Sign(t, is.Claims("a", ""), jwa.RS256(), nk, "rsa-2")); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
}

// TestEntraClaims: v1/v2 Entra tokens (scp, roles, oid, appid, fhirUser).
func TestEntraClaims(t *testing.T) {
	is := testutil.NewIssuer(t)
	v1 := "https://sts.windows.net/tenant/"
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL, v1}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL})
	c := is.Claims("s", "")
	delete(c, "scope")
	delete(c, "azp")
	c["iss"] = v1
	c["appid"] = "app-1"
	c["oid"] = "oid-1"
	c["scp"] = "patient.Observation.read openid"
	c["roles"] = []string{"fhirfacade.admin", "system/Patient.rs"}
	c["fhirUser"] = "https://facade.test/fhir/Patient/42"
	p, err := v.Verify(context.Background(), is.Token(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "app-1" || p.User() != "oid-1" || p.Patient != "42" || !p.Has("fhirfacade.admin") {
		t.Fatalf("%+v", p)
	}
	if len(p.Grants) != 2 || p.Grants[0].Context != "patient" || p.Grants[0].Letters != "rs" || p.Grants[1].Context != "system" {
		t.Fatalf("grants %+v", p.Grants)
	}
}

func TestParseScopes(t *testing.T) {
	cases := []struct {
		scope string
		want  *auth.Grant
	}{
		{"patient/Observation.read", &auth.Grant{Context: "patient", Type: "Observation", Letters: "rs"}},
		{"user/*.write", &auth.Grant{Context: "user", Type: "*", Letters: "cud"}},
		{"system/*.*", &auth.Grant{Context: "system", Type: "*", Letters: "cruds"}},
		{"patient/Observation.rs", &auth.Grant{Context: "patient", Type: "Observation", Letters: "rs"}},
		{"system/Patient.cruds", &auth.Grant{Context: "system", Type: "Patient", Letters: "cruds"}},
		{"user/Encounter.cd", &auth.Grant{Context: "user", Type: "Encounter", Letters: "cd"}},
		{"patient/Observation.rs?category=laboratory", &auth.Grant{Context: "patient", Type: "Observation", Letters: "rs", Restrict: url.Values{"category": {"laboratory"}}}},
		{"patient.all.read", &auth.Grant{Context: "patient", Type: "*", Letters: "rs"}},
		{"patient/Observation.sr", nil}, // out of order
		{"patient/Observation.x", nil},
		{"patient/Observation.", nil},
		{"doctor/Observation.read", nil},
		{"openid", nil},
		{"launch/patient", nil},
		{"fhirUser", nil},
		{"patient/Observation.cu?category=laboratory", nil}, // restricted writes grant nothing
		{"patient/Observation.rs?%zz", nil},
		// an empty restriction restricts nothing (a search ignores an empty
		// parameter): it must grant nothing, not everything
		{"user/Patient.rs?gender=", nil},
		{"user/Patient.rs?gender", nil},
		{"user/Patient.rs?gender=%20", nil},
		{"user/Patient.rs?=male", nil},
		{"user/Patient.rs?gender=male&", &auth.Grant{Context: "user", Type: "Patient", Letters: "rs", Restrict: url.Values{"gender": {"male"}}}},
		{"user/Patient.rs?gender=male&birthdate=", nil},
		{"user/Observation.rs?code=a,", nil},
		{"user/Observation.rs?code=a&code=", nil},
	}
	for _, tc := range cases {
		t.Run(tc.scope, func(t *testing.T) {
			got := auth.ParseScopes([]string{tc.scope})
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("granted %+v", got)
				}
				return
			}
			tc.want.Raw = tc.scope
			if len(got) != 1 || !reflect.DeepEqual(got[0], *tc.want) {
				t.Fatalf("got %+v want %+v", got, *tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	g := func(s ...string) []auth.Grant { return auth.ParseScopes(s) }
	cases := []struct {
		name    string
		grants  []auth.Grant
		typ     string
		letter  byte
		allowed bool
		filter  auth.Filter
		narrow  bool
	}{
		{"no grant", g("patient/Patient.rs"), "Observation", auth.Read, false, auth.Filter{}, false},
		{"read not search (v2)", g("patient/Observation.r"), "Observation", auth.Search, false, auth.Filter{}, false},
		{"v1 read covers search", g("patient/Observation.read"), "Observation", auth.Search, true, auth.Filter{Compartment: true}, false},
		{"v1 read does not write", g("user/Observation.read"), "Observation", auth.Create, false, auth.Filter{}, false},
		{"system unfiltered", g("system/*.*"), "Encounter", auth.Delete, true, auth.Filter{}, false},
		{"user wins over patient", g("patient/Observation.rs", "user/Observation.rs"), "Observation", auth.Search, true, auth.Filter{}, false},
		{"restriction", g("patient/Observation.rs?category=laboratory"), "Observation", auth.Search, true, auth.Filter{Compartment: true, Params: url.Values{"category": {"laboratory"}}}, false},
		{"restriction merged", g("patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=vital-signs"), "Observation", auth.Search, true, auth.Filter{Compartment: true, Params: url.Values{"category": {"laboratory,vital-signs"}}}, false},
		{"compartment-only dominates restricted compartment", g("patient/Observation.rs?category=laboratory", "patient/Observation.rs"), "Observation", auth.Search, true, auth.Filter{Compartment: true}, false},
		{"restricted user + unrestricted patient: one applied, narrowed", g("user/Observation.rs?category=laboratory", "patient/Observation.rs"), "Observation", auth.Search, true, auth.Filter{Params: url.Values{"category": {"laboratory"}}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := auth.Decide(tc.grants, tc.typ, tc.letter)
			if d.Allowed != tc.allowed || d.Narrowed != tc.narrow || d.Filter.Compartment != tc.filter.Compartment || !reflect.DeepEqual(len(d.Filter.Params), len(tc.filter.Params)) {
				t.Fatalf("got %+v", d)
			}
			for k, v := range tc.filter.Params {
				if !reflect.DeepEqual(d.Filter.Params[k], v) {
					t.Fatalf("params %v want %v", d.Filter.Params, tc.filter.Params)
				}
			}
		})
	}
}

// BenchmarkVerify: a full RS256 validation, and a repeat of a token
// already validated (the cache).
func BenchmarkVerify(b *testing.B) {
	is := testutil.NewIssuer(b)
	tok := is.Token(b, is.Claims("alice", "system/*.rs"))
	ctx := context.Background()
	for _, ttl := range []time.Duration{-1, 0} {
		b.Run(map[time.Duration]string{-1: "uncached", 0: "cached"}[ttl], func(b *testing.B) {
			v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL, CacheTTL: ttl})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCacheHonoursExpiry: a cached token stops working at its exp (plus
// skew), like an uncached one.
func TestCacheHonoursExpiry(t *testing.T) {
	is := testutil.NewIssuer(t)
	now := time.Now()
	clock := now
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL,
		Skew: time.Second, Now: func() time.Time { return clock }})
	c := is.Claims("a", "system/*.rs")
	c["exp"] = now.Add(time.Minute).Unix()
	tok := is.Token(t, c)
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	clock = now.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("expired cached token: %v", err)
	}
}

// TestWithdrawnKey: once the JWKS is older than MaxAge it is fetched again,
// and a key the issuer no longer publishes stops validating tokens — also
// tokens already in the cache, which are checked again in full whenever
// the keys were refetched or have grown stale.
func TestWithdrawnKey(t *testing.T) {
	for _, c := range []struct {
		name  string
		cache time.Duration
	}{{"no cache", -1}, {"cache", 5 * time.Minute}} {
		t.Run(c.name, func(t *testing.T) {
			is := testutil.NewIssuer(t)
			now := time.Now()
			clock := now
			v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL,
				CacheTTL: c.cache, MaxAge: time.Hour, Now: func() time.Time { return clock }})
			claims := is.Claims("a", "system/*.rs")
			claims["exp"] = now.Add(3 * time.Hour).Unix()
			tok := is.Token(t, claims)
			for range 2 { // the second is served from the cache when there is one
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Fatal(err)
				}
			}
			is.Withdrawn.Store(true)
			clock = now.Add(30 * time.Minute)
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatalf("within MaxAge the fetched set is trusted: %v", err)
			}
			clock = now.Add(2 * time.Hour)
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("withdrawn key still accepted: %v", err)
			}
		})
	}
}

// TestCacheFollowsRefetch: a refetch of the keys (here caused by a token
// under a new key id) ends the cache's trust in tokens checked before it,
// so a withdrawn key stops working as soon as the issuer's keys are read
// again, not MaxAge later.
func TestCacheFollowsRefetch(t *testing.T) {
	is := testutil.NewIssuer(t)
	now := time.Now()
	clock := now
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL,
		MaxAge: time.Hour, Now: func() time.Time { return clock }})
	tok := is.Token(t, is.Claims("a", "system/*.rs"))
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	is.Withdrawn.Store(true)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("cached, keys not yet refetched: %v", err)
	}
	clock = now.Add(time.Minute) // past the unknown-kid refetch limit
	if _, err := v.Verify(context.Background(), is.TokenES256(t, is.Claims("b", "system/*.rs"))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), is.Sign(t, is.Claims("c", "system/*.rs"), jwa.ES256(), is.EC, "rotated-kid")); err == nil {
		t.Fatal("unknown kid accepted")
	}
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("cached token of a withdrawn key accepted after the keys were refetched: %v", err)
	}
}

// TestRefusalReasonIsBounded: the reason a token is refused is logged, and
// it quotes values from the token; a 600 KB kid, typ, iss or aud must not
// make it 600 KB.
func TestRefusalReasonIsBounded(t *testing.T) {
	is := testutil.NewIssuer(t)
	v := verifier(is)
	huge := strings.Repeat("k", 600<<10)
	claims := func(k, val string) map[string]any {
		c := is.Claims("alice", "system/*.rs")
		c[k] = val
		return c
	}
	cases := []struct{ name, token string }{
		{"kid", is.SignHeaders(t, is.Claims("alice", "system/*.rs"), map[string]any{"kid": huge})},
		{"typ", is.SignHeaders(t, is.Claims("alice", "system/*.rs"), map[string]any{"typ": huge})},
		{"iss", is.Token(t, claims("iss", huge))},
		{"aud", is.Token(t, claims("aud", huge))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("want ErrUnauthenticated, got %.200v", err)
			}
			if n := len(err.Error()); n > 1024 {
				t.Fatalf("refusal reason of %d bytes: %.200s…", n, err)
			}
		})
	}
}
