package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// shadowReads serves reads on the shadow route: answered by legacy, with a
// sampled share also fetched from the FHIR server in the background and
// compared. (Writes go through the router's fence.)
type shadowReads struct {
	backend.Backend // legacy
	Compare         *Comparer
}

// Read implements backend.Backend.
func (s shadowReads) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	r, err := s.Backend.Read(ctx, typ, id)
	if err == nil {
		s.Compare.Sample(typ, []*backend.Resource{r})
	}
	return r, err
}

// Search implements backend.Backend.
func (s shadowReads) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	res, err := s.Backend.Search(ctx, typ, q, opts)
	if err == nil && len(res.Resources) > 0 {
		s.Compare.Sample(typ, res.Resources)
	}
	return res, err
}

// Comparer runs the shadow comparisons: sampled, in a bounded pool of
// background workers, never on the client's time.
type Comparer struct {
	FHIR    backend.Backend
	Rate    float64 // share of reads compared (default 0.1)
	db      *sqldb.DB
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
func NewComparer(ctx context.Context, fhir backend.Backend, db *sqldb.DB, rate float64, workers int, log *slog.Logger, reg prometheus.Registerer) *Comparer {
	c := &Comparer{FHIR: fhir, Rate: rate, db: db, log: log, jobs: make(chan compareJob, workers*4), Cap: 100}
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

// record keeps a capped set of mismatch samples (paths only: no values, so
// no PHI is copied into the control store).
func (c *Comparer) record(ctx context.Context, typ, id, kind string, paths []string) {
	if c.db == nil {
		return
	}
	d := c.db.Dialect
	at := sqldb.StampArg(d, time.Now())
	q := fmt.Sprintf("INSERT INTO shadow_mismatch (resource_type, resource_id, at, kind, paths) VALUES (%s, %s, %s, %s, %s)",
		d.Placeholder(1), d.Placeholder(2), d.Placeholder(3), d.Placeholder(4), d.Placeholder(5))
	if _, err := c.db.ExecContext(ctx, q, typ, id, at, kind, strings.Join(paths, ",")); err != nil {
		c.log.Warn("shadow: cannot record mismatch", slog.String("error", sqldb.Describe(err)))
		return
	}
	// keep the newest Cap samples of the type
	q = fmt.Sprintf("DELETE FROM shadow_mismatch WHERE resource_type = %s AND id <= (SELECT COALESCE(MAX(id), 0) FROM shadow_mismatch WHERE resource_type = %s) - %d",
		d.Placeholder(1), d.Placeholder(2), c.Cap)
	_, _ = c.db.ExecContext(ctx, q, typ, typ)
}

// ignored are paths that differ between any two servers by design.
var ignored = map[string]bool{"meta.versionId": true, "meta.lastUpdated": true, "meta.source": true}

// Diff lists the element paths where two resources differ after
// normalisation: server-assigned meta ignored, numbers compared by value,
// date-times compared as instants, empty meta dropped.
func Diff(a, b []byte) []string {
	va, vb := decode(a), decode(b)
	var out []string
	diff("", va, vb, &out)
	sort.Strings(out)
	return out
}

func decode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

func diff(path string, a, b any, out *[]string) {
	if ignored[path] {
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, orRoot(path))
			return
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if k == "meta" && path == "" && emptyMeta(x[k]) && emptyMeta(y[k]) {
				continue
			}
			diff(p, x[k], y[k], out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, orRoot(path))
			return
		}
		for i := range x {
			diff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
	case json.Number:
		y, ok := b.(json.Number)
		ra, okA := new(big.Rat).SetString(string(x))
		rb, okB := new(big.Rat).SetString(string(y))
		if !ok || !okA || !okB || ra.Cmp(rb) != 0 {
			*out = append(*out, orRoot(path))
		}
	case string:
		y, ok := b.(string)
		if ok && x == y {
			return
		}
		ta, e1 := time.Parse(time.RFC3339Nano, x)
		tb, e2 := time.Parse(time.RFC3339Nano, y)
		if ok && e1 == nil && e2 == nil && ta.Equal(tb) {
			return
		}
		*out = append(*out, orRoot(path))
	default:
		if a != b {
			*out = append(*out, orRoot(path))
		}
	}
}

func emptyMeta(v any) bool {
	m, ok := v.(map[string]any)
	if v == nil {
		return true
	}
	if !ok {
		return false
	}
	for k := range m {
		if !ignored["meta."+k] {
			return false
		}
	}
	return true
}

func orRoot(p string) string {
	if p == "" {
		return "(resource)"
	}
	return p
}

// errNoFHIR is served when a type is routed to the FHIR server but none is
// configured: failing loudly beats answering from stale legacy data.
var errNoFHIR = errors.New("this type is routed to the FHIR server, but FHIRFACADE_FHIR_URL is not set")
