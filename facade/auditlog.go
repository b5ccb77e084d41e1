package facade

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
)

// Auditor stores audit records durably (audit.Writer in production).
type Auditor interface {
	// Write returns once rec is stored.
	Write(ctx context.Context, rec *audit.Record) error
	// Enqueue accepts rec for storing soon, or refuses it (queue full,
	// store failing).
	Enqueue(rec *audit.Record) error
	// Retain accepts the record of a change already made for storing as
	// soon as the store allows, even while it is failing.
	Retain(rec *audit.Record) error
	// Healthy is false while the store is failing: writes are then refused
	// before they change data that could not be audited.
	Healthy() bool
}

// AnonymousActor is who the journal names for an /admin change made with
// FHIRFACADE_AUTH=off: whoever could reach the loopback listener.
const AnonymousActor = "anonymous@loopback"

// ActorHeader carries the authenticated caller to the /admin handlers (the
// facade removes any client-sent one): the journal's actor.
const ActorHeader = "X-Fhirfacade-Actor"

const (
	keyAuditNote   = "audit.note"
	keyAuditDetail = "audit.detail"
)

// auditNote is what a handler tells the audit trail about its answer.
type auditNote struct {
	ids      []string
	patients []string
	query    string
}

func (s *Server) note(c echo.Context) *auditNote {
	if s.cfg.Audit == nil {
		return nil
	}
	n, _ := c.Get(keyAuditNote).(*auditNote)
	if n == nil {
		n = &auditNote{}
		c.Set(keyAuditNote, n)
	}
	return n
}

// noteResources records the resources an answer discloses and the patients
// they belong to.
func (s *Server) noteResources(c echo.Context, rs ...*backend.Resource) {
	n := s.note(c)
	if n == nil {
		return
	}
	for _, r := range rs {
		n.ids = append(n.ids, r.Type+"/"+r.ID)
		for _, p := range s.patientsIn(c, r, false) {
			if !containsStr(n.patients, p) {
				n.patients = append(n.patients, p)
			}
		}
	}
}

func (s *Server) noteQuery(c echo.Context, q string) {
	if n := s.note(c); n != nil {
		n.query = q
	}
}

// bufferedWriter holds a response until its audit record is stored, so a
// request whose record cannot be written answers 503 instead of data.
type bufferedWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// publicPaths are the routes whose answers need no audit record: probes,
// metrics and the discovery documents, public and free of PHI (a probe
// every second would otherwise be most of the trail).
var publicPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/fhir/metadata": true,
	"/fhir/.well-known/smart-configuration": true, "/.well-known/smart-configuration": true,
}

// auditTrail appends one record per request that reached the server —
// refusals of every middleware after it included (oversized headers and
// bodies, unknown paths, tokens, rate limits) — before the answer leaves.
// Fail closed by default: no record, no answer — except for a write
// already made, whose record is retained for retry instead. Refusals that
// need no record each (see aggregated) are counted per window instead.
func (s *Server) auditTrail(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.cfg.Audit == nil || (publicPaths[c.Path()] && (req.Method == http.MethodGet || req.Method == http.MethodHead)) {
			return next(c)
		}
		mutating := req.Method != http.MethodGet && req.Method != http.MethodHead && !strings.HasSuffix(req.URL.Path, "/_search")
		if mutating && !s.cfg.AuditFailOpen && !s.cfg.Audit.Healthy() {
			// refuse before the write: a change that cannot be audited must
			// not happen (the record of this refusal is still attempted)
			err := &HTTPError{Status: 503, Code: "transient", Msg: "the audit trail is unavailable; writes are refused until it recovers"}
			_ = s.cfg.Audit.Write(req.Context(), s.auditRecord(c, 503, err.Msg))
			return err
		}
		res := c.Response()
		orig := res.Writer
		bw := &bufferedWriter{ResponseWriter: orig}
		res.Writer = bw
		err := next(c)
		if err != nil {
			c.Error(err) // renders the OperationOutcome into the buffer
		}
		res.Writer = orig
		detail, _ := c.Get(keyAuditDetail).(string)
		rec := s.auditRecord(c, res.Status, detail)
		if s.aggregated(c, res.Status) {
			s.agg.Add(rec)
		} else if werr := s.storeRecord(c, rec, mutating); werr != nil && !s.cfg.AuditFailOpen {
			h := res.Header()
			rid := h.Get(echo.HeaderXRequestID)
			for k := range h {
				delete(h, k)
			}
			h.Set(echo.HeaderXRequestID, rid)
			res.Committed, res.Size, res.Status = false, 0, http.StatusOK
			return &HTTPError{Status: 503, Code: "transient", Msg: "the audit trail is unavailable; retry later", Err: werr}
		}
		if bw.status != 0 {
			orig.WriteHeader(bw.status)
		}
		_, _ = orig.Write(bw.buf.Bytes())
		return nil
	}
}

// aggregated reports whether the answer is a refusal that is counted
// instead of recorded on its own: a 429, or a 4xx refused before any
// token was accepted (none sent, an invalid one, or a refusal before
// authentication ran) while auth is on. An attacker can send those without
// limit, and no data was disclosed or changed; every answer to an
// authenticated request keeps its own record.
func (s *Server) aggregated(c echo.Context, status int) bool {
	if s.agg == nil {
		return false
	}
	return status == http.StatusTooManyRequests || (s.cfg.Auth != nil && principal(c) == nil && status >= 400 && status < 500)
}

// storeRecord stores rec as the audit mode says and returns the error the
// answer must fail with (nil: answer as it is).
func (s *Server) storeRecord(c echo.Context, rec *audit.Record, mutating bool) error {
	ctx := c.Request().Context()
	var werr error
	switch {
	case ctx.Err() != nil:
		// the client is gone (cancelled, or its body read timed out): no
		// answer waits on the record, so it is queued and retried until
		// stored — a cancelled context must not lose it
		werr = s.cfg.Audit.Retain(rec)
	case s.cfg.AuditAsync:
		werr = s.cfg.Audit.Enqueue(rec)
	default:
		// not the request's context: a client giving up while the batch
		// commits must not turn a stored record into a reported failure
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		werr = s.cfg.Audit.Write(wctx, rec)
		cancel()
	}
	if werr != nil && mutating && rec.Status < 400 {
		// The change is made and no 503 can undo it; answering 503 would
		// only tell the client to retry it (a second create). So the
		// answer goes out as it is and the record is kept for retry.
		if rerr := s.cfg.Audit.Retain(rec); rerr != nil {
			s.metrics.auditFailures.Inc()
			s.log.Error("audit record of a completed write lost", slog.String("request_id", requestID(c)),
				slog.String("interaction", rec.Interaction), slog.String("type", rec.Type), slog.Int("status", rec.Status), slog.String("error", rerr.Error()))
		} else {
			s.log.Warn("audit record of a completed write queued for retry", slog.String("request_id", requestID(c)), slog.String("error", werr.Error()))
		}
		return nil
	}
	if werr != nil {
		s.metrics.auditFailures.Inc()
		s.log.Error("audit record not stored", slog.String("request_id", requestID(c)), slog.String("error", werr.Error()))
	}
	return werr
}

func (s *Server) auditRecord(c echo.Context, status int, detail string) *audit.Record {
	req := c.Request()
	typ := c.Param("type")
	if len(typ) > 64 {
		typ = typ[:64]
	}
	rec := &audit.Record{
		Time:        time.Now().UTC(),
		Interaction: label(c, keyInteraction, interactionOf(c)),
		Type:        typ,
		Status:      status,
		Outcome:     audit.OutcomeOf(status),
		Detail:      detail,
		Source:      remoteHost(c),
		RequestID:   requestID(c),
		Method:      req.Method,
		Path:        truncate(req.URL.Path, 256),
		Backend:     label(c, keyBackend, ""),
	}
	rec.ClientRequestID, _ = c.Get(keyClientRequestID).(string)
	if p := principal(c); p != nil {
		rec.ClientID, rec.User, rec.FHIRUser, rec.Issuer = p.ClientID, p.User(), p.FHIRUser, p.Issuer
	}
	if n, _ := c.Get(keyAuditNote).(*auditNote); n != nil {
		rec.IDs, rec.Patients, rec.Query = n.ids, n.patients, n.query
	}
	return rec
}

// interactionOf names the interaction from method and path, for requests
// refused before a handler labelled them.
func interactionOf(c echo.Context) string {
	p := c.Request().URL.Path
	if strings.HasPrefix(p, "/admin") {
		return "admin"
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch c.Request().Method {
	case http.MethodGet:
		if len(parts) == 3 {
			return "read"
		}
		if len(parts) == 2 && parts[1] == "metadata" {
			return "capabilities"
		}
		return "search-type"
	case http.MethodPost:
		if len(parts) == 3 && parts[2] == "_search" {
			return "search-type"
		}
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodDelete:
		return "delete"
	}
	return "other"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
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

// limiter is a token bucket per client id (or per address for requests
// without a valid token).
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = int(math.Max(1, perSecond))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, m: map[string]*bucket{}, swept: time.Now()}
}

// take reports whether key may proceed, else how long until it may.
func (l *limiter) take(key string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	b := l.m[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = b
	}
	b.seen = now
	if now.Sub(l.swept) > time.Minute {
		// idle buckets are full again anyway; dropping them bounds memory
		for k, v := range l.m {
			if now.Sub(v.seen) > time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	l.mu.Unlock()
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (s *Server) allow(c echo.Context, key string) bool {
	if s.limiter == nil {
		return true
	}
	ok, wait := s.limiter.take(key)
	if !ok {
		c.Set("ratelimit.wait", wait)
	}
	return ok
}

func (s *Server) tooMany(c echo.Context) error {
	wait, _ := c.Get("ratelimit.wait").(time.Duration)
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return httpErr(429, "throttled", "too many requests from this client; retry after "+strconv.Itoa(secs)+"s")
}

// requireAdmin guards /admin: with auth on, the token must carry the
// configured admin scope or role.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(keyInteraction, "admin")
		// only the facade says who the caller is (ActorHeader)
		c.Request().Header.Del(ActorHeader)
		if s.cfg.Auth == nil {
			// no token to name anyone: the journal says so rather than
			// believe a name the request offers
			c.Request().Header.Set(ActorHeader, AnonymousActor)
			return next(c)
		}
		p := principal(c)
		if p == nil || !p.Has(s.cfg.AdminAccess) {
			return httpErr(403, "forbidden", "administration needs the "+s.cfg.AdminAccess+" scope or role")
		}
		// the journal's actor column holds 200 characters
		c.Request().Header.Set(ActorHeader, strings.ToValidUTF8(truncate(p.ClientID+"/"+p.User(), 200), ""))
		return next(c)
	}
}

func (s *Server) smartConfiguration(c echo.Context) error {
	if s.cfg.SMART == nil {
		return httpErr(404, "not-found", "SMART on FHIR is not enabled on this server (FHIRFACADE_AUTH=off)")
	}
	return c.JSON(200, s.cfg.SMART)
}
