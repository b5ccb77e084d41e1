package bulk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
	// URL is a hash of that file's URL (without its query: a pre-signed
	// URL's signature may change from poll to poll): a resumed copy checks
	// the manifest still names the same file at that index.
	URL string `json:"url,omitempty"`
}

// fileHash is a nativeCursor's URL of an upstream file URL.
func fileHash(u string) string {
	u, _, _ = strings.Cut(u, "?")
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:8])
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
// that fails (refused, throttled, a conflicting export) leaves those parts
// to paging.
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
		// (a part with a backend but no cursor was sent to paging when its
		// upstream job failed: see pageNative)
		if be := routes.BackendFor(p.Type); !p.Done && p.Cursor == "" && p.Backend == "" && p.Query == "" && be != nil && be.Name() == ex.Name() {
			cands = append(cands, p)
			types = append(types, p.Type)
		}
	}
	if len(cands) == 0 || !ex.ExportOffered(ctx) {
		return nil, nil
	}
	status, err := ex.StartExport(ctx, types, j.Spec.Since)
	if err != nil && ctx.Err() == nil {
		// refused (400, 422), busy (429, 409: another export running) or
		// unavailable: paging serves the same lines, so the job goes on
		// (a server that cannot serve its search either fails it there)
		e.cfg.Log.Warn("the FHIR server's $export could not be kicked off: its types are paged", slog.String("job", j.ID), slog.String("reason", publicReason(err)))
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
			e.orphan(ctx, j, run.parts, status)
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
		case p.Cursor == "" && p.Backend == "" && !p.Done && p.Pages == 0 && containsType(types, p.Type):
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
// the native parts. An upstream job that failed (or vanished, or whose
// status stayed unreadable past ExportOutage) before any of its lines were
// committed is replaced: by a new upstream job when it vanished, else by
// paging the types. Once lines were committed it fails the facade job: a
// type must never end silently partial. The upstream job is deleted when
// the facade job has finished (RunOnce), not here: this worker may no
// longer own the job by then.
func (e *Engine) finishNative(ctx context.Context, j *Job, run *nativeRun, routes backend.Routes, worker string) error {
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
	switch {
	case errors.Is(failed, control.ErrBulkLeaseLost) || ctx.Err() != nil:
		return failed
	case failed != nil && noneCopied(run.parts):
		return e.pageNative(ctx, j, run, routes, worker, failed)
	case failed != nil:
		return &partError{typ: firstUnfinished(run.parts), err: failed}
	}
	for _, p := range run.parts {
		if p.Done {
			continue
		}
		if err := e.nativePart(ctx, j, p, run.cur[p.Seq], m, worker); err != nil {
			return &partError{typ: p.Type, err: err}
		}
	}
	return nil
}

// pageNative pages the run's parts after their upstream job failed before
// any of its lines were committed. Their cursors are cleared (Backend
// kept: a part with a backend and no cursor is never offered to $export
// again) before the upstream job is deleted, so a restarted job pages
// them too.
func (e *Engine) pageNative(ctx context.Context, j *Job, run *nativeRun, routes backend.Routes, worker string, cause error) error {
	e.cfg.Log.Warn("the FHIR server's $export failed before any line was copied: its types are paged",
		slog.String("job", j.ID), slog.String("reason", publicReason(cause)))
	for _, p := range run.parts {
		p.Cursor, p.Backend = "", e.cfg.Exporter.Name()
		if err := e.cfg.Store.SaveBulkPart(ctx, j.ID, worker, *p, e.cfg.now(), e.cfg.Lease); err != nil {
			return err
		}
	}
	// the save above proved this worker holds the lease: no other worker
	// can be using the upstream job
	e.cancelUpstream(ctx, run.status)
	for _, p := range run.parts {
		if err := e.runPart(ctx, j, p, routes, worker); err != nil {
			if errors.Is(err, control.ErrBulkLeaseLost) || ctx.Err() != nil {
				return err
			}
			return &partError{typ: p.Type, err: err}
		}
	}
	return nil
}

func firstUnfinished(parts []*control.BulkPart) string {
	for _, p := range parts {
		if !p.Done {
			return p.Type
		}
	}
	return "the export"
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
	for i, p := range run.parts {
		c := nativeCursor{Status: status, Types: types}
		p.Cursor, run.cur[p.Seq] = c.String(), c
		if err := e.cfg.Store.SaveBulkPart(ctx, j.ID, worker, *p, e.cfg.now(), e.cfg.Lease); err != nil {
			e.orphan(ctx, j, run.parts[:i], status)
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
// Retry-After. A status that cannot be read (ErrUnavailable: a 503, a
// throttled poll, the circuit open) is polled again with backoff until it
// has been so for ExportOutage; any other error ends the wait.
func (e *Engine) awaitNative(ctx context.Context, j *Job, run *nativeRun, worker string) (*backend.ExportManifest, error) {
	var down time.Time // since when the status could not be read
	for n := 0; ; n++ {
		m, wait, err := e.cfg.Exporter.ExportStatus(ctx, run.status)
		switch {
		case m != nil:
			return m, nil
		case err == nil:
			down, n = time.Time{}, 0
			if wait < 0 { // no Retry-After
				wait = time.Second
			}
		case ctx.Err() != nil || !errors.Is(err, backend.ErrUnavailable) || errors.Is(err, backend.ErrExportFailed):
			return nil, err
		default:
			if down.IsZero() {
				down = e.cfg.now()
			}
			if e.cfg.now().Sub(down) >= e.cfg.ExportOutage {
				return nil, err
			}
			e.cfg.Log.Warn("the FHIR server's $export status could not be read: polling again",
				slog.String("job", j.ID), slog.String("reason", publicReason(err)))
			wait = backoff(n)
		}
		if err := e.sleepRenewing(ctx, j, worker, wait); err != nil {
			return nil, err
		}
	}
}

// maxPollWait caps one wait between status polls (a Retry-After of hours
// would hold a worker that long).
const maxPollWait = 5 * time.Minute

// backoff is the n-th wait between failed polls: exponential from 200 ms
// to 30 s, with jitter.
func backoff(n int) time.Duration {
	d := min(200*time.Millisecond<<min(n, 8), 30*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleepRenewing waits d (at least 100 ms, at most maxPollWait), renewing
// the job's lease every Lease/3 so that it holds however long the wait.
// A cancelled job or a lost lease ends the wait with ErrBulkLeaseLost.
func (e *Engine) sleepRenewing(ctx context.Context, j *Job, worker string, d time.Duration) error {
	end := time.Now().Add(min(max(d, 100*time.Millisecond), maxPollWait))
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(left, e.cfg.Lease/3)):
		}
		if err := e.cfg.Store.RenewBulkLease(ctx, j.ID, worker, e.cfg.now(), e.cfg.Lease); err != nil {
			return err
		}
	}
}

// nativePart copies the type's files of the manifest into the part, from
// where its cursor stands.
func (e *Engine) nativePart(ctx context.Context, j *Job, p *control.BulkPart, c nativeCursor, m *backend.ExportManifest, worker string) error {
	var files []backend.ExportFile
	for _, o := range m.Output {
		if o.Type == p.Type {
			files = append(files, o)
		}
	}
	if c.File > len(files) || c.File == len(files) && c.Line > 0 {
		return fmt.Errorf("%w: %s: the manifest has fewer files than were copied", errManifestChanged, p.Type)
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

// errManifestChanged: a resumed copy found the upstream's manifest or
// file not as the committed lines were copied from. The job fails: its
// lines could not be told apart from missing or duplicate ones.
var errManifestChanged = fmt.Errorf("%w: the manifest changed", backend.ErrExportFailed)

// nativeFile copies one upstream file, committing every PageSize lines
// and at its end; lines the cursor says were taken are skipped. A file
// other than the cursor's, or with another count of lines than the
// manifest's, fails the part.
func (e *Engine) nativeFile(ctx context.Context, j *Job, p *control.BulkPart, c *nativeCursor, m *backend.ExportManifest, file backend.ExportFile, f *partFiles, pg *page, worker string) error {
	url := file.URL
	if h := fileHash(url); c.URL == "" {
		c.URL = h
	} else if c.URL != h {
		return fmt.Errorf("%w: %s: another file at a copied index", errManifestChanged, p.Type)
	}
	rc, err := e.cfg.Exporter.OpenExportFile(ctx, m, url)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	var n int64
	for {
		line, long, rerr := readLine(br, maxLine)
		if line = bytes.TrimSpace(line); len(line) > 0 || long {
			switch n++; {
			case n <= c.Line:
			case long:
				pg.outcome(fmt.Sprintf("a line of the FHIR server's %s export file is longer than %d MiB: left out", p.Type, maxLine>>20))
			default:
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
	if n < c.Line || file.Count > 0 && n != file.Count {
		return fmt.Errorf("%w: %s: a file has %d lines, the manifest says %d (%d copied)", errManifestChanged, p.Type, n, file.Count, c.Line)
	}
	c.File, c.Line, c.URL = c.File+1, 0, ""
	p.Cursor = c.String()
	if err := e.commit(ctx, j, p, f, pg, worker); err != nil {
		return err
	}
	pg.reset()
	return nil
}

// maxLine caps one line of an upstream file: a server bug (or a file that
// is not NDJSON) must not make a worker hold gigabytes.
var maxLine = 64 << 20

// readLine reads one line (its newline included) of at most max bytes;
// the rest of a longer one is read and dropped, and long reported.
func readLine(br *bufio.Reader, max int) (line []byte, long bool, err error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			if len(buf)+len(frag) > max {
				buf, long = nil, true
			} else {
				buf = append(buf, frag...)
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return buf, long, err
		}
	}
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
		e.cfg.Log.Warn("the FHIR server's $export job could not be deleted", slog.String("reason", publicReason(err)))
	}
}

// orphan deletes the upstream job a worker started but could not commit
// into all of its parts (the job was cancelled, its lease lost, the store
// failed) — unless a committed part names it: then it is the job's, and
// whoever finishes or cancels the job deletes it.
func (e *Engine) orphan(ctx context.Context, j *Job, committed []*control.BulkPart, status string) {
	if len(committed) > 0 {
		if cur, _, err := e.cfg.Store.BulkJob(ctx, j.ID); err != nil || cur == nil || cur.Status != control.BulkCancelled {
			return
		}
	}
	e.cancelUpstream(ctx, status)
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
