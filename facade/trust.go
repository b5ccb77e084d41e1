package facade

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// What the facade trusts of a request's own description of itself: the
// Host it names, the Origin of the page that sent it, and the forwarding
// headers a proxy adds. None of them is used to build a URL: every absolute
// URL comes from the configured public base URL.

// hostRule is one host the API answers for; port "" is any port.
type hostRule struct{ name, port string }

// ParseBaseURL checks a public base URL (FHIRFACADE_BASE_URL): absolute
// http or https, with a host and without user info, query or fragment. It
// returns the URL without a trailing slash.
func ParseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: want an absolute http:// or https:// URL", raw)
	case u.Opaque != "" || u.Hostname() == "" || !validHostName(u.Hostname()):
		return "", fmt.Errorf("%q: want a host name or address after the scheme", raw)
	case u.User != nil:
		return "", fmt.Errorf("%q: user info is not allowed", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return "", fmt.Errorf("%q: a query or fragment is not allowed", raw)
	case u.Port() != "" && !validPort(u.Port()):
		return "", fmt.Errorf("%q: bad port", raw)
	}
	u.Host = strings.ToLower(u.Host)
	return strings.TrimRight(u.String(), "/"), nil
}

// ParseAllowedHosts checks host names the API also answers for
// (FHIRFACADE_ALLOWED_HOSTS): each "name" (any port) or "name:port".
func ParseAllowedHosts(entries []string) error {
	for _, e := range entries {
		if _, err := parseHostRule(e); err != nil {
			return err
		}
	}
	return nil
}

func parseHostRule(e string) (hostRule, error) {
	u, err := url.Parse("//" + e)
	if err != nil || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || !validHostName(u.Hostname()) {
		return hostRule{}, fmt.Errorf("%q: want a host name or address, optionally with :port", e)
	}
	if u.Port() != "" && !validPort(u.Port()) {
		return hostRule{}, fmt.Errorf("%q: bad port", e)
	}
	return hostRule{name: normName(u.Hostname()), port: u.Port()}, nil
}

// ParseTrustedProxies checks the proxies whose forwarding headers are
// believed (FHIRFACADE_TRUSTED_PROXIES): CIDRs or single addresses. A
// prefix of length 0 would trust every peer, and is refused.
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil {
				return nil, fmt.Errorf("%q: want a CIDR such as 10.0.0.0/8 or an address", e)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q would trust every peer's forwarding headers", e)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}

// normName is a host name as compared: lower case, no brackets around an
// IPv6 address, no trailing dot.
func normName(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// hostRules are the hosts the API answers for: the base URL's, then the
// configured ones. The configuration was checked by serve; a bad entry
// here is a programming error.
func hostRules(base string, extra []string) []hostRule {
	u, _ := url.Parse(base)
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	rules := []hostRule{{name: normName(u.Hostname()), port: port}}
	for _, e := range extra {
		r, err := parseHostRule(e)
		if err != nil {
			panic("facade: AllowedHosts: " + err.Error())
		}
		rules = append(rules, r)
	}
	return rules
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// allowedHost: a Host without a port is what a browser sends for the
// scheme's default port, 80 or 443 (TLS may end at a proxy).
func (s *Server) allowedHost(name, port string) bool {
	for _, r := range s.hosts {
		if r.name == name && (r.port == "" || r.port == port || port == "" && (r.port == "80" || r.port == "443")) {
			return true
		}
	}
	return false
}

// checkHost answers 421 to a request for a host this server is not: a page
// on attacker.example whose name was re-pointed at this address (DNS
// rebinding) must not read or change anything through a visitor's browser.
func (s *Server) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if subOf(c) != nil {
			return next(c) // a Bundle entry: its Bundle's Host was checked
		}
		h := s.requestHost(c.Request())
		name, port := normName(h), ""
		if n, p, err := net.SplitHostPort(h); err == nil {
			name, port = normName(n), p
		}
		if !s.allowedHost(name, port) {
			// the Host is not echoed: it is the caller's text
			return httpErr(http.StatusMisdirectedRequest, "invalid", "this server does not answer for the host the request names (Host); see FHIRFACADE_BASE_URL and FHIRFACADE_ALLOWED_HOSTS")
		}
		return next(c)
	}
}

// requestHost is the host the client asked for: the Host header, or what a
// trusted proxy says the client sent (X-Forwarded-Host, Forwarded host=).
// The last value is the nearest proxy's; earlier ones are the client's.
func (s *Server) requestHost(r *http.Request) string {
	if s.trustedPeer(r) {
		if v := lastElement(r.Header.Values("X-Forwarded-Host")); v != "" {
			return v
		}
		for _, pair := range strings.Split(lastElement(r.Header.Values("Forwarded")), ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && strings.EqualFold(k, "host") {
				return strings.Trim(v, `"`)
			}
		}
	}
	return r.Host
}

func lastElement(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// trustedPeer: the TCP peer is one of the configured proxies.
func (s *Server) trustedPeer(r *http.Request) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// trustOptions make echo's IP and scheme extractors believe forwarding
// headers from the configured proxies only: echo's defaults also trust
// loopback and private peers, which on a shared host or network is anyone.
func trustOptions(proxies []netip.Prefix) []echo.TrustOption {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return opts
}

// guardAdminWrite refuses an /admin change another web page could make
// through the browser of someone who can reach the facade (CSRF): a
// foreign Origin or Sec-Fetch-Site: cross-site is 403, and anything but
// application/json is 415 — a JSON body cannot be sent cross-origin
// without a CORS preflight, which the facade never grants.
func (s *Server) guardAdminWrite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(o) {
			return httpErr(403, "forbidden", "administration changes are accepted only from this server's own origin (Origin)")
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return httpErr(403, "forbidden", "administration changes are not accepted from another site (Sec-Fetch-Site: cross-site)")
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return httpErr(415, "not-supported", "administration changes take Content-Type application/json")
		}
		return next(c)
	}
}

// guardConsoleWrite refuses a console form posted from another site
// (foreign Origin, Sec-Fetch-Site: cross-site): a second wall behind the
// console's CSRF token and its SameSite=Strict session cookie.
func (s *Server) guardConsoleWrite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(o) {
			return httpErr(403, "forbidden", "console actions are accepted only from this server's own origin (Origin)")
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return httpErr(403, "forbidden", "console actions are not accepted from another site (Sec-Fetch-Site: cross-site)")
		}
		return next(c)
	}
}

// sameOrigin: the Origin names a host the API answers for.
func (s *Server) sameOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false // "null" (a sandboxed or file: page) included
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return s.allowedHost(normName(u.Hostname()), port)
}

// remoteHost is the client's address: the TCP peer, or what a configured
// proxy (Config.TrustedProxies) says in X-Forwarded-For. Anyone else's
// X-Forwarded-For is not believed: an audit trail must not record what the
// client claims.
func remoteHost(c echo.Context) string {
	if ip := c.RealIP(); ip != "" {
		return ip
	}
	return c.Request().RemoteAddr
}
