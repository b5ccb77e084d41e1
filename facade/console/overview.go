package console

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/routing"
)

// track is the walk drawn on each overview row, in order.
var track = []routing.State{routing.Legacy, routing.Shadow, routing.FHIR, routing.FHIROnly}

// step is one station of a row's track.
type step struct {
	State   routing.State
	Current bool
	Passed  bool // an earlier station of the walk
}

// row is one type on the overview.
type row struct {
	routing.Status
	Track   []step
	Reason  string // why the last move was made
	Shadow  shadowRate
	Outbox  control.OutboxCounts
	Sync    *control.SyncRun
	Parity  *control.ParityReport
	Running []*job
}

// overviewData reads every type's row through the typed APIs.
func (c *Console) overviewData(ctx context.Context) ([]row, error) {
	st, err := c.cfg.Routes.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	last, err := c.cfg.Ctl.LastRouteEvents(ctx)
	if err != nil {
		return nil, err
	}
	box, err := c.cfg.Ctl.OutboxCountsByType(ctx)
	if err != nil {
		return nil, err
	}
	rates := c.rates.current()
	out := make([]row, 0, len(st))
	for _, s := range st {
		r := row{Status: s, Reason: last[s.Type].Reason, Shadow: rates[s.Type], Outbox: box[s.Type], Running: c.jobs.runningFor(s.Type)}
		passed := true
		for _, t := range track {
			cur := t == s.State
			if cur {
				passed = false
			}
			r.Track = append(r.Track, step{State: t, Current: cur, Passed: passed})
		}
		if sr, ok, err := c.cfg.Ctl.LastSyncRun(ctx, s.Type); err != nil {
			return nil, err
		} else if ok {
			r.Sync = &sr
		}
		if pr, ok, err := c.cfg.Ctl.NewestParityReport(ctx, c.cfg.Ctl.DB, s.Type); err != nil {
			return nil, err
		} else if ok {
			r.Parity = &pr
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := c.overviewData(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "overview", pageView(s, "Overview", "overview", map[string]any{"Rows": rows, "FHIR": c.cfg.FHIR != nil, "Window": c.rates.window}))
}

// overviewRows is the table body alone, which the page polls every 2 s.
func (c *Console) overviewRows(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := c.overviewData(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "rows", pageView(s, "", "", map[string]any{"Rows": rows, "FHIR": c.cfg.FHIR != nil}))
}

// unavailable answers a control store that could not be read (the
// details go to the log, not the page).
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Log.Warn("console: control store", "error", err.Error())
	c.fail(w, r, http.StatusServiceUnavailable, "the control store is unavailable; try again")
}

// shadowRate is a type's shadow comparisons over the window.
type shadowRate struct {
	Match, Mismatch int64
	Since           time.Time // start of the window actually covered
}

// shadowRates turns the fhirfacade_shadow_compare_total counters (the
// ones /metrics serves) into counts over the last window: it keeps
// samples of the counters and subtracts the oldest one inside the window.
type shadowRates struct {
	g      prometheus.Gatherer
	window time.Duration
	mu     sync.Mutex
	seen   []ratesSample
}

type ratesSample struct {
	at   time.Time
	vals map[string][2]float64 // type → match, mismatch (mismatch or missing)
}

func newShadowRates(g prometheus.Gatherer, window time.Duration) *shadowRates {
	return &shadowRates{g: g, window: window}
}

// current samples the counters (at most every 10 s) and returns the
// counts per type since the oldest sample inside the window.
func (sr *shadowRates) current() map[string]shadowRate {
	out := map[string]shadowRate{}
	if sr.g == nil {
		return out
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	now := time.Now()
	if n := len(sr.seen); n == 0 || now.Sub(sr.seen[n-1].at) >= 10*time.Second {
		sr.seen = append(sr.seen, ratesSample{at: now, vals: sr.read()})
	}
	// drop samples older than the window, keeping one as the baseline
	for len(sr.seen) > 2 && now.Sub(sr.seen[1].at) > sr.window {
		sr.seen = sr.seen[1:]
	}
	first, last := sr.seen[0], sr.seen[len(sr.seen)-1]
	for typ, v := range last.vals {
		b := first.vals[typ]
		out[typ] = shadowRate{Match: int64(v[0] - b[0]), Mismatch: int64(v[1] - b[1]), Since: first.at}
	}
	return out
}

func (sr *shadowRates) read() map[string][2]float64 {
	vals := map[string][2]float64{}
	mfs, err := sr.g.Gather()
	if err != nil {
		return vals
	}
	for _, mf := range mfs {
		if mf.GetName() != "fhirfacade_shadow_compare_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var typ, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "type":
					typ = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			v := vals[typ]
			switch result {
			case "match":
				v[0] += m.GetCounter().GetValue()
			case "mismatch", "missing": // errors and skips compared nothing
				v[1] += m.GetCounter().GetValue()
			}
			vals[typ] = v
		}
	}
	return vals
}
