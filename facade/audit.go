package facade

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
)

// Auditor stores audit records durably (audit.Writer in production).
type Auditor interface {
	// Write returns once recs are stored (one commit for all of them).
	Write(ctx context.Context, recs ...*audit.Record) error
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

// auditNote is what a handler tells the audit trail about its answer.
type auditNote struct {
	ids      []string
	patients []string
	query    string
	// the search the request asked for (noteAsked): encoded into the
	// record only when no handler noted the search as run, so an answered
	// search (the common case) pays no second parse and encoding
	asked    url.Values
	askedRaw string
	hasAsked bool
}

// recordQuery is the query the record names: the search as run, else the
// one asked for, without the paging and format parameters.
func (n *auditNote) recordQuery() string {
	if n.query != "" || !n.hasAsked {
		return n.query
	}
	vals := n.asked
	if vals == nil {
		vals, _ = url.ParseQuery(n.askedRaw) // malformed: what parses, as URL.Query gives
	}
	q := make(url.Values, len(vals))
	for k, v := range vals {
		q[k] = v
	}
	dropEnvelope(q)
	return q.Encode()
}

// note is the request's audit note (nil without an audit trail: nothing
// needs to be noted).
func (s *Server) note(c echo.Context) *auditNote {
	if s.audit == nil {
		return nil
	}
	return &reqOf(c).noted
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

// noteAsked notes the search a request asks for (vals, or when vals is
// nil the URL's query), unless one is noted already, before it is
// authorised or checked: a refused request's record then names what was
// asked as an answered one does (handlers note the search as run when
// they get to it). The paging and format parameters are left out (a
// sealed page token says nothing to a reader; the search it carries is
// noted when it is opened).
func (s *Server) noteAsked(c echo.Context, vals url.Values) {
	n := s.note(c)
	if n == nil || n.query != "" || n.hasAsked {
		return // the first one asked stands (POST _search: form and URL)
	}
	n.asked, n.askedRaw, n.hasAsked = vals, c.Request().URL.RawQuery, true
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

// auditTrail is the audit middleware: one record per request that reached
// the server, stored before the answer leaves (see handle). A nil
// auditTrail (no Config.Audit) lets every request pass unrecorded.
type auditTrail struct {
	store Auditor
	// agg counts the refusals that get no record each (aggregated)
	agg      *audit.Aggregator
	failOpen bool // Config.AuditFailOpen
	async    bool // Config.AuditAsync
	authOn   bool
	failures prometheus.Counter
	log      *slog.Logger
}

func newAuditTrail(cfg Config, failures prometheus.Counter, log *slog.Logger) *auditTrail {
	if cfg.Audit == nil {
		return nil
	}
	a := &auditTrail{store: cfg.Audit, failOpen: cfg.AuditFailOpen, async: cfg.AuditAsync, authOn: cfg.Auth != nil, failures: failures, log: log}
	a.agg = audit.NewAggregator(cfg.Audit.Retain, time.Second, 1000, a.aggregateLost)
	return a
}

// handle appends one record per request that reached the server —
// refusals of every middleware after it included (oversized headers and
// bodies, unknown paths, tokens, rate limits) — before the answer leaves.
// Fail closed by default: no record, no answer — except for a write
// already made, whose record is retained for retry instead. Refusals that
// need no record each (see aggregated) are counted per window instead.
func (a *auditTrail) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if a == nil || (publicPaths[c.Path()] && (req.Method == http.MethodGet || req.Method == http.MethodHead)) {
			return next(c)
		}
		if sub := subOf(c); sub != nil {
			return a.collect(c, sub, next)
		}
		if streamedPaths[c.Path()] {
			return a.streamed(c, next)
		}
		mutating := req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != http.MethodOptions &&
			!strings.HasSuffix(req.URL.Path, "/_search")
		if mutating && !a.failOpen && !a.store.Healthy() {
			// refuse before the write: a change that cannot be audited must
			// not happen (the record of this refusal is still attempted)
			err := &HTTPError{Status: 503, Code: "transient", Msg: "the audit trail is unavailable; writes are refused until it recovers"}
			_ = a.store.Write(req.Context(), record(c, 503, err.Msg))
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
		// the handler has returned: the request's state is complete, and
		// read here on the goroutine that filled it
		rec := record(c, res.Status, reqOf(c).auditDetail)
		if a.aggregated(c, res.Status) {
			a.agg.Add(rec)
		} else if werr := a.storeRecord(c, rec, mutating); werr != nil && !a.failOpen {
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

// collect handles a Bundle entry: its record is kept on the subRequest,
// to be stored by the Bundle's handler once the outcome of the whole is
// known (storeEntryRecords).
func (a *auditTrail) collect(c echo.Context, sub *subRequest, next echo.HandlerFunc) error {
	if err := next(c); err != nil {
		c.Error(err)
	}
	sub.records = append(sub.records, record(c, c.Response().Status, reqOf(c).auditDetail))
	return nil
}

// aggregated reports whether the answer is a refusal that is counted
// instead of recorded on its own: a 429, or a 4xx refused before any
// token was accepted (none sent, an invalid one, or a refusal before
// authentication ran) while auth is on; likewise an OPTIONS answered
// without a token (its route's Allow list). An attacker can send those
// without limit, and no data was disclosed or changed; every answer to an
// authenticated request keeps its own record.
func (a *auditTrail) aggregated(c echo.Context, status int) bool {
	anonymous := a.authOn && principal(c) == nil
	return status == http.StatusTooManyRequests || anonymous && (status >= 400 && status < 500 || c.Request().Method == http.MethodOptions)
}

// storeRecord stores rec as the audit mode says and returns the error the
// answer must fail with (nil: answer as it is). mutating says whether the
// request may have changed data.
func (a *auditTrail) storeRecord(c echo.Context, rec *audit.Record, mutating bool) error {
	return a.storeRecords(c, []*audit.Record{rec}, mutating && rec.Status < 400)
}

// storeRecords stores recs (one request's: a Bundle's entries) together,
// in one commit in sync mode, and returns the error the answer must fail
// with (nil: answer as it is). changed says whether a change was made
// that no answer can undo.
func (a *auditTrail) storeRecords(c echo.Context, recs []*audit.Record, changed bool) error {
	ctx := c.Request().Context()
	var werr error
	switch {
	case ctx.Err() != nil:
		// the client is gone (cancelled, or its body read timed out): no
		// answer waits on the records, so they are queued and retried until
		// stored — a cancelled context must not lose them
		werr = a.each(recs, a.store.Retain)
	case a.async:
		werr = a.each(recs, a.store.Enqueue)
	default:
		// not the request's context: a client giving up while the batch
		// commits must not turn a stored record into a reported failure
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		werr = a.store.Write(wctx, recs...)
		cancel()
	}
	if werr != nil && changed {
		// The change is made and no 503 can undo it; answering 503 would
		// only tell the client to retry it (a second create). So the
		// answer goes out as it is and the records are kept for retry.
		if rerr := a.each(recs, a.store.Retain); rerr != nil {
			a.failures.Inc()
			a.log.Error("audit record of a completed write lost", slog.String("request_id", requestID(c)),
				slog.String("interaction", recs[0].Interaction), slog.String("type", recs[0].Type), slog.Int("status", recs[0].Status), slog.String("error", rerr.Error()))
		} else {
			a.log.Warn("audit record of a completed write queued for retry", slog.String("request_id", requestID(c)), slog.String("error", werr.Error()))
		}
		return nil
	}
	if werr != nil {
		a.failures.Inc()
		a.log.Error("audit record not stored", slog.String("request_id", requestID(c)), slog.String("error", werr.Error()))
	}
	return werr
}

// each hands every record to queue (Retain or Enqueue), all of them even
// after a refusal, and returns the first refusal.
func (a *auditTrail) each(recs []*audit.Record, queue func(*audit.Record) error) error {
	var first error
	for _, r := range recs {
		if err := queue(r); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// aggregateLost logs a counted-refusal record the audit queue refused.
func (a *auditTrail) aggregateLost(r *audit.Record, err error) {
	a.failures.Inc()
	a.log.Error("aggregated audit record lost", slog.Int("status", r.Status), slog.Int("requests", r.Count), slog.String("error", err.Error()))
}

// flush stores the last window's counted refusals.
func (a *auditTrail) flush() {
	if a != nil {
		a.agg.Flush()
	}
}

// record is the audit record of the request as its state stands.
func record(c echo.Context, status int, detail string) *audit.Record {
	req := c.Request()
	rq := reqOf(c)
	typ := c.Param("type")
	if len(typ) > 64 {
		typ = typ[:64]
	}
	inter := rq.interaction
	if inter == "" {
		inter = interactionOf(c)
	}
	rec := &audit.Record{
		Time:            time.Now().UTC(),
		Interaction:     inter,
		Type:            typ,
		Status:          status,
		Outcome:         audit.OutcomeOf(status),
		Detail:          detail,
		Source:          remoteHost(c),
		RequestID:       requestID(c),
		Method:          req.Method,
		Path:            truncate(req.URL.Path, 256),
		Backend:         rq.backend,
		ClientRequestID: rq.clientRequestID,
		IDs:             rq.noted.ids,
		Patients:        rq.noted.patients,
		Query:           rq.noted.recordQuery(),
	}
	if p := rq.principal; p != nil {
		rec.ClientID, rec.User, rec.FHIRUser, rec.Issuer = p.ClientID, p.User(), p.FHIRUser, p.Issuer
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
	if m := c.Request().Method; (m == http.MethodGet || m == http.MethodPost) && strings.HasPrefix(parts[len(parts)-1], "$") {
		return "operation" // Patient/7/$everything
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead:
		if len(parts) == 3 {
			return "read"
		}
		if len(parts) == 4 && parts[3] == "_history" {
			return "history-instance"
		}
		if len(parts) == 5 && parts[3] == "_history" {
			return "vread"
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
		if len(parts) == 2 {
			return "conditional-update"
		}
		return "update"
	case http.MethodDelete:
		if len(parts) == 2 {
			return "conditional-delete"
		}
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
