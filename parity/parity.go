// Package parity proves (or disproves) that the FHIR server holds exactly
// what legacy holds for one resource type: every legacy row mapped, every
// FHIR resource listed, each side's normalised content hashed into the
// control store (so memory stays flat however large the type), the two
// merge-joined by id there, and the mismatches diffed element by element.
// The report is stored for the flip guard and written as JSON and HTML for
// reviewers.
package parity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/search"
)

// Options shape a comparison.
type Options struct {
	Type      string
	Threshold float64 // share of matching resources that passes (default 1.0)
	Samples   int     // sample diffs kept per element path (default 3)
	MaxDiffs  int     // mismatches diffed element by element (default 1000)
	Page      int     // resources per page read (default 500)
	// Progress, when set, is told after each page read how far the run
	// is: phase "legacy" or "fhir" with the resources read so far on that
	// side (the console's job page shows it).
	Progress func(phase string, n int)
}

// Counts are the comparison's totals.
type Counts struct {
	Legacy     int `json:"legacy"`
	FHIR       int `json:"fhir"`
	Matching   int `json:"matching"`
	Mismatched int `json:"mismatched"`
	OnlyLegacy int `json:"onlyLegacy"`
	OnlyFHIR   int `json:"onlyFhir"`
	Unmappable int `json:"unmappable"`
}

// Sample is one resource that differs, side by side.
type Sample struct {
	ID     string          `json:"id"`
	Kind   string          `json:"kind"` // mismatch, only-legacy, only-fhir, unmappable
	Paths  []string        `json:"paths,omitempty"`
	Legacy json.RawMessage `json:"legacy,omitempty"`
	FHIR   json.RawMessage `json:"fhir,omitempty"`
	Reason string          `json:"reason,omitempty"`
}

// Report is the stable, documented result (schema version 1).
type Report struct {
	Schema     int            `json:"schema"`
	ID         int64          `json:"id,omitempty"` // its row in the control store
	Type       string         `json:"type"`
	Started    time.Time      `json:"started"`
	Finished   time.Time      `json:"finished"`
	Passed     bool           `json:"passed"`
	Threshold  float64        `json:"threshold"`
	Counts     Counts         `json:"counts"`
	Paths      map[string]int `json:"mismatchesByPath"`
	Samples    []Sample       `json:"samples"`
	Ignored    []string       `json:"ignoredPaths"`
	Normalised []string       `json:"normalisation"`
	Shadow     []string       `json:"shadowMismatchSamples,omitempty"`
}

// Run compares legacy and FHIR for opts.Type and stores the report.
func Run(ctx context.Context, legacyB, fhirB backend.Backend, ctl *control.Store, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	var kb [8]byte
	_, _ = rand.Read(kb[:])
	r := &run{opts: opts, legacyB: legacyB, fhirB: fhirB, perPath: map[string]int{},
		st: staging{ctl: ctl, run: hex.EncodeToString(kb[:])},
		rep: &Report{Schema: 1, Type: opts.Type, Started: time.Now().UTC(), Threshold: opts.Threshold, Paths: map[string]int{}, Samples: []Sample{},
			Ignored:    compare.IgnoredPaths(),
			Normalised: []string{"numbers compared by value", "date-times compared as instants", "object keys unordered; array order kept"}}}
	defer r.st.cleanup(context.WithoutCancel(ctx))
	if err := r.hashBoth(ctx); err != nil {
		return nil, err
	}
	// merge-join by id in the control store
	if err := r.st.join(ctx, r.joined(ctx)); err != nil {
		return nil, fmt.Errorf("parity %s: join: %w", opts.Type, err)
	}
	rep := r.rep
	total := rep.Counts.Matching + rep.Counts.Mismatched + rep.Counts.OnlyLegacy + rep.Counts.OnlyFHIR + rep.Counts.Unmappable
	share := 0.0
	if total > 0 {
		share = float64(rep.Counts.Matching) / float64(total)
	}
	rep.Passed = total > 0 && share >= opts.Threshold && rep.Counts.OnlyLegacy == 0 && rep.Counts.OnlyFHIR == 0 && rep.Counts.Unmappable == 0
	rep.Shadow = shadowSamples(ctx, ctl, opts.Type)
	rep.Finished = time.Now().UTC()
	var err error
	if rep.ID, err = store(ctx, ctl, rep, total); err != nil {
		return nil, err
	}
	return rep, nil
}

func (o Options) withDefaults() Options {
	if o.Threshold <= 0 {
		o.Threshold = 1.0
	}
	if o.Samples <= 0 {
		o.Samples = 3
	}
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = 1000
	}
	if o.Page <= 0 {
		o.Page = 500
	}
	return o
}

// run is one parity run in progress.
type run struct {
	opts           Options
	legacyB, fhirB backend.Backend
	st             staging
	rep            *Report
	perPath        map[string]int
}

// sample keeps a few samples per first differing path (or kind).
func (r *run) sample(s Sample) {
	key := s.Kind
	if len(s.Paths) > 0 {
		key = s.Paths[0]
	}
	if r.perPath[key] < r.opts.Samples && len(r.rep.Samples) < 100 {
		r.perPath[key]++
		r.rep.Samples = append(r.rep.Samples, s)
	}
}

// hashBoth streams both sides, hashed into the control store page by page.
func (r *run) hashBoth(ctx context.Context) error {
	rep := r.rep
	read := 0
	n, err := stream(ctx, r.legacyB, r.opts, func(rs []*backend.Resource, bad []backend.Unmappable) error {
		for _, u := range bad {
			rep.Counts.Unmappable++
			r.sample(Sample{ID: u.ID, Kind: "unmappable", Reason: u.Reason})
		}
		read += len(rs) + len(bad)
		r.progress("legacy", read)
		return r.st.add(ctx, "L", rs)
	})
	if err != nil {
		return fmt.Errorf("parity %s: legacy: %w", r.opts.Type, err)
	}
	rep.Counts.Legacy = n + rep.Counts.Unmappable
	read = 0
	if rep.Counts.FHIR, err = stream(ctx, r.fhirB, r.opts, func(rs []*backend.Resource, _ []backend.Unmappable) error {
		read += len(rs)
		r.progress("fhir", read)
		return r.st.add(ctx, "F", rs)
	}); err != nil {
		return fmt.Errorf("parity %s: FHIR server: %w", r.opts.Type, err)
	}
	return nil
}

func (r *run) progress(phase string, n int) {
	if r.opts.Progress != nil {
		r.opts.Progress(phase, n)
	}
}

// joined counts one id of the join and samples what differs.
func (r *run) joined(ctx context.Context) func(id, lh, fh string) error {
	rep, typ := r.rep, r.opts.Type
	return func(id, lh, fh string) error {
		switch {
		case lh == "":
			rep.Counts.OnlyFHIR++
			f, _ := r.fhirB.Read(ctx, typ, id)
			r.sample(Sample{ID: id, Kind: "only-fhir", FHIR: raw(f)})
		case fh == "":
			rep.Counts.OnlyLegacy++
			l, _ := r.legacyB.Read(ctx, typ, id)
			r.sample(Sample{ID: id, Kind: "only-legacy", Legacy: raw(l)})
		case lh == fh:
			rep.Counts.Matching++
		default:
			r.mismatch(ctx, id)
		}
		return nil
	}
}

// mismatch diffs a mismatched pair element by element (up to MaxDiffs).
func (r *run) mismatch(ctx context.Context, id string) {
	rep, typ := r.rep, r.opts.Type
	rep.Counts.Mismatched++
	if rep.Counts.Mismatched > r.opts.MaxDiffs {
		rep.Paths["(not analysed: over the diff limit)"]++
		return
	}
	l, err1 := r.legacyB.Read(ctx, typ, id)
	f, err2 := r.fhirB.Read(ctx, typ, id)
	if err1 != nil || err2 != nil {
		rep.Paths["(changed during the comparison)"]++
		return
	}
	paths := compare.Diff(l.JSON, f.JSON)
	for _, p := range paths {
		rep.Paths[p]++
	}
	r.sample(Sample{ID: id, Kind: "mismatch", Paths: paths, Legacy: l.JSON, FHIR: f.JSON})
}

func raw(r *backend.Resource) json.RawMessage {
	if r == nil {
		return nil
	}
	return r.JSON
}

// stream reads every resource of the type, page by page.
func stream(ctx context.Context, b backend.Backend, opts Options, fn func([]*backend.Resource, []backend.Unmappable) error) (int, error) {
	n, cursor := 0, ""
	for {
		page, err := b.Search(ctx, opts.Type, &search.Query{}, backend.SearchOptions{Count: opts.Page, Cursor: cursor, Partial: true})
		if err != nil {
			return n, err
		}
		n += len(page.Resources)
		if err := fn(page.Resources, page.Unmappable); err != nil {
			return n, err
		}
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}
