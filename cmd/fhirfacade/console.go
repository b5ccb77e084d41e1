package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/facade/console"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/tombstone"
)

// consoleOpts are the migration console's settings (FHIRFACADE_CONSOLE_*).
type consoleOpts struct {
	clientID, clientSecret, redirectURL, sessionKey, scopes string
}

func (c *consoleOpts) flags(f *pflag.FlagSet) {
	f.StringVar(&c.clientID, "console-client-id", "", "OIDC client id of the migration console at /admin/console (required with --auth=smart)")
	f.StringVar(&c.clientSecret, "console-client-secret", "", "OIDC client secret of the console (empty: a public client, PKCE only)")
	f.StringVar(&c.redirectURL, "console-redirect-url", "", "the console's OIDC redirect URL, https://HOST/admin/console/callback (required with --auth=smart)")
	f.StringVar(&c.scopes, "console-scopes", "", "scopes the console asks for besides openid, comma-separated (default: the --admin-access value)")
	f.StringVar(&c.sessionKey, "console-session-key", "", "base64 of 32 or 64 random bytes sealing console session cookies (default: random at start, so sessions end at restart and are not shared between replicas)")
}

// check validates the console settings; each error names its variable.
func (c *consoleOpts) check(auth string) error {
	if c.sessionKey != "" {
		k, err := base64.StdEncoding.DecodeString(c.sessionKey)
		if err != nil || (len(k) != 32 && len(k) != 64) {
			return fmt.Errorf("FHIRFACADE_CONSOLE_SESSION_KEY: want base64 of 32 or 64 random bytes (e.g. openssl rand -base64 64)")
		}
	}
	if auth != "smart" {
		return nil
	}
	if c.clientID == "" {
		return fmt.Errorf("FHIRFACADE_AUTH=smart needs FHIRFACADE_CONSOLE_CLIENT_ID (the console's OIDC client at the issuer)")
	}
	if c.redirectURL == "" {
		return fmt.Errorf("FHIRFACADE_AUTH=smart needs FHIRFACADE_CONSOLE_REDIRECT_URL (https://HOST/admin/console/callback, registered at the issuer)")
	}
	if err := secureURL(c.redirectURL); err != nil {
		return fmt.Errorf("FHIRFACADE_CONSOLE_REDIRECT_URL: %w", err)
	}
	return nil
}

// consoleParts are what serve built that the console reads.
type consoleParts struct {
	ctl          *control.Store
	routes       *routing.Store
	types        []string
	legacy, fhir backend.Backend // the facade's wrappers (tombstones kept)
	metrics      prometheus.Gatherer
	authn        facade.Authenticator // nil: auth off
	log          *slog.Logger
}

// buildConsole builds the migration console. With FHIRFACADE_AUTH=smart it
// signs users in at the issuer (discovered now, so a wrong issuer fails
// start-up); sync and parity run on the same bare backends the CLI uses.
func (o *serveOpts) buildConsole(ctx context.Context, p consoleParts) (*console.Console, error) {
	cfg := console.Config{Routes: p.routes, Ctl: p.ctl, Types: p.types, Legacy: tombstone.Bare(p.legacy), Metrics: p.metrics, Log: p.log, Jobs: ctx}
	if p.fhir != nil {
		cfg.FHIR = tombstone.Bare(p.fhir)
	}
	if o.console.sessionKey != "" {
		cfg.SessionKey, _ = base64.StdEncoding.DecodeString(o.console.sessionKey)
	} else {
		p.log.Info("console sessions are sealed with a key made at start: they end when the facade restarts (set FHIRFACADE_CONSOLE_SESSION_KEY to keep them, and on every replica)")
	}
	if o.auth == "smart" {
		scopes := splitList(o.console.scopes)
		if len(scopes) == 0 {
			scopes = []string{o.adminAccess}
		}
		oc, err := console.NewOIDC(ctx, console.OIDCSettings{Issuer: splitList(o.issuer)[0], ClientID: o.console.clientID, ClientSecret: o.console.clientSecret,
			RedirectURL: o.console.redirectURL, Scopes: scopes, AdminAccess: o.adminAccess, Verify: p.authn.Verify})
		if err != nil {
			return nil, fmt.Errorf("FHIRFACADE_ISSUER (console sign-in): %w", err)
		}
		cfg.OIDC = oc
	}
	c, err := console.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_CONSOLE_SESSION_KEY: %w", err)
	}
	return c, nil
}
