package testutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Issuer is a local OAuth issuer for tests: keys generated at test time, its
// JWKS and OpenID configuration served on loopback, tokens signed on demand.
type Issuer struct {
	URL      string // the issuer (iss) and base of its endpoints
	JWKSURL  string
	Audience string
	RSA      *rsa.PrivateKey
	EC       *ecdsa.PrivateKey
	// Fetches counts JWKS downloads.
	Fetches atomic.Int64

	rsaKid, ecKid string
	extra         atomic.Pointer[jwk.Key] // a key published after start (rotation)
	// Withdrawn stops publishing the RSA key (a compromised key removed).
	Withdrawn atomic.Bool

	flowOnce sync.Once
	oidc     *oidcFlow // the authorization code flow (oidc.go)
}

// NewIssuer starts an issuer that stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{RSA: rk, EC: ek, rsaKid: "rsa-1", ecKid: "ec-1", Audience: "https://facade.test/fhir"}
	// The URL is set before the server starts: its handler reads is.URL,
	// and writing it after Start is a data race with the first request.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(is.serve))
	is.URL = "http://" + srv.Listener.Addr().String()
	is.JWKSURL = is.URL + "/jwks"
	srv.Start()
	t.Cleanup(srv.Close)
	return is
}

func (is *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/jwks":
		is.Fetches.Add(1)
		set := jwk.NewSet()
		for _, k := range []struct {
			raw any
			kid string
			alg jwa.SignatureAlgorithm
		}{{&is.RSA.PublicKey, is.rsaKid, jwa.RS256()}, {&is.EC.PublicKey, is.ecKid, jwa.ES256()}} {
			if k.kid == is.rsaKid && is.Withdrawn.Load() {
				continue
			}
			key, err := jwk.Import(k.raw)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			_ = key.Set(jwk.KeyIDKey, k.kid)
			_ = key.Set(jwk.AlgorithmKey, k.alg)
			_ = set.AddKey(key)
		}
		if k := is.extra.Load(); k != nil {
			_ = set.AddKey(*k)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	case "/authorize":
		is.authorize(w, r)
	case "/token":
		is.token(w, r)
	case "/.well-known/openid-configuration":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "jwks_uri": is.JWKSURL,
			"authorization_endpoint": is.URL + "/authorize", "token_endpoint": is.URL + "/token",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "subject_types_supported": []string{"public"},
		})
	default:
		http.NotFound(w, r)
	}
}

// Claims returns valid claims for sub with scope, patient optional.
func (is *Issuer) Claims(sub, scope string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": is.URL, "aud": is.Audience, "sub": sub, "azp": "client-" + sub,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"scope": scope,
	}
}

// Token signs claims with RS256 under the published RSA key.
func (is *Issuer) Token(t testing.TB, claims map[string]any) string {
	return is.Sign(t, claims, jwa.RS256(), is.RSA, is.rsaKid)
}

// TokenES256 signs claims with ES256 under the published EC key.
func (is *Issuer) TokenES256(t testing.TB, claims map[string]any) string {
	return is.Sign(t, claims, jwa.ES256(), is.EC, is.ecKid)
}

// Sign signs claims with any algorithm, key and kid (for forged tokens).
func (is *Issuer) Sign(t testing.TB, claims map[string]any, alg jwa.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, kid)
	_ = hdr.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// SignHeaders signs claims with RS256 under the published RSA key, with
// protected header hdr as given (alg RS256 and kid rsa-1 unless hdr sets
// them; a nil value drops a header): a correctly signed token whose header
// says something else (crit, typ, a huge kid).
func (is *Issuer) SignHeaders(t testing.TB, claims map[string]any, hdr map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": "RS256", "kid": is.rsaKid}
	for k, v := range hdr {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, is.RSA, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// Unsigned is a token with alg "none".
func (is *Issuer) Unsigned(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+is.rsaKid+`"}`)) + "." + enc.EncodeToString(payload) + "."
}

// PublicPEM is the RSA public key in PEM (what an HS256 forgery uses as
// its "secret").
func (is *Issuer) PublicPEM(t testing.TB) []byte {
	der, err := x509.MarshalPKIXPublicKey(&is.RSA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Tamper swaps the payload of a signed token for claims, keeping the
// signature.
func Tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	payload, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// Rotate publishes a new RSA key under kid and returns it.
func (is *Issuer) Rotate(t testing.TB, kid string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.Import(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256())
	is.extra.Store(&pub)
	return k
}
