package testutil

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// The issuer's OpenID Connect authorization code flow with PKCE (S256),
// for the migration console's sign-in in tests: /authorize approves at
// once for the login set with SetLogin (no login form) and redirects back
// with a code; /token exchanges the code, once, for an access token (aud
// the facade, with the login's scope) and an ID token (aud the client,
// with the nonce). Unknown PKCE verifiers, reused codes and other
// redirect URIs are refused as a real issuer would.

// codeGrant is one issued authorization code.
type codeGrant struct {
	clientID, redirect, challenge, nonce, sub, scope string
	issued                                           time.Time
}

type oidcFlow struct {
	mu         sync.Mutex
	codes      map[string]codeGrant
	sub, scope string
}

// SetLogin names who the next sign-ins are and the scope their access
// token carries (default "console-admin" with "openid fhirfacade.admin").
func (is *Issuer) SetLogin(sub, scope string) {
	f := is.flow()
	f.mu.Lock()
	f.sub, f.scope = sub, scope
	f.mu.Unlock()
}

func (is *Issuer) flow() *oidcFlow {
	is.flowOnce.Do(func() {
		is.oidc = &oidcFlow{codes: map[string]codeGrant{}, sub: "console-admin", scope: "openid fhirfacade.admin"}
	})
	return is.oidc
}

func (is *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" || q.Get("response_type") != "code" || q.Get("client_id") == "" ||
		q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "authorization code with PKCE S256 only", http.StatusBadRequest)
		return
	}
	f := is.flow()
	code := rand.Text()
	f.mu.Lock()
	f.codes[code] = codeGrant{clientID: q.Get("client_id"), redirect: redirect.String(), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"),
		sub: f.sub, scope: f.scope, issued: time.Now()}
	f.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, "unsupported_grant_type")
		return
	}
	f := is.flow()
	f.mu.Lock()
	g, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code")) // one use
	f.mu.Unlock()
	client := r.PostForm.Get("client_id")
	if u, _, basic := r.BasicAuth(); basic {
		client = u
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if !ok || time.Since(g.issued) > time.Minute || client != g.clientID || r.PostForm.Get("redirect_uri") != g.redirect ||
		subtle.ConstantTimeCompare([]byte(challenge), []byte(g.challenge)) != 1 {
		tokenError(w, "invalid_grant")
		return
	}
	now := time.Now()
	access := map[string]any{"iss": is.URL, "aud": is.Audience, "sub": g.sub, "azp": g.clientID, "scope": g.scope,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	id := map[string]any{"iss": is.URL, "aud": g.clientID, "sub": g.sub, "nonce": g.nonce, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	at, err1 := is.signRS256(access)
	it, err2 := is.signRS256(id)
	if err1 != nil || err2 != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": at, "id_token": it, "token_type": "Bearer", "expires_in": 3600, "scope": g.scope})
}

func (is *Issuer) signRS256(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, is.rsaKid)
	_ = hdr.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), is.RSA, jws.WithProtectedHeaders(hdr)))
	return string(out), err
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}
