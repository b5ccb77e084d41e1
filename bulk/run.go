package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
)

// Run runs MaxJobs workers until ctx ends; each claims a job, runs it to
// its end and looks for the next. A job a worker is stopped in (ctx ended)
// is released for the next facade, or this one restarted, to resume.
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.sweepEvery(ctx, time.Minute) }()
	for i := 0; i < e.cfg.MaxJobs; i++ {
		wg.Add(1)
		go func(worker string) {
			defer wg.Done()
			for ctx.Err() == nil {
				ran, err := e.RunOnce(ctx, worker)
				if err != nil && ctx.Err() == nil {
					e.cfg.Log.Warn("bulk export worker", slog.String("error", err.Error()))
				}
				if !ran || err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(e.cfg.Poll):
					}
				}
			}
		}(e.cfg.Worker + "/" + strconv.Itoa(i))
	}
	wg.Wait()
}

// sweepEvery deletes expired jobs every interval until ctx ends (every
// facade sweeps; a job two sweep at once is deleted once).
func (e *Engine) sweepEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Log.Warn("bulk export sweep", slog.String("error", err.Error()))
		} else if n > 0 {
			e.cfg.Log.Info("bulk export jobs expired", slog.Int("jobs", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims one job for worker (a lease owner name, one per
// goroutine) and runs it until it ends or ctx does; ran is false when
// there was no job to claim.
func (e *Engine) RunOnce(ctx context.Context, worker string) (ran bool, err error) {
	j, err := e.cfg.Store.ClaimBulkJob(ctx, worker, e.cfg.now(), e.cfg.Lease)
	if err != nil || j == nil {
		return false, err
	}
	log := e.cfg.Log.With(slog.String("job", j.ID))
	err = e.runJob(ctx, j.ID, worker)
	switch {
	case err == nil:
		err = e.finish(ctx, j.ID, worker, control.BulkDone, "")
		if err == nil {
			log.Info("bulk export done")
		}
		return true, err
	case errors.Is(err, control.ErrBulkLeaseLost):
		return true, e.lost(ctx, j.ID)
	case ctx.Err() != nil:
		// stopped, not failed: give the job back at once (a detached
		// context: ctx is over)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return true, e.cfg.Store.ReleaseBulkJob(rctx, j.ID, worker)
	}
	log.Warn("bulk export failed", slog.String("error", err.Error()))
	return true, e.finish(ctx, j.ID, worker, control.BulkFailed, publicReason(err))
}

// finish ends the job this worker runs, then deletes its upstream $export
// job. DANGER: only after FinishBulkJob proved this worker still held the
// lease: a worker whose lease expired must not delete the upstream job the
// job's new owner polls.
func (e *Engine) finish(ctx context.Context, id, worker, status, reason string) error {
	err := e.cfg.Store.FinishBulkJob(ctx, id, worker, status, reason, e.cfg.now())
	if errors.Is(err, control.ErrBulkLeaseLost) {
		return e.lost(ctx, id)
	}
	if err != nil {
		return err
	}
	if _, parts, err := e.cfg.Store.BulkJob(ctx, id); err == nil {
		e.cancelUpstream(ctx, upstreamStatus(parts))
	}
	return nil
}

// lost handles a job taken from this worker: when it was cancelled, its
// files (some maybe written after the cancel removed the others) and its
// upstream $export job (maybe started after the cancel read the parts) go
// too.
func (e *Engine) lost(ctx context.Context, id string) error {
	j, parts, err := e.cfg.Store.BulkJob(ctx, id)
	if err != nil {
		return err
	}
	if j != nil && j.Status == control.BulkCancelled {
		e.cancelUpstream(ctx, upstreamStatus(parts))
		return e.cfg.Sink.Remove(ctx, id)
	}
	return nil
}

// publicSentinels name the failures a client may be told about.
var publicSentinels = []error{backend.ErrExportFailed, backend.ErrUnavailable, backend.ErrGone, backend.ErrInvalid, backend.ErrNotSupported, backend.ErrUnprocessable, backend.ErrUnmappable}

// publicReason is what a failed job's status tells the client: the type
// and the kind of failure, never a backend's own text.
func publicReason(err error) string {
	var pe *partError
	typ := "the export"
	if errors.As(err, &pe) {
		typ = pe.typ
	}
	for _, s := range publicSentinels {
		if errors.Is(err, s) {
			return typ + ": " + s.Error()
		}
	}
	return typ + ": internal error (see the server log)"
}

// partError names the type a failure happened on.
type partError struct {
	typ string
	err error
}

func (e *partError) Error() string { return e.typ + ": " + e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

// runJob runs the job's unfinished parts in order on one route snapshot.
func (e *Engine) runJob(ctx context.Context, id, worker string) error {
	j, err := e.Job(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return control.ErrBulkLeaseLost // cancelled meanwhile
	}
	if err != nil {
		return err
	}
	routes := e.cfg.Router.Snapshot()
	// the upstream $export (when the FHIR server's types take it) is
	// kicked off first: it builds its files while the other parts page
	run, err := e.startNative(ctx, j, routes, worker)
	if err != nil {
		return err
	}
	for i := range j.Parts {
		p := &j.Parts[i]
		if p.Done || run.owns(p) {
			continue
		}
		if err := e.runPart(ctx, j, p, routes, worker); err != nil {
			if errors.Is(err, control.ErrBulkLeaseLost) || ctx.Err() != nil {
				return err
			}
			return &partError{typ: p.Type, err: err}
		}
	}
	return e.finishNative(ctx, j, run, routes, worker)
}

// backendFor is the backend a part reads: the one that issued its cursor
// when it has one (a route flip mid-export must not hand one backend's
// position to another), else the one the route snapshot names.
func (e *Engine) backendFor(p *control.BulkPart, routes backend.Routes) backend.Backend {
	if p.Cursor != "" && p.Backend != "" {
		return e.cfg.Router.ByName(p.Backend)
	}
	return routes.BackendFor(p.Type)
}

// runPart exports one part page by page: fetch from the committed cursor,
// append the page to the files (durably), then commit the new cursor and
// lengths. A crash between the append and the commit leaves bytes past
// the committed length, which the next Append cuts off.
func (e *Engine) runPart(ctx context.Context, j *Job, p *control.BulkPart, routes backend.Routes, worker string) error {
	f, err := e.openPart(ctx, j, p)
	if err != nil {
		return err
	}
	defer f.close()
	pg := &page{}
	for !p.Done {
		if err := ctx.Err(); err != nil {
			return err
		}
		pg.reset()
		if err := e.fetch(ctx, j, p, routes, pg); err != nil {
			return err
		}
		if err := e.commit(ctx, j, p, f, pg, worker); err != nil {
			return err
		}
	}
	return nil
}

// partFiles are a part's output and error files, open for appending.
type partFiles struct{ out, errs Writer }

// openPart opens the part's files after their committed lengths.
func (e *Engine) openPart(ctx context.Context, j *Job, p *control.BulkPart) (*partFiles, error) {
	out, err := e.cfg.Sink.Append(ctx, j.ID, OutputName(*p), p.Bytes)
	if err != nil {
		return nil, err
	}
	errw, err := e.cfg.Sink.Append(ctx, j.ID, ErrorName(*p), p.ErrBytes)
	if err != nil {
		out.Close()
		return nil, err
	}
	return &partFiles{out, errw}, nil
}

func (f *partFiles) close() {
	f.out.Close()
	f.errs.Close()
}

// commit writes one page to the part's files and commits it with p's
// cursor (already moved past the page), counting its lines.
func (e *Engine) commit(ctx context.Context, j *Job, p *control.BulkPart, f *partFiles, pg *page, worker string) error {
	// DANGER: a fetch slower than the lease lets another worker claim
	// the job and write these files from the committed length. Renewing
	// before writing stops this worker from writing over (or, on blob
	// storage, dropping the blocks of) the new owner's pages; the
	// renewed lease outlasts one page's write and commit.
	if err := e.cfg.Store.RenewBulkLease(ctx, j.ID, worker, e.cfg.now(), e.cfg.Lease); err != nil {
		return err
	}
	if err := f.out.Write(ctx, pg.out.Bytes()); err != nil {
		return err
	}
	if err := f.errs.Write(ctx, pg.errs.Bytes()); err != nil {
		return err
	}
	p.Pages++
	p.Lines += int64(pg.lines)
	p.Bytes += int64(pg.out.Len())
	p.ErrLines += int64(pg.errLines)
	p.ErrBytes += int64(pg.errs.Len())
	if err := e.cfg.Store.SaveBulkPart(ctx, j.ID, worker, *p, e.cfg.now(), e.cfg.Lease); err != nil {
		return err
	}
	if e.cfg.OnCommit != nil {
		e.cfg.OnCommit(j.ID, *p)
	}
	return nil
}

// fetch reads the part's next page into pg and moves p's cursor (in
// memory: it is committed with the page). A part its backend refuses (a
// filter or _since the type cannot take, a type no longer served) ends
// with one OperationOutcome line in its error file instead of failing the
// whole job; an unavailable backend fails it.
func (e *Engine) fetch(ctx context.Context, j *Job, p *control.BulkPart, routes backend.Routes, pg *page) error {
	be := e.backendFor(p, routes)
	if be == nil {
		pg.outcome(p.Type + " is not served here (any more)")
		p.Done = true
		return nil
	}
	q, err := query(*p, j.Spec.Since)
	if err == nil {
		var res *backend.SearchResult
		res, err = be.Search(ctx, p.Type, q, backend.SearchOptions{Cursor: p.Cursor, Count: e.cfg.PageSize, Partial: true})
		if err == nil {
			p.Backend, p.Cursor, p.Done = be.Name(), res.Next, res.Next == ""
			return pg.add(res)
		}
	}
	for _, s := range []error{backend.ErrInvalid, backend.ErrNotSupported, backend.ErrUnprocessable} {
		if errors.Is(err, s) {
			pg.outcome(fmt.Sprintf("%s could not be exported: %s", p.Type, s.Error()))
			p.Done = true
			return nil
		}
	}
	return err
}

// page is one page's lines, its buffers reused from page to page so that
// a part's memory stays that of one page.
type page struct {
	out, errs       bytes.Buffer
	lines, errLines int
}

func (pg *page) reset() {
	pg.out.Reset()
	pg.errs.Reset()
	pg.lines, pg.errLines = 0, 0
}

// add appends a search page: each resource as one NDJSON line (compacted
// when its JSON spans lines, as an upstream's may), and an OperationOutcome
// line for each row that cannot be mapped (naming the row, element and
// column, never the value).
func (pg *page) add(res *backend.SearchResult) error {
	for _, r := range res.Resources {
		// IndexByte is vectorised; IndexAny over "\r\n" cost 8% of a
		// legacy export's CPU (a lone \r does not break an NDJSON line)
		if bytes.IndexByte(r.JSON, '\n') >= 0 {
			if err := json.Compact(&pg.out, r.JSON); err != nil {
				return fmt.Errorf("%w: %s/%s is not JSON", backend.ErrUnavailable, r.Type, r.ID)
			}
		} else {
			pg.out.Write(r.JSON)
		}
		pg.out.WriteByte('\n')
		pg.lines++
	}
	for _, u := range res.Unmappable {
		pg.outcome(u.Public)
	}
	return nil
}

// outcome appends one OperationOutcome error line.
func (pg *page) outcome(msg string) {
	js, _ := json.Marshal(map[string]any{"resourceType": "OperationOutcome",
		"issue": []map[string]any{{"severity": "error", "code": "processing", "diagnostics": msg}}})
	pg.errs.Write(js)
	pg.errs.WriteByte('\n')
	pg.errLines++
}
