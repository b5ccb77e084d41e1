package facade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

type metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	auditFailures prometheus.Counter
	// series holds the request series already resolved, by their labels:
	// WithLabelValues hashes and checks every label on every request,
	// and the label set is bounded (known types, interactions, backends,
	// statuses)
	series sync.Map // seriesKey → *requestSeries
}

type seriesKey struct {
	typ, interaction, backend string
	status                    int
}

type requestSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// observe counts one request of k that took d.
func (m *metrics) observe(k seriesKey, d time.Duration) {
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &requestSeries{
			requests: m.requests.WithLabelValues(k.typ, k.interaction, k.backend, strconv.Itoa(k.status)),
			latency:  m.latency.WithLabelValues(k.typ, k.interaction, k.backend),
		})
	}
	rs := v.(*requestSeries)
	rs.requests.Inc()
	rs.latency.Observe(d.Seconds())
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fhirfacade_requests_total",
			Help: "FHIR requests by resource type, interaction, backend and HTTP status.",
		}, []string{"type", "interaction", "backend", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fhirfacade_request_duration_seconds",
			Help:    "FHIR request latency by resource type, interaction and backend.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"type", "interaction", "backend"}),
	}
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fhirfacade_audit_failures_total",
		Help: "Requests whose audit record could not be stored.",
	})
	reg.MustRegister(m.requests, m.latency, m.auditFailures)
	return m
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxClientRequestID caps the X-Request-Id a client sends where it is kept
// (audit record, log line).
const maxClientRequestID = 128

// assignRequestID gives every request a server-made id, in the answer's
// X-Request-Id and in its log line and audit record. A client's own
// X-Request-Id is never used as the id (a client could name its requests
// after someone else's, or send one id for all of them); it is kept, capped,
// as the record's clientRequestId for correlation.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderXRequestID, newRequestID())
		if v := c.Request().Header.Get(echo.HeaderXRequestID); v != "" {
			reqOf(c).clientRequestID = logcap.Cut(v, maxClientRequestID)
		}
		return next(c)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// orDefault is v, or def when v is "".
func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// observe records metrics and one structured log line per request. It logs
// the route pattern, type and interaction, never the query string or body:
// those hold PHI (names, birth dates, identifiers).
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		d := time.Since(start)
		status := c.Response().Status
		rq := reqOf(c)
		typ := rq.typ
		if typ == "" || !s.knownType(typ) {
			typ = "-" // a bounded label set: unknown types are not labels
		}
		inter, be := orDefault(rq.interaction, "other"), orDefault(rq.backend, "-")
		s.metrics.observe(seriesKey{typ, inter, be, status}, d)
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			logcap.Attr("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.String("type", typ),
			slog.String("interaction", inter),
			slog.String("backend", be),
			slog.Int("status", status),
			slog.Float64("ms", float64(d.Microseconds())/1000),
		}
		if rq.clientRequestID != "" {
			attrs = append(attrs, slog.String("client_request_id", rq.clientRequestID))
		}
		s.logRequest(c.Request().Context(), lvl, attrs)
		return nil
	}
}

// logRequest writes a request's line straight to the log's handler: the
// line names no source, so slog.Logger's capture of the caller's PC would be
// work for nothing on every request.
func (s *Server) logRequest(ctx context.Context, lvl slog.Level, attrs []slog.Attr) {
	h := s.log.Handler()
	if !h.Enabled(ctx, lvl) {
		return
	}
	r := slog.NewRecord(time.Now(), lvl, "request", 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}

func (s *Server) knownType(t string) bool { _, ok := s.typeInfo(t); return ok }

// recoverOutcome turns a panic into a logged 500 OperationOutcome without a
// stack trace in the response.
func recoverOutcome(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &HTTPError{Status: 500, Code: "exception", Msg: "internal error; the request id names it in the server log", Err: fmt.Errorf("panic: %v", r)}
			}
		}()
		return next(c)
	}
}
