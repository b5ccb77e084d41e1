// Package upstream is the Backend that serves resource types from a FHIR R4
// server (Azure Health Data Services in production): an HTTP client with
// retries that honour Retry-After and x-ms-retry-after-ms, per-request
// timeouts, a circuit breaker and a bounded connection pool, and the
// Backend built on it.
package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TokenSource supplies bearer tokens (nil: no Authorization header).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Config configures a Client.
type Config struct {
	BaseURL    string        // FHIR base, e.g. https://x.fhir.azurehealthcareapis.com
	Tokens     TokenSource   // nil for FHIRFACADE_FHIR_AUTH=none
	Timeout    time.Duration // per attempt (default 10 s)
	MaxRetries int           // retries after the first attempt (default 3)
	MaxConns   int           // connections to the server (default 64)
	// BreakerFailures consecutive failures open the breaker (default 5);
	// it stays open BreakerOpen (default 5 s) before one trial request.
	BreakerFailures uint32
	BreakerOpen     time.Duration
	// MaxBackoff caps one wait between retries (default 2 s).
	MaxBackoff time.Duration
}

// Client talks to one FHIR server.
type Client struct {
	cfg  Config
	base *url.URL // cfg.BaseURL parsed
	http *http.Client
	cb   *gobreaker.CircuitBreaker[*Response]
}

// Response is a completed exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errRetryable marks an attempt worth retrying; it counts against the breaker.
var errRetryable = errors.New("retryable upstream failure")

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" || !(strings.HasPrefix(cfg.BaseURL, "http://") || strings.HasPrefix(cfg.BaseURL, "https://")) {
		return nil, fmt.Errorf("FHIRFACADE_FHIR_URL=%q: want an http(s) FHIR base URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("FHIRFACADE_FHIR_URL: want an http(s) FHIR base URL with a host and no user, query or fragment")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	} else if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 64
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerOpen <= 0 {
		cfg.BreakerOpen = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 2 * time.Second
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     cfg.MaxConns,
		MaxIdleConnsPerHost: cfg.MaxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
	}
	c := &Client{cfg: cfg, base: base}
	c.http = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	c.cb = gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
		Name:        "fhir",
		MaxRequests: 1,
		Timeout:     cfg.BreakerOpen,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= cfg.BreakerFailures },
		// only server trouble opens the breaker: 4xx answers are healthy
		IsSuccessful: func(err error) bool { return err == nil || !errors.Is(err, errRetryable) },
	})
	return c, nil
}

// Base is the server's FHIR base URL.
func (c *Client) Base() string { return c.cfg.BaseURL }

// Under reports whether u is the FHIR base or a URL under it: the same
// scheme, host and port, and a path that, cleaned of . and .. segments,
// lies under the base's path. Only such URLs get the facade's token.
func (c *Client) Under(u string) bool {
	t, err := url.Parse(u)
	if err != nil {
		return false
	}
	return underBase(c.base, t)
}

// underBase is Under on parsed URLs.
func underBase(base, t *url.URL) bool {
	if !strings.EqualFold(t.Scheme, base.Scheme) || t.User != nil || t.Opaque != "" ||
		!strings.EqualFold(hostPort(t), hostPort(base)) {
		return false
	}
	// DANGER: a prefix test on the raw string accepts .../fhir/../admin;
	// the decoded path is cleaned first (so %2e%2e counts as ..)
	bp, tp := path.Clean("/"+base.Path), path.Clean("/"+t.Path)
	return tp == bp || bp == "/" || strings.HasPrefix(tp, bp+"/")
}

// hostPort is u's host with its scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// checkRedirect is the client's redirect policy. Go's default forwards the
// Authorization header to the same host on another port or scheme and to
// its subdomains; the facade's token must only ever reach the FHIR base,
// so a redirect anywhere else is followed without it.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !underBase(c.base, req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// Capabilities is the server's CapabilityStatement (GET [base]/metadata) as
// the server sent it, fetched like any call: with retries and through the
// circuit breaker.
func (c *Client) Capabilities(ctx context.Context) ([]byte, error) {
	res, err := c.Do(ctx, http.MethodGet, "metadata", nil, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, statusErr(res, "metadata")
	}
	return res.Body, nil
}

// Do sends one request (path relative to the base, or an absolute URL under
// it) with retries. Only 429, 503, 504 and failures to connect are retried;
// a POST is retried only when the server cannot have processed it (429, or
// the connection was refused).
func (c *Client) Do(ctx context.Context, method, path string, body []byte, hdr http.Header) (*Response, error) {
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = c.cfg.BaseURL + "/" + strings.TrimLeft(path, "/")
	}
	if !c.Under(url) {
		// only links under the configured base are followed
		return nil, fmt.Errorf("%w: link outside the FHIR base", backend.ErrInvalid)
	}
	var last error
	for attempt := 0; attempt <= c.cfg.MaxRetries; attempt++ {
		res, err := c.cb.Execute(func() (*Response, error) { return c.once(ctx, method, url, body, hdr) })
		if err == nil {
			return res, nil
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, fmt.Errorf("%w: FHIR server circuit open (recent failures); retry later", backend.ErrUnavailable)
		}
		last = err
		var rerr *retryErr
		if !errors.As(err, &rerr) || (method == http.MethodPost && !rerr.safeForPost) || attempt == c.cfg.MaxRetries {
			break
		}
		wait := rerr.after
		if wait < 0 {
			// full jitter exponential backoff
			wait = time.Duration(rand.Int64N(int64(min(c.cfg.MaxBackoff, 100*time.Millisecond<<attempt)) + 1))
		}
		wait = min(wait, c.cfg.MaxBackoff)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	var rerr *retryErr
	if errors.As(last, &rerr) && rerr.res != nil {
		return rerr.res, nil // the final throttled/unavailable answer
	}
	return nil, fmt.Errorf("%w: FHIR server: %v", backend.ErrUnavailable, last)
}

type retryErr struct {
	after       time.Duration // -1: use backoff
	safeForPost bool
	res         *Response
	cause       error
}

func (e *retryErr) Error() string { return e.cause.Error() }
func (e *retryErr) Unwrap() error { return errRetryable }

func (c *Client) once(ctx context.Context, method, u string, body []byte, hdr http.Header) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if c.cfg.Tokens != nil {
		tok, err := c.cfg.Tokens.Token(ctx)
		if err != nil {
			return nil, &retryErr{after: -1, cause: fmt.Errorf("token: %w", err)}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// the URL is left out of the error (it ends up in logs): a status
		// or next link may carry more than the base
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var op *net.OpError
		refused := errors.As(err, &op) && op.Op == "dial"
		return nil, &retryErr{after: -1, safeForPost: refused, cause: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, &retryErr{after: -1, cause: err}
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	switch res.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusBadGateway:
		return nil, &retryErr{after: retryAfter(res.Header), safeForPost: res.StatusCode == 429, res: out, cause: fmt.Errorf("status %d", res.StatusCode)}
	}
	return out, nil
}

// retryAfter reads Azure's x-ms-retry-after-ms, then Retry-After (seconds or
// an HTTP date); -1 when neither is given.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("x-ms-retry-after-ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms >= 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, time.Until(t))
		}
	}
	return -1
}
