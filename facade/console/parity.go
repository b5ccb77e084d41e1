package console

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/parity"
)

// reportRow is one stored report in a type's list.
type reportRow struct {
	control.ParityReport
	Counts parity.Counts
}

// trendPoint is one report on the trend chart (SVG coordinates).
type trendPoint struct {
	X, Y   float64
	Passed bool
	ID     int64
	Label  string
}

// parityType lists every stored report of a type with a trend chart of
// its matching share.
func (c *Console) parityType(w http.ResponseWriter, r *http.Request, s *session) {
	typ := r.PathValue("type")
	if !c.known(typ) {
		c.fail(w, r, http.StatusNotFound, "resource type "+strconv.Quote(typ)+" is not mapped")
		return
	}
	reps, err := c.cfg.Ctl.ParityReports(r.Context(), typ, 200)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	rows := make([]reportRow, 0, len(reps))
	for _, p := range reps {
		var body parity.Report
		_ = json.Unmarshal([]byte(p.Body), &body)
		rows = append(rows, reportRow{ParityReport: p, Counts: body.Counts})
	}
	c.render(w, r, http.StatusOK, "paritytype", pageView(s, "Parity: "+typ, "parity", map[string]any{
		"Type": typ, "Reports": rows, "Trend": trend(reps), "FHIR": c.cfg.FHIR != nil, "Types": c.cfg.Types,
	}))
}

// trendChart is the matching share of a type's reports over time, in a
// 600×170 SVG: oldest left, the share upwards on a scale from just under
// the lowest share to 100% (so that 99.7% and 100% do not look alike).
type trendChart struct {
	Points              []trendPoint
	Top, Middle, Bottom string // the axis labels
}

func trend(reps []control.ParityReport) *trendChart {
	n := len(reps)
	if n == 0 {
		return nil
	}
	shares := make([]float64, n)
	low := 1.0
	for i := range reps {
		p := reps[n-1-i] // the list is newest first
		if p.Total > 0 {
			shares[i] = float64(p.Matching) / float64(p.Total)
		}
		low = min(low, shares[i])
	}
	// the scale's floor: a round percent below the lowest share
	floor := max(0, math.Floor((low-max((1-low)*0.5, 0.01))*100)/100)
	c := &trendChart{Top: "100%", Middle: fmt.Sprintf("%.1f%%", (1+floor)*50), Bottom: fmt.Sprintf("%.0f%%", floor*100)}
	for i, share := range shares {
		p := reps[n-1-i]
		x := 330.0
		if n > 1 {
			x = 60 + float64(i)*520/float64(n-1)
		}
		c.Points = append(c.Points, trendPoint{X: x, Y: 150 - (share-floor)/(1-floor)*140, Passed: p.Passed, ID: p.ID,
			Label: fmt.Sprintf("report %d, %s: %.1f%% matching", p.ID, p.At.UTC().Format("2006-01-02 15:04"), share*100)})
	}
	return c
}

// bar is one segment of the counts bar.
type bar struct {
	Name  string
	Count int
	X, W  float64 // percent of the width
	Class string
}

// samplePair is a sample with both sides pretty-printed and marked.
type samplePair struct {
	parity.Sample
	Elements               []elementDiff
	LegacyLines, FHIRLines []line
}

// parityReport is one report: counts bar, the paths that differ most and,
// for a report run in this process, the samples side by side.
func (c *Console) parityReport(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "a report id is a number")
		return
	}
	stored, found, err := c.cfg.Ctl.ParityReportByID(r.Context(), id)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if !found {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("there is no parity report %d", id))
		return
	}
	rep := c.jobs.report(id)
	withSamples := rep != nil
	if rep == nil {
		rep = &parity.Report{}
		_ = json.Unmarshal([]byte(stored.Body), rep)
	}
	pairs := make([]samplePair, 0, len(rep.Samples))
	for _, sm := range rep.Samples {
		pairs = append(pairs, samplePair{Sample: sm, Elements: elementDiffs(sm.Legacy, sm.FHIR, sm.Paths), LegacyLines: diffLines(sm.Legacy, sm.Paths), FHIRLines: diffLines(sm.FHIR, sm.Paths)})
	}
	c.render(w, r, http.StatusOK, "report", pageView(s, fmt.Sprintf("Parity report %d (%s)", id, stored.Type), "parity", map[string]any{
		"Stored": stored, "R": rep, "Bars": countsBar(rep.Counts), "Paths": topPaths(rep.Paths, 20), "Samples": pairs, "WithSamples": withSamples,
	}))
}

// countsBar lays the comparison's outcomes end to end.
func countsBar(k parity.Counts) []bar {
	segs := []bar{{"matching", k.Matching, 0, 0, "ok"}, {"mismatched", k.Mismatched, 0, 0, "bad"},
		{"only in legacy", k.OnlyLegacy, 0, 0, "warn"}, {"only in FHIR", k.OnlyFHIR, 0, 0, "warn2"}, {"unmappable", k.Unmappable, 0, 0, "grey"}}
	total := 0
	for _, b := range segs {
		total += b.Count
	}
	x := 0.0
	for i := range segs {
		if total > 0 {
			segs[i].W = float64(segs[i].Count) * 100 / float64(total)
		}
		segs[i].X = x
		x += segs[i].W
	}
	return segs
}

type pathCount struct {
	Path  string
	Count int
}

// topPaths are the n element paths with the most differing resources.
func topPaths(m map[string]int, n int) []pathCount {
	out := make([]pathCount, 0, len(m))
	for p, k := range m {
		out = append(out, pathCount{p, k})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Path < out[j].Path
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
