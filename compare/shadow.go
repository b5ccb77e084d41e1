package compare

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Comparer runs the shadow comparisons: sampled, in a bounded pool of
// background workers, never on the client's time.
type Comparer struct {
	FHIR    backend.Backend
	Rate    float64 // share of reads compared (default 0.1)
	store   Recorder
	log     *slog.Logger
	jobs    chan compareJob
	results *prometheus.CounterVec
	// Cap is how many mismatch samples are kept per type.
	Cap int
}

type compareJob struct {
	typ string
	res []*backend.Resource
}

// NewComparer starts workers that compare until ctx ends.
func NewComparer(ctx context.Context, fhir backend.Backend, store Recorder, rate float64, workers int, log *slog.Logger, reg prometheus.Registerer) *Comparer {
	c := &Comparer{FHIR: fhir, Rate: rate, store: store, log: log, jobs: make(chan compareJob, workers*4), Cap: 100}
	c.results = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fhirfacade_shadow_compare_total",
		Help: "Shadow-state comparisons of legacy answers with the FHIR server, by type and result (match, mismatch, missing, error, skipped).",
	}, []string{"type", "result"})
	if reg != nil {
		reg.MustRegister(c.results)
	}
	for range workers {
		go c.work(ctx)
	}
	return c
}

// Sample queues a comparison for a share of calls; when the pool is busy the
// sample is skipped (counted), never waited for.
func (c *Comparer) Sample(typ string, res []*backend.Resource) {
	if c == nil || c.FHIR == nil || rand.Float64() >= c.Rate {
		return
	}
	// the job keeps its own slice: the caller's page is not reordered
	select {
	case c.jobs <- compareJob{typ: typ, res: append([]*backend.Resource(nil), res...)}:
	default:
		c.results.WithLabelValues(typ, "skipped").Inc()
	}
}

func (c *Comparer) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-c.jobs:
			c.compare(ctx, j)
		}
	}
}

// maxComparePerSample bounds the reads one sampled search costs the FHIR
// server.
const maxComparePerSample = 5

func (c *Comparer) compare(ctx context.Context, j compareJob) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res := j.res
	if len(res) > maxComparePerSample {
		// a random few of a page: reads by id are what every FHIR server
		// answers cheapest (an _id search scans on some)
		rand.Shuffle(len(res), func(a, b int) { res[a], res[b] = res[b], res[a] })
		res = res[:maxComparePerSample]
	}
	for _, r := range res {
		other, err := c.FHIR.Read(cctx, j.typ, r.ID)
		switch {
		case errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone):
			c.results.WithLabelValues(j.typ, "missing").Inc()
			c.record(ctx, j.typ, r.ID, "missing", nil)
			continue
		case err != nil:
			c.results.WithLabelValues(j.typ, "error").Inc()
			continue
		}
		paths := Diff(r.JSON, other.JSON)
		if len(paths) == 0 {
			c.results.WithLabelValues(j.typ, "match").Inc()
			continue
		}
		c.results.WithLabelValues(j.typ, "mismatch").Inc()
		c.record(ctx, j.typ, r.ID, "mismatch", paths)
	}
}

// Recorder keeps mismatch samples (the control store).
type Recorder interface {
	RecordShadowMismatch(ctx context.Context, typ string, m control.ShadowMismatch, keep int) error
}

// record keeps a capped set of mismatch samples (paths only: no values, so
// no PHI is copied into the control store).
func (c *Comparer) record(ctx context.Context, typ, id, kind string, paths []string) {
	if c.store == nil {
		return
	}
	if err := c.store.RecordShadowMismatch(ctx, typ, control.ShadowMismatch{ID: id, Kind: kind, Paths: paths}, c.Cap); err != nil {
		c.log.Warn("shadow: cannot record mismatch", slog.String("error", sqldb.Describe(err)))
	}
}
