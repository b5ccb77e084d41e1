package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/facade"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkSMART validates the SMART settings; each error names its variable.
func (o *serveOpts) checkSMART() error {
	if len(splitList(o.issuer)) == 0 {
		return fmt.Errorf("FHIRFACADE_AUTH=smart needs FHIRFACADE_ISSUER (the token issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0)")
	}
	if len(splitList(o.audience)) == 0 {
		return fmt.Errorf("FHIRFACADE_AUTH=smart needs FHIRFACADE_AUDIENCE (the aud value tokens for this facade carry)")
	}
	if o.jwksURL == "" {
		return fmt.Errorf("FHIRFACADE_AUTH=smart needs FHIRFACADE_JWKS_URL (the issuer's signing keys)")
	}
	if err := secureURL(o.jwksURL); err != nil {
		return fmt.Errorf("FHIRFACADE_JWKS_URL: %w", err)
	}
	if o.jwksMaxAge < time.Minute || o.jwksMaxAge > 24*time.Hour {
		// under a minute the issuer is polled per burst of requests; over a
		// day a withdrawn key outlives any incident response
		return fmt.Errorf("FHIRFACADE_JWKS_MAX_AGE=%s: want 1m to 24h", o.jwksMaxAge)
	}
	for name, v := range map[string]string{"FHIRFACADE_AUTHORIZE_URL": o.authorizeURL, "FHIRFACADE_TOKEN_URL": o.tokenURL} {
		if v != "" {
			if err := secureURL(v); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if o.adminAccess == "" {
		return fmt.Errorf("FHIRFACADE_ADMIN_ACCESS: must name the scope or role administration needs")
	}
	return nil
}

// secureURL wants https, or http only to a loopback host (local issuers in
// tests and walkthroughs): keys fetched over plain HTTP can be swapped.
func secureURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil
	}
	return fmt.Errorf("%q: want https (http only on loopback)", raw)
}

// smart builds the token verifier and the smart-configuration document
// (nil, nil with FHIRFACADE_AUTH=off). The JWKS is fetched at start-up so a
// wrong URL fails now, not on the first patient's request.
func (o *serveOpts) smart(ctx context.Context) (facade.Authenticator, map[string]any, error) {
	if o.auth != "smart" {
		return nil, nil, nil
	}
	issuers := splitList(o.issuer)
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: issuers, Audiences: splitList(o.audience), JWKSURL: o.jwksURL, MaxAge: o.jwksMaxAge})
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.Refresh(fctx); err != nil {
		return nil, nil, fmt.Errorf("FHIRFACADE_JWKS_URL: %w", err)
	}
	authz, tok := o.authorizeURL, o.tokenURL
	if authz == "" || tok == "" {
		// OpenID discovery on the (first) issuer: Entra ID and most
		// authorization servers publish both endpoints there
		a, t, err := discover(fctx, issuers[0])
		if err != nil {
			return nil, nil, fmt.Errorf("FHIRFACADE_AUTHORIZE_URL/FHIRFACADE_TOKEN_URL unset and %w", err)
		}
		if authz == "" {
			authz = a
		}
		if tok == "" {
			tok = t
		}
	}
	doc := map[string]any{
		"issuer":                                issuers[0],
		"jwks_uri":                              o.jwksURL,
		"authorization_endpoint":                authz,
		"token_endpoint":                        tok,
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt", "client_secret_basic"},
		"scopes_supported": []string{"openid", "fhirUser", "launch/patient", "offline_access",
			"patient/*.rs", "user/*.cruds", "system/*.cruds", "patient/*.read", "user/*.read", "user/*.write", "system/*.read", "system/*.write"},
		"capabilities": []string{"launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
			"context-standalone-patient", "permission-patient", "permission-user", "permission-v1", "permission-v2", "sso-openid-connect"},
	}
	return v, doc, nil
}

func discover(ctx context.Context, issuer string) (string, string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := secureURL(u); err != nil {
		return "", "", fmt.Errorf("issuer discovery: %w", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", "", fmt.Errorf("issuer discovery at %s failed: %v", u, err)
	}
	defer res.Body.Close()
	var doc struct {
		Authorize string `json:"authorization_endpoint"`
		Token     string `json:"token_endpoint"`
	}
	if res.StatusCode != 200 || json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc) != nil || doc.Authorize == "" || doc.Token == "" {
		return "", "", fmt.Errorf("issuer discovery at %s gave no authorization and token endpoints (HTTP %d)", u, res.StatusCode)
	}
	return doc.Authorize, doc.Token, nil
}
