package facade

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// AnonymousActor is who the journal names for an /admin change made with
// FHIRFACADE_AUTH=off: whoever could reach the loopback listener.
const AnonymousActor = "anonymous@loopback"

// ActorHeader carries the authenticated caller to the /admin handlers (the
// facade removes any client-sent one): the journal's actor.
const ActorHeader = "X-Fhirfacade-Actor"

// adminAccess guards /admin: with auth on, the token must carry the
// configured admin scope or role; the caller it names is passed on as the
// journal's actor (ActorHeader).
type adminAccess struct {
	authOn bool
	access string // the scope or role (Config.AdminAccess)
}

func (a adminAccess) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		reqOf(c).interaction = "admin"
		// only the facade says who the caller is (ActorHeader)
		c.Request().Header.Del(ActorHeader)
		if !a.authOn {
			// no token to name anyone: the journal says so rather than
			// believe a name the request offers
			c.Request().Header.Set(ActorHeader, AnonymousActor)
			return next(c)
		}
		p := principal(c)
		if p == nil || !p.Has(a.access) {
			return httpErr(403, "forbidden", "administration needs the "+a.access+" scope or role")
		}
		// the journal's actor column holds 200 characters
		c.Request().Header.Set(ActorHeader, strings.ToValidUTF8(truncate(p.ClientID+"/"+p.User(), 200), ""))
		return next(c)
	}
}
