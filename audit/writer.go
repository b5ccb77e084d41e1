package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Writer appends records with group commit: concurrent requests wait on
// one transaction that stores all of them, so auditing costs one commit per
// batch, not per request, while each request still knows its record is
// durable before it answers.
type Writer struct {
	store    *Store
	ch       chan pending
	maxBatch int
	timeout  time.Duration
	failed   atomic.Bool
	written  atomic.Int64
	dropped  atomic.Int64
	// maxRetries bounds retries of queued records: effectively forever
	// while serving (a stuck store fills the queue, Enqueue refuses, the
	// facade answers 503), three once Run is stopping
	maxRetries int
	stopping   atomic.Bool
	linger     time.Duration

	commitSeconds, batchSize prometheus.Observer // nil until Instrument
}

// Instrument registers the writer's metrics with reg: how long each batch
// takes to store (what a sync-mode request waits for, at most twice) and
// how many records a batch carries.
func (w *Writer) Instrument(reg prometheus.Registerer) {
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fhirfacade_audit_commit_seconds",
		Help:    "Time to store one batch of audit records (failed attempts included).",
		Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, .512, 1, 2, 5},
	})
	size := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fhirfacade_audit_batch_records",
		Help:    "Audit records per stored batch.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 500},
	})
	reg.MustRegister(commit, size)
	w.commitSeconds, w.batchSize = commit, size
}

// pending is what one caller queued: the records of one request (several
// for a Bundle's entries, committed in the same batch) and, when the
// caller waits, where it learns the outcome.
type pending struct {
	recs []*Record
	done chan error
}

// NewWriter builds a Writer; Run must be running for Write to return.
func NewWriter(store *Store) *Writer {
	return &Writer{store: store, ch: make(chan pending, 4096), maxBatch: 500, timeout: 5 * time.Second, maxRetries: 1 << 30, linger: 10 * time.Millisecond}
}

// Write stores recs and returns once they are committed (or failed). The
// records of one call go into one batch: a Bundle's entries cost one
// commit, not one each.
func (w *Writer) Write(ctx context.Context, recs ...*Record) error {
	if len(recs) == 0 {
		return nil
	}
	p := pending{recs: recs, done: make(chan error, 1)}
	select {
	case w.ch <- p:
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// the record may still be committed; the caller fails closed
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

// Enqueue queues rec without waiting for its commit (FHIRFACADE_AUDIT_MODE=
// async). It refuses when the queue is full or the store is failing, so a
// caller that answers only after a nil error never answers more requests
// than the trail can hold. A queued record whose batch fails is retried,
// in order, until it is stored or the process stops.
func (w *Writer) Enqueue(rec *Record) error {
	if w.failed.Load() {
		return fmt.Errorf("%w: the last batch failed", ErrUnavailable)
	}
	select {
	case w.ch <- pending{recs: []*Record{rec}}:
		return nil
	default:
		return fmt.Errorf("%w: the audit queue is full", ErrUnavailable)
	}
}

// Retain queues rec even while the store is failing: it is the record of a
// change already made, which no answer can undo, so it is kept and retried
// in order with the others until stored (or the process stops). It fails
// only when the queue is full.
func (w *Writer) Retain(rec *Record) error {
	select {
	case w.ch <- pending{recs: []*Record{rec}}:
		return nil
	default:
		return fmt.Errorf("%w: the audit queue is full", ErrUnavailable)
	}
}

// Healthy is false after the last batch failed (until one succeeds), so
// writes can be refused before they change data they could not audit.
func (w *Writer) Healthy() bool { return !w.failed.Load() }

// Written is the number of records committed by this writer.
func (w *Writer) Written() int64 { return w.written.Load() }

// Run commits batches until ctx ends, then drains what is queued.
func (w *Writer) Run(ctx context.Context) {
	for {
		select {
		case first := <-w.ch:
			w.commit(ctx, w.gather(ctx, first))
		case <-ctx.Done():
			w.stopping.Store(true)
			// what is already queued is committed, in batches, before stopping
			for batch := w.queued(nil); len(batch) > 0; batch = w.queued(nil) {
				w.commit(ctx, batch)
			}
			return
		}
	}
}

// queued adds to batch what is queued right now, up to a full batch.
func (w *Writer) queued(batch []pending) []pending {
	for len(batch) < w.maxBatch {
		select {
		case p := <-w.ch:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// gather builds the next batch. When nobody waits on it (async mode) it
// lingers a few milliseconds, so one transaction and one WAL flush carry
// hundreds of records instead of a handful; a waiting caller ends that.
func (w *Writer) gather(ctx context.Context, first pending) []pending {
	batch := w.queued([]pending{first})
	for _, p := range batch {
		if p.done != nil {
			return batch
		}
	}
	linger := time.NewTimer(w.linger)
	defer linger.Stop()
	for len(batch) < w.maxBatch {
		select {
		case p := <-w.ch:
			batch = append(batch, p)
			if p.done != nil {
				return batch
			}
		case <-linger.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

func (w *Writer) commit(ctx context.Context, batch []pending) {
	// backlog: records of requests already answered (async, or retained
	// writes) that wait for a retry, oldest first
	var backlog []pending
	for attempt := 0; ; {
		var recs []*Record
		for _, p := range batch {
			recs = append(recs, p.recs...)
		}
		// each attempt has its own deadline; ctx (Run's) only says whether
		// the writer is stopping
		actx, cancel := context.WithTimeout(context.Background(), w.timeout)
		began := time.Now()
		err := w.store.Append(actx, recs)
		cancel()
		if w.commitSeconds != nil {
			w.commitSeconds.Observe(time.Since(began).Seconds())
			if err == nil {
				w.batchSize.Observe(float64(len(recs)))
			}
		}
		w.failed.Store(err != nil)
		if err == nil {
			w.written.Add(int64(len(recs)))
			attempt = 0
		} else {
			attempt++
		}
		// waiting callers learn the outcome (and answer 503 on failure);
		// queued records of requests already answered are kept and retried
		var keep []pending
		for _, p := range batch {
			switch {
			case p.done != nil:
				p.done <- err
			case err != nil:
				keep = append(keep, p)
			}
		}
		backlog = append(keep, backlog...)
		if len(backlog) == 0 {
			return
		}
		if err != nil {
			if attempt > w.maxRetries || (w.stopping.Load() && attempt > 3) {
				w.dropped.Add(int64(len(backlog)))
				return
			}
			backlog = w.backoff(ctx, min(time.Duration(attempt)*100*time.Millisecond, 2*time.Second), backlog, err)
		}
		n := min(len(backlog), w.maxBatch)
		batch, backlog = backlog[:n:n], backlog[n:]
	}
}

// backoff waits d before the next retry of backlog. Callers that wait on
// their record meanwhile are answered at once with the store's failure: a
// read fails closed in milliseconds, not after the outage. Records of
// requests already answered join the backlog, in order. Run's context
// ending marks the writer as stopping, so an outage cannot hold shutdown
// beyond a few retries.
func (w *Writer) backoff(ctx context.Context, d time.Duration, backlog []pending, cause error) []pending {
	t := time.NewTimer(d)
	defer t.Stop()
	stop := ctx.Done()
	for {
		select {
		case <-stop:
			w.stopping.Store(true)
			stop = nil
		case p := <-w.ch:
			if p.done != nil {
				p.done <- fmt.Errorf("%w: the audit store is failing: %v", ErrUnavailable, cause)
				continue
			}
			backlog = append(backlog, p)
		case <-t.C:
			return backlog
		}
	}
}

// Dropped is the number of queued records given up after retries (only
// when the store stayed down through shutdown's retries).
func (w *Writer) Dropped() int64 { return w.dropped.Load() }
