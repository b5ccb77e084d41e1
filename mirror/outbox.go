// Package mirror keeps the two systems of record of a type in step while
// it moves: the durable outbox of mirrored writes in the control store, its
// drainer, and the copy lock the drainer shares with sync so the two never
// reorder a resource's states.
package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Outbox is the durable queue of mirrored writes in the control store. A
// row says "Type/id changed on one side: copy its current state to the
// other" — copying the current state (not the request) makes each row
// idempotent, so a row replayed after a crash does no harm.
type Outbox struct {
	db       *sqldb.DB
	ctl      *control.Store // owns the outbox table
	log      *slog.Logger
	drained  *prometheus.CounterVec
	lockWait prometheus.Histogram
}

// NewOutbox returns the outbox over the control store.
func NewOutbox(db *sqldb.DB, log *slog.Logger, reg prometheus.Registerer) *Outbox {
	o := &Outbox{db: db, ctl: &control.Store{DB: db}, log: log}
	o.drained = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fhirfacade_outbox_processed_total",
		Help: "Mirrored writes processed, by target (fhir, legacy) and result (done, failed, retry).",
	}, []string{"target", "result"})
	o.lockWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fhirfacade_outbox_copylock_wait_seconds",
		Help:    "How long the outbox drainer waited for the copy lock (behind sync waves) per turn.",
		Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	if reg != nil {
		reg.MustRegister(o.drained, o.lockWait)
	}
	return o
}

// DB is the control store the outbox lives in (the write fence runs its
// transaction there).
func (o *Outbox) DB() *sqldb.DB { return o.db }

// Execer runs statements: the control store itself or a transaction on
// it.
type Execer = control.Querier

// Unmirrorable is the state of a row for a write accepted on a `fhir` route
// with `Prefer: handling=lenient` although legacy cannot hold it: the
// drainer never tries it, and the move back to shadow is refused
// (forceable) while one is left. A later write of the same resource that
// the reverse mirror carries supersedes it.
const Unmirrorable = control.OutboxUnmirrorable

// Enqueue adds one pending row through ex (in the write fence's
// transaction where there is one).
func (o *Outbox) Enqueue(ctx context.Context, ex Execer, target, typ, id string) error {
	return o.EnqueueAs(ctx, ex, "pending", "", target, typ, id)
}

// EnqueueAs adds one row in state (pending, or Unmirrorable with the
// reason in note).
func (o *Outbox) EnqueueAs(ctx context.Context, ex Execer, state, note, target, typ, id string) error {
	if err := o.ctl.EnqueueOutbox(ctx, ex, state, note, target, typ, id); err != nil {
		return fmt.Errorf("%w: outbox: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	return nil
}

// Pending counts rows not yet mirrored (by target).
func (o *Outbox) Pending(ctx context.Context, target string) (int, error) {
	return o.ctl.OutboxPending(ctx, target)
}

// Failed lists rows that failed for good, for operators.
func (o *Outbox) Failed(ctx context.Context) ([]string, error) {
	rows, err := o.ctl.OutboxFailed(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s/%s: %s", r.Target, r.Type, r.Resource, r.LastError))
	}
	return out, nil
}

type job struct {
	id                 int64
	target, typ, resID string
	attempts           int
}

// Ends are the two sides the outbox copies between.
type Ends struct {
	Legacy, FHIR backend.Backend
	// Reverse reports whether writes may still be mirrored back into legacy
	// for a type (false once it is on fhir-only).
	Reverse func(typ string) bool
}

// Drain processes pending rows in id order until none is left or one fails
// for a reason that may pass (the target is down): then it stops, so the
// rows behind it are replayed in order later. It returns how many rows it
// finished.
func (o *Outbox) Drain(ctx context.Context, ends Ends) (int, error) {
	turns, err := OpenCopyTurns(ctx, o.db, DrainSide)
	if err != nil {
		return 0, err
	}
	defer turns.Close()
	// one drainer at a time across the facades: the others skip this round
	if got, err := turns.sole(ctx); err != nil || !got {
		return 0, err
	}
	if _, err := turns.Take(ctx); err != nil {
		return 0, err
	}
	o.lockWait.Observe(turns.Waited().Seconds())
	done := 0
	for {
		jobs, err := o.next(ctx, 100)
		if err != nil || len(jobs) == 0 {
			return done, err
		}
		for _, j := range jobs {
			// a waiting sync wave gets the copy lock between two rows (each
			// row is read, copied and marked under it); the rest of the
			// batch is read again when the lock is back
			yielded, err := turns.Yield(ctx)
			if err != nil {
				return done, err
			}
			if yielded {
				o.lockWait.Observe(turns.Waited().Seconds())
				break
			}
			// the rows of this resource visible *before* its current state
			// is read are the ones that copy covers; a row that becomes
			// visible later may belong to a write the read did not see
			covered, err := o.visible(ctx, j)
			if err != nil {
				return done, err
			}
			err = o.apply(ctx, ends, j)
			switch {
			case err == nil:
				o.finish(ctx, covered, "done", "")
				o.drained.WithLabelValues(j.target, "done").Inc()
				done++
			case errors.Is(err, backend.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
				o.retry(ctx, j, err)
				o.drained.WithLabelValues(j.target, "retry").Inc()
				return done, nil
			default:
				// the target refused the resource itself (4xx): retrying
				// cannot help; keep it visible instead of blocking the queue
				o.finish(ctx, []int64{j.id}, "failed", err.Error())
				o.drained.WithLabelValues(j.target, "failed").Inc()
				o.log.Warn("mirrored write failed", slog.String("target", j.target), slog.String("type", j.typ), slog.String("id", j.resID), slog.String("error", err.Error()))
			}
		}
	}
}

// visible lists the pending rows of j's resource, j's own included, and
// its unmirrorable ones: a copy of a later state that legacy can hold
// supersedes them (nothing of theirs is left to hide).
func (o *Outbox) visible(ctx context.Context, j job) ([]int64, error) {
	ids, err := o.ctl.OutboxSameResource(ctx, control.OutboxRow{ID: j.id, Target: j.target, Type: j.typ, Resource: j.resID})
	if err != nil {
		return nil, fmt.Errorf("outbox: %s", sqldb.Describe(err))
	}
	return ids, nil
}

func (o *Outbox) next(ctx context.Context, n int) ([]job, error) {
	rows, err := o.ctl.OutboxNext(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("outbox: %s", sqldb.Describe(err))
	}
	out := make([]job, len(rows))
	for i, r := range rows {
		out[i] = job{id: r.ID, target: r.Target, typ: r.Type, resID: r.Resource, attempts: r.Attempts}
	}
	return out, nil
}

// finish marks exactly the given rows.
func (o *Outbox) finish(ctx context.Context, ids []int64, state, msg string) {
	for _, id := range ids {
		if err := o.ctl.FinishOutbox(ctx, id, state, msg); err != nil {
			o.log.Error("outbox: cannot mark row", slog.Int64("id", id), slog.String("error", sqldb.Describe(err)))
		}
	}
}

func (o *Outbox) retry(ctx context.Context, j job, cause error) {
	_ = o.ctl.RetryOutbox(ctx, j.id, cause.Error())
}

// apply copies the current state of the job's resource to its target.
func (o *Outbox) apply(ctx context.Context, ends Ends, j job) error {
	src, dst := ends.Legacy, ends.FHIR
	if j.target == "legacy" {
		src, dst = ends.FHIR, ends.Legacy
		if ends.Reverse != nil && !ends.Reverse(j.typ) {
			return nil // fhir-only: the reverse mirror has stopped
		}
	}
	if src == nil || dst == nil {
		return fmt.Errorf("%w: no FHIR server configured", backend.ErrUnavailable)
	}
	r, err := src.Read(ctx, j.typ, j.resID)
	if errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone) {
		return dst.Delete(ctx, j.typ, j.resID, "")
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(r.JSON))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return err
	}
	if m, ok := body["meta"].(map[string]any); ok {
		// versions belong to each side
		delete(m, "versionId")
		delete(m, "lastUpdated")
		if len(m) == 0 {
			delete(body, "meta")
		}
	}
	_, _, err = dst.Update(ctx, j.typ, j.resID, body, "")
	if errors.Is(err, backend.ErrNotSupported) && j.target == "legacy" {
		// the legacy end is normally wrapped by the id map, which inserts
		// such resources under a new legacy key; without it legacy refuses
		return fmt.Errorf("%s/%s was created on the FHIR server and legacy cannot create it under that id (is the legacy end wrapped by the id map?): %w", j.typ, j.resID, err)
	}
	return err
}

// Run drains every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context, ends Ends, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := o.Drain(ctx, ends); err != nil && ctx.Err() == nil {
			o.log.Warn("outbox drain", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
