package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/runs"
)

// OIDC is the console's sign-in: OpenID Connect authorization code with
// PKCE (coreos/go-oidc for discovery and ID token checks, x/oauth2 for the
// code exchange and PKCE — both widely used and kept). The access token
// is then checked by the facade's own verifier (issuer, audience, keys)
// and must carry the admin scope or role, the check /admin makes.
type OIDC struct {
	oauth    oauth2.Config
	idVerify *oidc.IDTokenVerifier
	// Verify checks an access token as the API does (facade.Authenticator).
	Verify func(ctx context.Context, token string) (*auth.Principal, error)
	// AdminAccess is the scope or role every console page needs
	// (FHIRFACADE_ADMIN_ACCESS).
	AdminAccess string
}

// OIDCSettings are the FHIRFACADE_CONSOLE_* and issuer settings.
type OIDCSettings struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	Scopes                                      []string
	AdminAccess                                 string
	Verify                                      func(ctx context.Context, token string) (*auth.Principal, error)
}

// NewOIDC discovers the issuer's endpoints (so a wrong issuer fails at
// start-up) and builds the sign-in.
func NewOIDC(ctx context.Context, s OIDCSettings) (*OIDC, error) {
	p, err := oidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID discovery at %s: %w", s.Issuer, err)
	}
	scopes := append([]string{oidc.ScopeOpenID}, s.Scopes...)
	return &OIDC{
		oauth:       oauth2.Config{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: s.RedirectURL, Endpoint: p.Endpoint(), Scopes: scopes},
		idVerify:    p.Verifier(&oidc.Config{ClientID: s.ClientID}),
		Verify:      s.Verify,
		AdminAccess: s.AdminAccess,
	}, nil
}

// login starts the code flow: state, nonce and the PKCE verifier go into
// the one-use login cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	o := c.cfg.OIDC
	if o == nil {
		http.Redirect(w, r, Base, http.StatusSeeOther)
		return
	}
	l := &loginState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.URL.Query().Get("next"))}
	if err := c.session.writeLogin(w, l); err != nil {
		c.fail(w, r, http.StatusInternalServerError, "the sign-in could not be started")
		return
	}
	http.Redirect(w, r, o.oauth.AuthCodeURL(l.State, oidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(l.Verifier)), http.StatusSeeOther)
}

// callback finishes the code flow and opens the session of an
// administrator; anyone else is refused.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	o := c.cfg.OIDC
	if o == nil {
		http.NotFound(w, r)
		return
	}
	l, err := c.session.readLogin(w, r)
	if err != nil || r.URL.Query().Get("state") != l.State {
		c.fail(w, r, http.StatusBadRequest, "this sign-in was not started here or has expired: sign in again")
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		c.fail(w, r, http.StatusUnauthorized, "the issuer refused the sign-in ("+e+")")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	tok, err := o.oauth.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(l.Verifier))
	if err != nil {
		c.cfg.Log.Warn("console sign-in: code exchange failed", "error", err.Error())
		c.fail(w, r, http.StatusUnauthorized, "the issuer did not exchange the code")
		return
	}
	s, who, status, msg := c.admit(ctx, tok, l.Nonce)
	// sign-ins are audited, refused ones too (no token text: names only)
	_ = runs.Audit(r.Context(), c.cfg.Ctl, runs.Actor{User: who.User(), ClientID: who.ClientID, Source: "console"}, "console-sign-in", "", s == nil,
		map[bool]string{true: "signed in", false: "refused: " + msg}[s != nil])
	if s == nil {
		c.fail(w, r, status, msg)
		return
	}
	if err := c.session.write(w, s); err != nil {
		c.fail(w, r, http.StatusInternalServerError, "the session could not be sealed")
		return
	}
	// a page, not a redirect: the browser sends the SameSite=Strict cookie
	// only on a navigation that starts on this site, and this response
	// ends a chain the issuer started
	http.Redirect(w, r, Base+"/signed-in?next="+urlQuery(l.Next), http.StatusSeeOther)
}

// admit checks the ID token (signature, audience, expiry, the nonce of
// this sign-in) and the access token (the API's verifier) and makes the
// session of an administrator; otherwise the status and reason to answer.
// It also returns whom the tokens named (for the audit record).
func (c *Console) admit(ctx context.Context, tok *oauth2.Token, nonce string) (*session, *auth.Principal, int, string) {
	o := c.cfg.OIDC
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &auth.Principal{}, http.StatusUnauthorized, "the issuer returned no ID token"
	}
	idt, err := o.idVerify.Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		// the nonce ties the ID token to the sign-in this browser started
		return nil, &auth.Principal{}, http.StatusUnauthorized, "the ID token is not valid"
	}
	p, err := o.Verify(ctx, tok.AccessToken)
	if err != nil {
		return nil, &auth.Principal{Subject: idt.Subject}, http.StatusUnauthorized, "the access token is not valid for this facade"
	}
	if !p.Has(o.AdminAccess) {
		// the same check /admin makes (facade adminAccess)
		return nil, p, http.StatusForbidden, "the console needs the " + o.AdminAccess + " scope or role"
	}
	exp := time.Now().Add(sessionMax)
	if !tok.Expiry.IsZero() && tok.Expiry.Before(exp) {
		exp = tok.Expiry
	}
	return &session{SID: randomToken(), User: p.User(), ClientID: p.ClientID, CSRF: randomToken(), Expires: exp, OIDC: true}, p, 0, ""
}

// signedIn sends the browser on from a page of this site (see callback).
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signedin", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// logout ends the session here and in the control store: clearing the
// cookie alone would leave any copy of it valid until it expires.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.session.clear(w)
	if err := c.cfg.Ctl.RevokeConsoleSession(r.Context(), sidHash(s.SID), s.Expires); err != nil {
		c.cfg.Log.Error("console: sign-out not recorded", "user", s.User, "error", err.Error())
		c.fail(w, r, http.StatusServiceUnavailable, "signed out in this browser, but the control store did not record it: sign out again")
		return
	}
	next := Base + "/login"
	if c.cfg.OIDC == nil {
		next = Base
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
