// Package bulk runs FHIR Bulk Data $export jobs (HL7 Bulk Data Access IG,
// R4): a job is a list of parts — one resource type, optionally narrowed
// by a _typeFilter query — each exported from the backend its route names
// into one NDJSON file (plus an error file of OperationOutcome lines for
// rows that cannot be mapped). It has no HTTP: the facade kicks jobs off,
// polls and serves their files through an Engine.
//
// Jobs and their progress live in the control store (package control's
// bulk_job and bulk_part): after every page a part commits its backend
// cursor and the length of its files, so a job stopped at any moment —
// a facade killed mid-page included — is resumed by any facade sharing
// the store from its last committed page, the files cut back to their
// committed length first: no line is written twice, none is missing.
package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/search"
)

// Sentinel errors.
var (
	// ErrBusy: the most jobs allowed are already queued or running.
	ErrBusy = control.ErrBulkBusy
	// ErrNotFound: no such job (or no such file of it).
	ErrNotFound = errors.New("bulk export job not found")
)

// Levels of export.
const (
	LevelSystem  = "system"
	LevelPatient = "patient"
	LevelGroup   = "group"
)

// Spec is what a job was asked for, kept with it (the parts say what it
// exports; Spec what the manifest and the audit trail report).
type Spec struct {
	Level  string `json:"level"`
	Group  string `json:"group,omitempty"`
	Since  string `json:"since,omitempty"` // RFC 3339 instant, "" for all
	Format string `json:"format"`
	// Left are the types left out because the token could not read them
	// (a patient-level export's): the manifest reports them as errors.
	Left []string `json:"left,omitempty"`
}

// Part is one output file to make: a type and an optional search query
// (URL-encoded parameters, already checked by the caller).
type Part struct {
	Type, Query string
}

// Router hands out route snapshots (facade.Router's shape).
type Router interface {
	Snapshot() backend.Routes
	ByName(name string) backend.Backend
}

// Config wires an Engine.
type Config struct {
	Store  *control.Store
	Router Router
	Sink   Sink
	// Exporter, when set, is the FHIR server's own $export: a system
	// export's unfiltered types routed to the backend of its name are
	// exported through one upstream $export job when the server offers it
	// (see native.go); nil pages them all.
	Exporter backend.BulkExporter
	// ExportOutage is how long the upstream $export job's status may stay
	// unreadable (server unavailable, throttled, circuit open) before the
	// job gives up on it (default 10m): a brief outage must not end a type.
	ExportOutage time.Duration
	// MaxJobs is the most jobs queued or running at once across every
	// facade sharing the store (FHIRFACADE_EXPORT_MAX_JOBS; default 4); it
	// is also how many jobs this facade runs at once.
	MaxJobs int
	// PageSize is how many resources a part fetches and commits at a time
	// (default 5000: at 1000 the per-page round trip and commit cost a
	// quarter of a legacy export's CPU; see BENCHMARKS.md).
	PageSize int
	// Lease is how long a claimed job stays this facade's without a commit
	// (default 30s); Poll how often idle workers look for jobs (default 1s).
	Lease, Poll time.Duration
	// Retention is how long a finished job's files are kept (default 24h):
	// exported PHI must not stay at rest because a client never sent the
	// DELETE. The manifest's Expires says when they go.
	Retention time.Duration
	// Worker names this facade in leases (default: a random id).
	Worker string
	Log    *slog.Logger
	// OnCommit, when set, is called after each committed page (tests stop
	// a worker at a page boundary with it).
	OnCommit func(jobID string, p control.BulkPart)
	now      func() time.Time
}

// Engine runs and reports export jobs.
type Engine struct {
	cfg Config
}

// New checks cfg and returns an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Router == nil || cfg.Sink == nil {
		return nil, errors.New("bulk: Store, Router and Sink are required")
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 4
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 5000
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.ExportOutage <= 0 {
		cfg.ExportOutage = 10 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Worker == "" {
		cfg.Worker = uuid.NewString()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &Engine{cfg: cfg}, nil
}

// MaxJobs is the configured job limit.
func (e *Engine) MaxJobs() int { return e.cfg.MaxJobs }

// Submit stores a new queued job and returns its id (ErrBusy beyond
// MaxJobs active jobs).
func (e *Engine) Submit(ctx context.Context, owner, request string, spec Spec, parts []Part) (string, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	now := e.cfg.now().UTC()
	j := control.BulkJob{ID: uuid.NewString(), Owner: owner, Request: request, Spec: string(raw), TransactionTime: now, CreatedAt: now}
	ps := make([]control.BulkPart, len(parts))
	for i, p := range parts {
		ps[i] = control.BulkPart{Seq: i, Type: p.Type, Query: p.Query}
	}
	if err := e.cfg.Store.CreateBulkJob(ctx, j, ps, e.cfg.MaxJobs); err != nil {
		return "", err
	}
	return j.ID, nil
}

// A job's status, as Job.Status holds it.
const (
	Queued    = control.BulkQueued
	Running   = control.BulkRunning
	Done      = control.BulkDone
	Failed    = control.BulkFailed
	Cancelled = control.BulkCancelled
)

// Job is a job as its status request sees it.
type Job struct {
	control.BulkJob
	Spec  Spec
	Parts []control.BulkPart
}

// Job returns the job (ErrNotFound when unknown or cancelled).
func (e *Engine) Job(ctx context.Context, id string) (*Job, error) {
	j, parts, err := e.cfg.Store.BulkJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if j == nil || j.Status == control.BulkCancelled {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	out := &Job{BulkJob: *j, Parts: parts}
	if err := json.Unmarshal([]byte(j.Spec), &out.Spec); err != nil {
		return nil, fmt.Errorf("bulk: job %s: spec: %w", id, err)
	}
	return out, nil
}

// Expires is when a job that finished at finished has its files deleted.
func (e *Engine) Expires(finished time.Time) time.Time { return finished.Add(e.cfg.Retention) }

// Sweep deletes the jobs (and their files) that finished longer ago than
// Retention; it returns how many.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	jobs, err := e.cfg.Store.FinishedBulkJobs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		if j.FinishedAt.IsZero() || e.cfg.now().Before(e.Expires(j.FinishedAt)) {
			continue
		}
		if err := e.Cancel(ctx, j.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Cancel cancels a job and deletes its files (ErrNotFound when unknown or
// already cancelled). A worker running it stops at its next commit.
func (e *Engine) Cancel(ctx context.Context, id string) error {
	found, err := e.cfg.Store.CancelBulkJob(ctx, id, e.cfg.now())
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	// the upstream job (when one exports part of this one) goes too; a
	// finished job's was deleted when it finished. DANGER: the parts are
	// read after the cancel, when no worker can commit another upstream
	// job into them any more (one it started but could not commit, it
	// deletes itself)
	if _, parts, err := e.cfg.Store.BulkJob(ctx, id); err == nil {
		e.cancelUpstream(ctx, upstreamStatus(parts))
	}
	return e.cfg.Sink.Remove(ctx, id)
}

// OutputName is the file name of a part's output.
func OutputName(p control.BulkPart) string { return fmt.Sprintf("%03d-%s.ndjson", p.Seq, p.Type) }

// ErrorName is the file name of a part's error lines.
func ErrorName(p control.BulkPart) string { return fmt.Sprintf("%03d-%s.error.ndjson", p.Seq, p.Type) }

// Open reads one file of a job: name must be one of its parts' output or
// error files (ErrNotFound otherwise). It returns the committed bytes
// only, so a file still being written is never read past its last page.
func (e *Engine) Open(ctx context.Context, j *Job, name string) (io.ReadCloser, error) {
	for _, p := range j.Parts {
		switch name {
		case OutputName(p):
			return e.cfg.Sink.Read(ctx, j.ID, name, p.Bytes)
		case ErrorName(p):
			return e.cfg.Sink.Read(ctx, j.ID, name, p.ErrBytes)
		}
	}
	return nil, fmt.Errorf("%w: file %s", ErrNotFound, name)
}

// query is a part's search: its filter and the job's _since.
func query(p control.BulkPart, since string) (*search.Query, error) {
	vals, err := url.ParseQuery(p.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s filter: %w", backend.ErrInvalid, p.Type, err)
	}
	if since != "" {
		vals.Add("_lastUpdated", "ge"+since)
	}
	return search.ParseQuery(vals)
}
