package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

// Sentinel errors. ErrUnauthenticated wraps every reason a token is refused
// (the reason is for logs; clients get one generic 401 so the refusal does
// not teach an attacker which check failed).
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrJWKS            = errors.New("jwks unavailable")
)

// Principal is who a validated token speaks for.
type Principal struct {
	Issuer   string
	ClientID string // azp, appid or client_id
	Subject  string // sub
	OID      string // Entra object id
	FHIRUser string // fhirUser claim
	Patient  string // the SMART launch patient (patient claim, or a Patient fhirUser)
	Scopes   []string
	Roles    []string
	Grants   []Grant
}

// User is the best user identifier the token carries.
func (p *Principal) User() string {
	if p.OID != "" {
		return p.OID
	}
	return p.Subject
}

// Has reports whether the token carries value as a scope or a role.
func (p *Principal) Has(value string) bool {
	for _, s := range p.Scopes {
		if s == value {
			return true
		}
	}
	for _, r := range p.Roles {
		if r == value {
			return true
		}
	}
	return false
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	Issuers   []string // accepted iss values (Entra v1 and v2 issuers differ)
	Audiences []string // accepted aud values (one must be in the token's aud)
	JWKSURL   string
	// Skew is the clock leeway on exp/nbf/iat (default 60s).
	Skew time.Duration
	// RefreshEvery bounds JWKS fetches caused by unknown key ids (default
	// one per 30s): a flood of tokens with random kids cannot turn the
	// facade into a load generator against the issuer.
	RefreshEvery time.Duration
	HTTPClient   *http.Client
	Now          func() time.Time
	// CacheTTL keeps a validated token's Principal this long (default 5
	// min, never past the token's exp; negative: no cache). Verifying an
	// RS256 signature costs ~60 µs of CPU, and a client sends the same
	// token for its whole lifetime. A cached token is checked again in full
	// once the JWKS it was checked against changes or grows older than
	// MaxAge, so a withdrawn key is not kept alive by the cache.
	CacheTTL  time.Duration
	CacheSize int // entries (default 10,000)
	// MaxAge is how long a fetched JWKS is trusted before it is fetched
	// again (default 1 h), so a key the issuer withdraws stops working; if
	// the refetch fails the old set is kept (the issuer being briefly
	// unreachable must not lock every client out).
	MaxAge time.Duration
}

// Verifier validates bearer JWTs. It is safe for concurrent use.
type Verifier struct {
	cfg VerifierConfig

	mu        sync.Mutex
	set       jwk.Set
	lastFetch time.Time // last attempt
	fetched   time.Time // last success

	// gen counts successful fetches and fetchedAt is the newest one's
	// time (unix ns), read without the lock on the cached path.
	gen       atomic.Uint64
	fetchedAt atomic.Int64

	cache *expirable.LRU[string, cached]
}

type cached struct {
	p        *Principal
	nbf, exp time.Time
	gen      uint64 // the JWKS fetch the signature was checked against
}

// allowed is the algorithm allow-list: asymmetric only. "none" and HMAC are
// never accepted (HS256 with the issuer's public key as the secret is the
// classic forgery).
var allowed = map[string]jwa.KeyType{
	jwa.RS256().String(): jwa.RSA(),
	jwa.ES256().String(): jwa.EC(),
}

// NewVerifier builds a Verifier; the JWKS is fetched on first use.
func NewVerifier(cfg VerifierConfig) *Verifier {
	if cfg.Skew <= 0 {
		cfg.Skew = 60 * time.Second
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	v := &Verifier{cfg: cfg}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.CacheTTL > 0 {
		v.cache = expirable.NewLRU[string, cached](cfg.CacheSize, nil, cfg.CacheTTL)
	}
	v.cfg = cfg
	return v
}

// Refresh fetches the JWKS now (start-up uses it to fail early).
func (v *Verifier) Refresh(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fetchLocked(ctx)
}

func (v *Verifier) fetchLocked(ctx context.Context) error {
	v.lastFetch = v.cfg.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%w: HTTP %d", ErrJWKS, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	v.set = set
	v.fetched = v.cfg.Now()
	v.fetchedAt.Store(v.fetched.UnixNano())
	v.gen.Add(1)
	return nil
}

// key finds the key for kid, refetching the JWKS (at most once per
// RefreshEvery) when the kid is unknown: issuers rotate keys and publish the
// new one before signing with it.
func (v *Verifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.set != nil && v.cfg.Now().Sub(v.fetched) > v.cfg.MaxAge && v.cfg.Now().Sub(v.lastFetch) >= v.cfg.RefreshEvery {
		// stale: refetch; on failure keep the old set until the next try
		old := v.set
		if err := v.fetchLocked(ctx); err != nil {
			v.set = old
		}
	}
	if v.set != nil {
		if k, ok := v.set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	if v.set != nil && v.cfg.Now().Sub(v.lastFetch) < v.cfg.RefreshEvery {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrUnauthenticated, logcap.String(kid))
	}
	if err := v.fetchLocked(ctx); err != nil {
		return nil, err
	}
	if k, ok := v.set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key id %q", ErrUnauthenticated, logcap.String(kid))
}

// Verify validates a compact JWS bearer token and returns its Principal
// (shared between calls for the same token: callers must not modify it).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if v.cache != nil {
		if c, ok := v.cache.Get(raw); ok {
			// the signature, iss and aud were checked when it was cached,
			// against the keys of fetch c.gen; the time window is checked
			// on every use. New keys or stale keys: check it all again
			// (the full check refetches stale keys, and a withdrawn key
			// then fails it).
			now := v.cfg.Now()
			fresh := c.gen == v.gen.Load() && now.Sub(time.Unix(0, v.fetchedAt.Load())) <= v.cfg.MaxAge
			if fresh && now.Before(c.exp.Add(v.cfg.Skew)) && !now.Before(c.nbf.Add(-v.cfg.Skew)) {
				return c.p, nil
			}
			v.cache.Remove(raw)
		}
	}
	gen := v.gen.Load() // before the check: a fetch during it makes the entry stale, never falsely fresh
	p, exp, nbf, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.Add(raw, cached{p: p, exp: exp, nbf: nbf, gen: gen})
	}
	return p, nil
}

func (v *Verifier) verify(ctx context.Context, raw string) (*Principal, time.Time, time.Time, error) {
	provider := jws.KeyProviderFunc(func(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		h := sig.ProtectedHeaders()
		if err := checkHeader(h); err != nil {
			return err
		}
		alg, ok := h.Algorithm()
		if !ok {
			return fmt.Errorf("%w: no alg", ErrUnauthenticated)
		}
		kty, ok := allowed[alg.String()]
		if !ok {
			return fmt.Errorf("%w: algorithm %q is not allowed", ErrUnauthenticated, alg.String())
		}
		kid, ok := h.KeyID()
		if !ok || kid == "" {
			return fmt.Errorf("%w: no kid", ErrUnauthenticated)
		}
		k, err := v.key(ctx, kid)
		if err != nil {
			return err
		}
		if k.KeyType() != kty {
			return fmt.Errorf("%w: key %q is %s, token says %s", ErrUnauthenticated, logcap.String(kid), k.KeyType(), alg)
		}
		if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
			return fmt.Errorf("%w: key %q is for %s, token says %s", ErrUnauthenticated, logcap.String(kid), ka, alg)
		}
		sink.Key(alg, k)
		return nil
	})
	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKeyProvider(provider),
		jwt.WithContext(ctx),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(v.cfg.Skew),
		jwt.WithClock(jwt.ClockFunc(v.cfg.Now)),
		jwt.WithRequiredClaim("exp"),
	)
	if err != nil {
		if errors.Is(err, ErrJWKS) {
			return nil, time.Time{}, time.Time{}, err
		}
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if err := numericTimes(raw); err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	iss, _ := tok.Issuer()
	if !contains(v.cfg.Issuers, iss) {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: issuer %q is not accepted", ErrUnauthenticated, logcap.String(iss))
	}
	auds, _ := tok.Audience()
	ok := false
	for _, a := range auds {
		ok = ok || contains(v.cfg.Audiences, a)
	}
	if !ok {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: audience %s is not accepted", ErrUnauthenticated, logcap.String(fmt.Sprintf("%q", auds)))
	}
	p := &Principal{Issuer: iss}
	p.Subject, _ = tok.Subject()
	p.OID = claimString(tok, "oid")
	p.ClientID = firstNonEmpty(claimString(tok, "azp"), claimString(tok, "appid"), claimString(tok, "client_id"), p.Subject)
	p.FHIRUser = claimString(tok, "fhirUser")
	p.Patient = claimString(tok, "patient")
	if p.Patient == "" {
		// Entra ID launches carry the patient as fhirUser (…/Patient/123)
		if i := strings.LastIndex(p.FHIRUser, "Patient/"); i >= 0 && (i == 0 || p.FHIRUser[i-1] == '/') {
			p.Patient = p.FHIRUser[i+len("Patient/"):]
		}
	}
	p.Scopes = append(strings.Fields(claimString(tok, "scope")), strings.Fields(claimString(tok, "scp"))...)
	p.Roles = claimStrings(tok, "roles")
	p.Grants = ParseScopes(append(append([]string(nil), p.Scopes...), p.Roles...))
	exp, _ := tok.Expiration()
	nbf, _ := tok.NotBefore()
	return p, exp, nbf, nil
}

// bearerTypes are the JOSE typ values of an access token: a plain JWT
// (RFC 7519 5.1) or a JWT access token (RFC 9068 2.1); compared without
// regard to case, with or without the "application/" prefix.
var bearerTypes = map[string]bool{"jwt": true, "at+jwt": true}

// checkHeader refuses a JOSE header this verifier cannot honour: any crit
// (RFC 7515 4.1.11: a recipient that does not implement a listed extension
// must reject the token, and none is implemented here), and a typ that
// says the token is not an access token (a JWE, a logout or event token,
// an ID token profile) — a signature alone does not make it a bearer token.
func checkHeader(h jws.Headers) error {
	if h.Has(jws.CriticalKey) {
		return fmt.Errorf("%w: crit header (extensions this server does not implement)", ErrUnauthenticated)
	}
	if !h.Has(jws.TypeKey) {
		return nil
	}
	typ, ok := h.Type()
	if !ok || !bearerTypes[strings.TrimPrefix(strings.ToLower(typ), "application/")] {
		return fmt.Errorf("%w: typ %q is not a JWT access token", ErrUnauthenticated, logcap.String(typ))
	}
	return nil
}

// timeClaims are the NumericDate claims (RFC 7519 2, 4.1.4-4.1.6).
var timeClaims = []string{"exp", "nbf", "iat"}

// numericTimes refuses a token whose exp, nbf or iat is not a JSON number:
// the JWT library reads "exp":"1900000000" as a date too, and a token an
// issuer did not write as the standard says is not one to trust. It reads
// the payload of a token whose signature already verified.
func numericTimes(raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: not a compact JWS", ErrUnauthenticated)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: payload is not base64url", ErrUnauthenticated)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return fmt.Errorf("%w: payload is not a JSON object", ErrUnauthenticated)
	}
	for _, name := range timeClaims {
		v, ok := claims[name]
		if !ok {
			continue
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil || len(v) == 0 || v[0] == '"' {
			return fmt.Errorf("%w: %s is not a NumericDate", ErrUnauthenticated, name)
		}
	}
	return nil
}

func claimString(tok jwt.Token, name string) string {
	var v any
	if err := tok.Get(name, &v); err != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any: // scope as a JSON array (some issuers)
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func claimStrings(tok jwt.Token, name string) []string {
	var v any
	if err := tok.Get(name, &v); err != nil {
		return nil
	}
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s && s != "" {
			return true
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
