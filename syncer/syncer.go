// Package syncer copies legacy rows of one resource type into the FHIR
// server: streamed in key order (keyset paging), mapped with the same specs
// the facade serves, written with PUT to the legacy-derived ids in batch
// bundles, checkpointed in the control store so a killed run resumes where
// it stopped. --incremental copies only rows changed since the last run and
// removes from FHIR what legacy no longer has.
package syncer

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/search"
)

// Options shape a run.
type Options struct {
	Type        string
	Batch       int           // entries per bundle (default 100; Azure allows 500)
	Parallel    int           // bundles in flight (default 4)
	Retries     int           // extra tries for an entry the server could not take now (default 3)
	Incremental bool          // only rows changed since the last finished run
	Overlap     time.Duration // incremental look-back so clock skew loses nothing (default 5 min)
	Progress    func(Progress)
}

// Progress is reported after each wave of bundles.
type Progress struct {
	Done, Failed int
	Elapsed      time.Duration
	// LockWait is how long the wave just done waited for the copy lock
	// (behind the outbox drainers of the running facades).
	LockWait time.Duration
}

// Failure is one resource that could not be copied, and why.
type Failure struct {
	ID     string
	Reason string
}

// Result counts a run.
type Result struct {
	Written, Failed, Deleted int
	Resumed                  bool
	Failures                 []Failure // the first 100
	// LockWaitMax is the longest a wave waited for the copy lock.
	LockWaitMax time.Duration
	// Note says why an incremental run copied everything (no watermark:
	// no earlier run finished, or the type has no last-updated column).
	Note string
}

// Syncer copies one side to the other.
type Syncer struct {
	Legacy backend.Backend
	// FHIR takes the copies, in batches when it is a backend.Batcher.
	FHIR backend.Backend
	Ctl  *control.Store
}

type checkpoint struct {
	runID     int64
	position  string
	watermark string
	written   int
	failed    int
}

// Run copies opts.Type. A checkpoint left by an interrupted run of the same
// type is resumed (its mode wins).
func (s *Syncer) Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	opts.Batch = min(opts.Batch, 500)
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Retries <= 0 {
		opts.Retries = 3
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 5 * time.Minute
	}
	res := &Result{}
	cp, err := s.loadCheckpoint(ctx, opts.Type)
	if err != nil {
		return nil, err
	}
	if cp != nil {
		res.Resumed = true
		res.Written, res.Failed = cp.written, cp.failed
		opts.Incremental = cp.watermark != ""
	} else {
		cp, err = s.startRun(ctx, opts)
		if err != nil {
			return nil, err
		}
	}
	q := changedSince(opts, cp, res)
	var maxSeen time.Time
	if cp.watermark != "" {
		maxSeen, _ = time.Parse(time.RFC3339Nano, cp.watermark)
	}
	turns, err := mirror.OpenCopyTurns(ctx, s.Ctl.DB, mirror.SyncSide)
	if err != nil {
		return res, fmt.Errorf("sync %s: %w", opts.Type, err)
	}
	defer turns.Close()
	start := time.Now()
	pos := cp.position
	var wait time.Duration
	for {
		var err error
		pos, wait, err = s.wave(ctx, turns, opts, q, pos, res, &maxSeen)
		res.LockWaitMax = max(res.LockWaitMax, wait)
		if err != nil {
			return res, err
		}
		if pos == "" {
			break
		}
		if err := s.saveCheckpoint(ctx, opts.Type, cp.runID, pos, cp.watermark, res); err != nil {
			return res, err
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Done: res.Written, Failed: res.Failed, Elapsed: time.Since(start), LockWait: wait})
		}
	}
	if opts.Incremental {
		n, err := s.removeDeleted(ctx, opts)
		res.Deleted = n
		if err != nil {
			return res, err
		}
	}
	if opts.Progress != nil {
		// the last wave's report (it ends the loop before the one above)
		opts.Progress(Progress{Done: res.Written, Failed: res.Failed, Elapsed: time.Since(start), LockWait: wait})
	}
	wm := ""
	if !maxSeen.IsZero() {
		wm = maxSeen.UTC().Format(time.RFC3339Nano)
	}
	return res, s.finish(ctx, opts.Type, cp.runID, wm, res)
}

// wave copies one wave: up to Parallel pages read in key order from pos,
// sent in parallel. The checkpoint moves only when the whole wave is done
// (by the caller), so a crash never skips a page. The copy lock is held
// from the reads to the last PUT: a facade write after our read is then
// copied by the outbox drainer after our PUT, never before it. It returns
// the position after the wave ("" at the end) and how long the wave waited
// for the copy lock. Each wave is one turn: the drainers of the running
// facades get theirs between two waves.
func (s *Syncer) wave(ctx context.Context, turns *mirror.CopyTurns, opts Options, q *search.Query, pos string, res *Result, maxSeen *time.Time) (string, time.Duration, error) {
	wait, err := turns.Take(ctx)
	if err != nil {
		return pos, wait, fmt.Errorf("sync %s: %w", opts.Type, err)
	}
	defer turns.Release()
	var pages []*backend.SearchResult
	for range opts.Parallel {
		page, err := s.Legacy.Search(ctx, opts.Type, q, backend.SearchOptions{Count: opts.Batch, Cursor: pos, Partial: true})
		if err != nil {
			return pos, wait, fmt.Errorf("sync %s: read legacy: %w", opts.Type, err)
		}
		pages = append(pages, page)
		pos = page.Next
		if pos == "" {
			break
		}
	}
	// counted before any sender runs: the senders update res too
	for _, page := range pages {
		for _, u := range page.Unmappable {
			res.fail(u.ID, "legacy row cannot be mapped: "+u.Reason)
		}
		for _, r := range page.Resources {
			if r.LastUpdated.After(*maxSeen) {
				*maxSeen = r.LastUpdated
			}
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var waveErr error
	for _, page := range pages {
		if len(page.Resources) == 0 {
			continue
		}
		wg.Add(1)
		go func(rs []*backend.Resource) {
			defer wg.Done()
			written, fails, err := s.send(ctx, opts, rs)
			mu.Lock()
			defer mu.Unlock()
			res.Written += written
			for _, f := range fails {
				res.fail(f.ID, f.Reason)
			}
			if err != nil && waveErr == nil {
				waveErr = err
			}
		}(page.Resources)
	}
	wg.Wait()
	if waveErr != nil {
		// stop cleanly: the checkpoint still points at this wave
		return pos, wait, fmt.Errorf("sync %s stopped (resume by running it again): %w", opts.Type, waveErr)
	}
	return pos, wait, nil
}

func (r *Result) fail(id, reason string) {
	r.Failed++
	if len(r.Failures) < 100 {
		r.Failures = append(r.Failures, Failure{ID: id, Reason: reason})
	}
}

// send writes one bundle; entries the server could not take now (429/5xx)
// are retried in a smaller bundle; others are failures with the server's
// reason. An error means the server is unavailable: nothing of the bundle
// is counted as done.
func (s *Syncer) send(ctx context.Context, opts Options, rs []*backend.Resource) (int, []Failure, error) {
	pending := rs
	written := 0
	var fails []Failure
	for attempt := 0; len(pending) > 0; attempt++ {
		entries := make([]backend.BatchEntry, len(pending))
		for i, r := range pending {
			entries[i] = backend.BatchEntry{Method: "PUT", URL: opts.Type + "/" + r.ID, Resource: r.JSON}
		}
		results, err := backend.BatchOf(s.FHIR).Batch(ctx, entries)
		if err != nil {
			return 0, nil, err
		}
		var again []*backend.Resource
		for i, rr := range results {
			switch {
			case rr.Status >= 200 && rr.Status < 300:
				written++
			case (rr.Status == 429 || rr.Status >= 500) && attempt < opts.Retries:
				again = append(again, pending[i])
			default:
				fails = append(fails, Failure{ID: pending[i].ID, Reason: fmt.Sprintf("FHIR server answered %d: %s", rr.Status, rr.Detail)})
			}
		}
		pending = again
		if len(again) > 0 {
			time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
		}
	}
	return written, fails, nil
}

// removeDeleted deletes from FHIR the resources of the type that legacy no
// longer has (FHIR ids streamed page by page; each page checked against
// legacy in one query).
func (s *Syncer) removeDeleted(ctx context.Context, opts Options) (int, error) {
	deleted := 0
	cursor := ""
	for {
		page, err := s.FHIR.Search(ctx, opts.Type, &search.Query{}, backend.SearchOptions{Count: search.MaxValues, Cursor: cursor})
		if err != nil {
			return deleted, fmt.Errorf("sync %s: list FHIR ids: %w", opts.Type, err)
		}
		if len(page.Resources) > 0 {
			ids := make([]string, len(page.Resources))
			for i, r := range page.Resources {
				ids[i] = r.ID
			}
			have, err := s.Legacy.Search(ctx, opts.Type, &search.Query{Params: []search.Param{{Name: "_id", Values: ids}}}, backend.SearchOptions{Count: len(ids), Partial: true})
			if err != nil {
				return deleted, err
			}
			exists := map[string]bool{}
			for _, r := range have.Resources {
				exists[r.ID] = true
			}
			for _, u := range have.Unmappable {
				exists[u.ID] = true
			}
			var entries []backend.BatchEntry
			for _, id := range ids {
				if !exists[id] {
					entries = append(entries, backend.BatchEntry{Method: "DELETE", URL: opts.Type + "/" + id})
				}
			}
			if len(entries) > 0 {
				results, err := backend.BatchOf(s.FHIR).Batch(ctx, entries)
				if err != nil {
					return deleted, err
				}
				for _, r := range results {
					if r.Status < 300 || r.Status == 404 || r.Status == 410 {
						deleted++
					}
				}
				// the deleted ids shift the server's offset-based pages
				cursor = ""
				continue
			}
		}
		if page.Next == "" {
			return deleted, nil
		}
		cursor = page.Next
	}
}

func (s *Syncer) loadCheckpoint(ctx context.Context, typ string) (*checkpoint, error) {
	cp, err := s.Ctl.SyncCheckpoint(ctx, typ)
	if err != nil || cp == nil {
		return nil, err
	}
	return &checkpoint{runID: cp.RunID, position: cp.Position, watermark: cp.Watermark, written: cp.Written, failed: cp.Failed}, nil
}

func (s *Syncer) startRun(ctx context.Context, opts Options) (*checkpoint, error) {
	cp := &checkpoint{}
	if opts.Incremental {
		wm, err := s.Ctl.LastSyncWatermark(ctx, opts.Type)
		if err != nil {
			return nil, fmt.Errorf("sync: %w", err)
		}
		cp.watermark = wm
	}
	mode := "full"
	if opts.Incremental {
		mode = "incremental"
	}
	var err error
	if cp.runID, err = s.Ctl.StartSyncRun(ctx, opts.Type, mode, time.Now()); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	if err := s.saveCheckpoint(ctx, opts.Type, cp.runID, "", cp.watermark, &Result{}); err != nil {
		return nil, err
	}
	return cp, nil
}

func (s *Syncer) saveCheckpoint(ctx context.Context, typ string, run int64, pos, wm string, r *Result) error {
	return s.Ctl.SaveSyncCheckpoint(ctx, typ, control.SyncCheckpoint{RunID: run, Position: pos, Watermark: wm, Written: r.Written, Failed: r.Failed}, time.Now())
}

// finish closes the run and drops the checkpoint in one transaction.
func (s *Syncer) finish(ctx context.Context, typ string, run int64, watermark string, r *Result) error {
	return s.Ctl.FinishSyncRun(ctx, typ, run, control.SyncTotals{Written: r.Written, Failed: r.Failed, Deleted: r.Deleted, Watermark: watermark}, time.Now())
}

// PlainProgress writes one line per wave (for logs and non-terminals).
func PlainProgress(w io.Writer, typ string) func(Progress) {
	return func(p Progress) {
		rate := float64(p.Done) / max(p.Elapsed.Seconds(), 0.001)
		fmt.Fprintf(w, "sync %s: %d written, %d failed, %.0f/s, %s (copy lock waited %s)\n", typ, p.Done, p.Failed, rate,
			strings.TrimSpace(p.Elapsed.Round(time.Second).String()), p.LockWait.Round(time.Millisecond))
	}
}

// changedSince is the query of the rows a run copies: those changed since
// the watermark (less the overlap) when incremental, else every row.
func changedSince(opts Options, cp *checkpoint, res *Result) *search.Query {
	q := &search.Query{}
	switch {
	case opts.Incremental && cp.watermark == "":
		res.Note = "incremental: no watermark (no earlier run finished with one, or the type's legacy table has no last-updated column): copied in full, and rows gone from legacy removed"
	case opts.Incremental:
		since, _ := time.Parse(time.RFC3339Nano, cp.watermark)
		q.Params = []search.Param{{Name: "_lastUpdated", Values: []string{"ge" + since.Add(-opts.Overlap).UTC().Format(time.RFC3339)}}}
	}
	return q
}
