package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/jsonscan"
)

// The native path: a system export's unfiltered types routed to the FHIR
// server are exported by ONE $export job of that server (Config.Exporter)
// instead of paging its search, when its CapabilityStatement offers
// $export. The upstream job is kicked off before the job's other parts
// run (it builds its files meanwhile) and its files are streamed into the
// parts' own files afterwards, PageSize lines per commit.
//
// Where a native part stands is its cursor: nativePrefix and a
// nativeCursor (the upstream status URL, the types it was asked for, and
// how far this type's files were copied), committed with every page like
// a search cursor — so a restarted job polls the same upstream job and
// skips the lines it already committed.

// nativePrefix marks a part cursor as a native one.
const nativePrefix = "$export:"

// nativeCursor is where a native part stands.
type nativeCursor struct {
	Status string   `json:"status"`
	Types  []string `json:"types"`
	File   int      `json:"file"` // index among this type's output files
	Line   int64    `json:"line"` // lines of that file already taken
}

func parseNative(cursor string) (nativeCursor, bool) {
	raw, ok := strings.CutPrefix(cursor, nativePrefix)
	var c nativeCursor
	if !ok || json.Unmarshal([]byte(raw), &c) != nil || c.Status == "" {
		return c, false
	}
	return c, true
}

func (c nativeCursor) String() string {
	raw, _ := json.Marshal(c)
	return nativePrefix + string(raw)
}

// nativeRun is a job's upstream export: its status URL and the parts it
// serves.
type nativeRun struct {
	status string
	parts  []*control.BulkPart
	cur    map[int]nativeCursor // by part seq
}

func (n *nativeRun) owns(p *control.BulkPart) bool {
	if n == nil {
		return false
	}
	_, ok := n.cur[p.Seq]
	return ok
}

// startNative resumes the job's upstream export, or kicks one off for
// the parts that can take it (nil: none, every part pages). A kick-off
// the server refuses leaves those parts to paging.
func (e *Engine) startNative(ctx context.Context, j *Job, routes backend.Routes, worker string) (*nativeRun, error) {
	ex := e.cfg.Exporter
	if ex == nil || j.Spec.Level != LevelSystem {
		return nil, nil
	}
	if run := resumeNative(j); run != nil {
		return run, nil
	}
	var cands []*control.BulkPart
	var types []string
	for i := range j.Parts {
		p := &j.Parts[i]
		// a filtered part pages: no standard tells whether the server
		// applies _typeFilter, and one that ignored it would widen the export
		if be := routes.BackendFor(p.Type); !p.Done && p.Cursor == "" && p.Query == "" && be != nil && be.Name() == ex.Name() {
			cands = append(cands, p)
			types = append(types, p.Type)
		}
	}
	if len(cands) == 0 || !ex.ExportOffered(ctx) {
		return nil, nil
	}
	status, err := ex.StartExport(ctx, types, j.Spec.Since)
	if errors.Is(err, backend.ErrInvalid) || errors.Is(err, backend.ErrNotSupported) || errors.Is(err, backend.ErrUnprocessable) {
		e.cfg.Log.Warn("the FHIR server refused $export: its types are paged", slog.String("job", j.ID), slog.String("error", err.Error()))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	run := &nativeRun{status: status, cur: map[int]nativeCursor{}}
	// DANGER: the status URL is committed before anything else, so that a
	// facade restarted from here polls this upstream job instead of
	// starting a second one (a crash before this commit leaves one
	// upstream job behind, which the server expires)
	for _, p := range cands {
		c := nativeCursor{Status: status, Types: types}
		p.Backend, p.Cursor = ex.Name(), c.String()
		if err := e.cfg.Store.SaveBulkPart(ctx, j.ID, worker, *p, e.cfg.now(), e.cfg.Lease); err != nil {
			return nil, err
		}
		run.parts, run.cur[p.Seq] = append(run.parts, p), c
	}
	return run, nil
}

// resumeNative is the upstream export a job's committed cursors name
// (nil: none). A part the kick-off covered but whose cursor was not yet
// committed when the facade stopped joins it.
func resumeNative(j *Job) *nativeRun {
	var run *nativeRun
	var types []string
	for i := range j.Parts {
		if c, ok := parseNative(j.Parts[i].Cursor); ok && run == nil {
			run, types = &nativeRun{status: c.Status, cur: map[int]nativeCursor{}}, c.Types
		}
	}
	if run == nil {
		return nil
	}
	for i := range j.Parts {
		p := &j.Parts[i]
		c, ok := parseNative(p.Cursor)
		switch {
		case ok:
		case p.Cursor == "" && !p.Done && p.Pages == 0 && containsType(types, p.Type):
			c = nativeCursor{Status: run.status, Types: types}
		default:
			continue
		}
		run.parts, run.cur[p.Seq] = append(run.parts, p), c
	}
	return run
}

func containsType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// finishNative waits for the upstream export and copies its files into
// the native parts; the upstream job is deleted once they are all done.
// An upstream failure ends each unfinished part with one error line.
func (e *Engine) finishNative(ctx context.Context, j *Job, run *nativeRun, worker string) error {
	if run == nil || allDone(run.parts) {
		return nil
	}
	m, failed := e.awaitNative(ctx, j, run, worker)
	if errors.Is(failed, backend.ErrGone) && noneCopied(run.parts) {
		// the upstream job vanished (expired, or its server lost it) before
		// any of its lines were committed: there is nothing to skip, so a
		// new one serves as well
		if failed = e.restartNative(ctx, j, run, worker); failed == nil {
			m, failed = e.awaitNative(ctx, j, run, worker)
		}
	}
	if errors.Is(failed, control.ErrBulkLeaseLost) || ctx.Err() != nil {
		return failed
	}
	if failed != nil {
		e.cfg.Log.Warn("the FHIR server's $export failed", slog.String("job", j.ID), slog.String("error", failed.Error()))
	}
	for _, p := range run.parts {
		var err error
		switch {
		case p.Done:
			continue
		case failed != nil:
			err = e.nativeFailed(ctx, j, p, failed, worker)
		default:
			err = e.nativePart(ctx, j, p, run.cur[p.Seq], m, worker)
		}
		if err != nil {
			return &partError{typ: p.Type, err: err}
		}
	}
	e.cancelUpstream(ctx, run.status)
	return nil
}

// noneCopied: no line of the upstream's files was committed yet.
func noneCopied(parts []*control.BulkPart) bool {
	for _, p := range parts {
		if p.Done || p.Pages > 0 {
			return false
		}
	}
	return true
}

// restartNative kicks off a new upstream job for the run's types and
// commits its status URL in their cursors.
func (e *Engine) restartNative(ctx context.Context, j *Job, run *nativeRun, worker string) error {
	types := run.cur[run.parts[0].Seq].Types
	status, err := e.cfg.Exporter.StartExport(ctx, types, j.Spec.Since)
	if err != nil {
		return err
	}
	e.cfg.Log.Info("the FHIR server's $export job was gone: started another", slog.String("job", j.ID))
	run.status = status
	for _, p := range run.parts {
		c := nativeCursor{Status: status, Types: types}
		p.Cursor, run.cur[p.Seq] = c.String(), c
		if err := e.cfg.Store.SaveBulkPart(ctx, j.ID, worker, *p, e.cfg.now(), e.cfg.Lease); err != nil {
			return err
		}
	}
	return nil
}

func allDone(parts []*control.BulkPart) bool {
	for _, p := range parts {
		if !p.Done {
			return false
		}
	}
	return true
}

// awaitNative polls the upstream job until it completes, honouring its
// Retry-After (capped so the lease, renewed after every poll, holds).
func (e *Engine) awaitNative(ctx context.Context, j *Job, run *nativeRun, worker string) (*backend.ExportManifest, error) {
	for {
		m, wait, err := e.cfg.Exporter.ExportStatus(ctx, run.status)
		if err != nil || m != nil {
			return m, err
		}
		if wait < 0 { // no Retry-After
			wait = time.Second
		}
		wait = max(wait, 100*time.Millisecond)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(wait, e.cfg.Lease/3)):
		}
		// a cancelled job or a lost lease ends the wait
		if err := e.cfg.Store.RenewBulkLease(ctx, j.ID, worker, e.cfg.now(), e.cfg.Lease); err != nil {
			return nil, err
		}
	}
}

// nativeFailed ends a part whose upstream export failed with one error
// line naming the kind of failure only (the server's own text may hold
// URLs or more).
func (e *Engine) nativeFailed(ctx context.Context, j *Job, p *control.BulkPart, cause error, worker string) error {
	f, err := e.openPart(ctx, j, p)
	if err != nil {
		return err
	}
	defer f.close()
	pg := &page{}
	kind := "internal error"
	for _, s := range publicSentinels {
		if errors.Is(cause, s) {
			kind = s.Error()
			break
		}
	}
	pg.outcome(fmt.Sprintf("%s could not be exported: the FHIR server's $export failed (%s)", p.Type, kind))
	p.Done = true
	return e.commit(ctx, j, p, f, pg, worker)
}

// nativePart copies the type's files of the manifest into the part, from
// where its cursor stands.
func (e *Engine) nativePart(ctx context.Context, j *Job, p *control.BulkPart, c nativeCursor, m *backend.ExportManifest, worker string) error {
	var files []string
	for _, o := range m.Output {
		if o.Type == p.Type {
			files = append(files, o.URL)
		}
	}
	f, err := e.openPart(ctx, j, p)
	if err != nil {
		return err
	}
	defer f.close()
	pg := &page{}
	if p.Pages == 0 && len(m.Error) > 0 {
		pg.outcome(fmt.Sprintf("the FHIR server's $export reported %d error file(s): some %s resources may be missing", len(m.Error), p.Type))
	}
	for c.File < len(files) {
		if err := e.nativeFile(ctx, j, p, &c, m, files[c.File], f, pg, worker); err != nil {
			return err
		}
	}
	p.Done = true
	return e.commit(ctx, j, p, f, pg, worker)
}

// nativeFile copies one upstream file, committing every PageSize lines
// and at its end; lines the cursor says were taken are skipped.
func (e *Engine) nativeFile(ctx context.Context, j *Job, p *control.BulkPart, c *nativeCursor, m *backend.ExportManifest, url string, f *partFiles, pg *page, worker string) error {
	rc, err := e.cfg.Exporter.OpenExportFile(ctx, m, url)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	var n int64
	for {
		line, rerr := br.ReadBytes('\n')
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if n++; n > c.Line {
				pg.native(p.Type, line)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%w: $export file of %s: %v", backend.ErrUnavailable, p.Type, rerr)
		}
		if pg.lines+pg.errLines >= e.cfg.PageSize {
			c.Line = n
			p.Cursor = c.String()
			if err := e.commit(ctx, j, p, f, pg, worker); err != nil {
				return err
			}
			pg.reset()
		}
	}
	c.File, c.Line = c.File+1, 0
	p.Cursor = c.String()
	if err := e.commit(ctx, j, p, f, pg, worker); err != nil {
		return err
	}
	pg.reset()
	return nil
}

// typeName is what a resourceType looks like (anything else is not
// echoed into an error line).
var typeName = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)

// native adds one line of an upstream file: kept when it is a JSON
// resource of typ, else left out with an error line — a server bug must
// not put another type (or garbage) into the type's file.
func (pg *page) native(typ string, line []byte) {
	if !json.Valid(line) {
		pg.outcome(fmt.Sprintf("a line of the FHIR server's %s export file is not JSON: left out", typ))
		return
	}
	got, _ := jsonscan.String(jsonscan.TopLevel(line, "resourceType")[0])
	if got != typ {
		if !typeName.MatchString(got) {
			got = "not a resource"
		}
		pg.outcome(fmt.Sprintf("a line of the FHIR server's %s export file is %s: left out", typ, got))
		return
	}
	pg.out.Write(line)
	pg.out.WriteByte('\n')
	pg.lines++
}

// cancelUpstream deletes an upstream export job (best effort: the server
// expires it anyway).
func (e *Engine) cancelUpstream(ctx context.Context, status string) {
	if e.cfg.Exporter == nil || status == "" {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.cfg.Exporter.CancelExport(cctx, status); err != nil {
		e.cfg.Log.Warn("the FHIR server's $export job could not be deleted", slog.String("error", err.Error()))
	}
}

// upstreamStatus is the upstream export a job's parts name ("" when none).
func upstreamStatus(parts []control.BulkPart) string {
	for _, p := range parts {
		if c, ok := parseNative(p.Cursor); ok {
			return c.Status
		}
	}
	return ""
}
