package facade

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

// Authenticator validates a bearer token (auth.Verifier in production).
type Authenticator interface {
	Verify(ctx context.Context, token string) (*auth.Principal, error)
}

// authn is the authentication middleware: it validates the bearer token,
// names the request's principal, and rate-limits by client. With no
// Authenticator (FHIRFACADE_AUTH=off, loopback only) every request passes
// as an anonymous principal, rate-limited by address.
type authn struct {
	auth  Authenticator // nil: auth off
	limit *limiter      // nil: unlimited
	log   *slog.Logger
}

func (a *authn) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sub := subOf(c); sub != nil {
			// a Bundle entry: its Bundle's token was verified and counted
			// once; the entry acts as the same principal
			reqOf(c).principal = sub.principal
			return next(c)
		}
		if a.auth == nil {
			if err := a.limit.check(c, "ip:"+remoteHost(c)); err != nil {
				return err
			}
			return next(c)
		}
		raw, ok := bearer(c.Request().Header.Get("Authorization"))
		var p *auth.Principal
		var err error
		if ok {
			p, err = a.auth.Verify(c.Request().Context(), raw)
		}
		key := "ip:" + remoteHost(c)
		if p != nil {
			key = "client:" + p.ClientID
			// before the rate check: a throttled client's refusals are
			// counted under its client id, not only its address
			reqOf(c).principal = p
		}
		if err := a.limit.check(c, key); err != nil {
			return err
		}
		switch {
		case !ok:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fhirfacade"`)
			return httpErr(401, "login", "a bearer token is required (Authorization: Bearer …)")
		case errors.Is(err, auth.ErrJWKS):
			return &HTTPError{Status: 503, Code: "transient", Msg: "the token issuer's keys cannot be fetched; retry later", Err: err}
		case err != nil:
			// one message for every reason: the log has the detail, the
			// client learns nothing about which check failed
			a.log.Info("token refused", slog.String("request_id", requestID(c)), logcap.Attr("reason", err.Error()))
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fhirfacade", error="invalid_token"`)
			reqOf(c).setDetail("invalid token")
			return httpErr(401, "login", "the bearer token is not valid")
		}
		return next(c)
	}
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
