// Package deployed gives the bench baselines (bench/baseline,
// bench/baseline-ehr), on request, the per-request obligations that any
// server deployed in front of PHI carries and that the facade carries on
// every request: an X-Request-Id made by the server, one structured JSON
// log line per request (slog, to stderr, the facade's fields), a request
// counter and latency histogram (Prometheus client_golang, the facade's
// labels and buckets), and the facade's http.Server timeouts (a server
// without them can be held open by a slow client).
//
// A "bare" baseline (Serve with asDeployed false) measures the mapping
// engine plus all of that; an as-deployed one measures what the mapping
// engine, routing and FHIR rules cost on top of a server that does the
// same obligatory work. BENCHMARKS.md reports both.
package deployed

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Serve serves h on listen until it fails: bare (http.ListenAndServe, as
// the baselines always did) or, with asDeployed, wrapped as the package
// comment says.
func Serve(listen string, h http.Handler, asDeployed bool) error {
	if !asDeployed {
		return http.ListenAndServe(listen, h)
	}
	srv := &http.Server{Addr: listen, Handler: wrap(h),
		// as facade/server.go sets them
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	return srv.ListenAndServe()
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func wrap(h http.Handler) http.Handler {
	m := newMetrics()
	log := slog.NewJSONHandler(os.Stderr, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var id [12]byte
		_, _ = rand.Read(id[:])
		rid := hex.EncodeToString(id[:])
		w.Header().Set("X-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		d := time.Since(start)
		t, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/fhir/"), "/")
		inter := "search-type"
		if r.PathValue("id") != "" {
			inter = "read"
		}
		m.observe(t, inter, sw.status, d)
		// as the facade writes its line: to the handler, without the
		// caller's PC that slog.Logger would capture
		rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
		rec.AddAttrs(slog.String("request_id", rid), slog.String("method", r.Method), slog.String("route", r.Pattern),
			slog.String("type", t), slog.String("interaction", inter), slog.String("backend", "legacy"),
			slog.Int("status", sw.status), slog.Float64("ms", float64(d.Microseconds())/1000))
		_ = log.Handle(r.Context(), rec)
	})
}

// metrics are the facade's request counter and latency histogram, their
// series resolved once per label set as the facade does.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	series   sync.Map // seriesKey -> *series
}

type seriesKey struct {
	typ, inter string
	status     int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baseline_requests_total", Help: "requests"},
			[]string{"type", "interaction", "backend", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "baseline_request_duration_seconds", Help: "latency",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"type", "interaction", "backend"}),
	}
	prometheus.NewRegistry().MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) observe(typ, inter string, status int, d time.Duration) {
	k := seriesKey{typ, inter, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &series{
			requests: m.requests.WithLabelValues(typ, inter, "legacy", strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(typ, inter, "legacy"),
		})
	}
	s := v.(*series)
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}
