package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
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
}

type pending struct {
	rec  *Record
	done chan error
}

// NewWriter builds a Writer; Run must be running for Write to return.
func NewWriter(store *Store) *Writer {
	return &Writer{store: store, ch: make(chan pending, 4096), maxBatch: 500, timeout: 5 * time.Second}
}

// Write stores rec and returns once it is committed (or failed).
func (w *Writer) Write(ctx context.Context, rec *Record) error {
	p := pending{rec: rec, done: make(chan error, 1)}
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

// Healthy is false after the last batch failed (until one succeeds), so
// writes can be refused before they change data they could not audit.
func (w *Writer) Healthy() bool { return !w.failed.Load() }

// Written is the number of records committed by this writer.
func (w *Writer) Written() int64 { return w.written.Load() }

// Run commits batches until ctx ends, then drains what is queued.
func (w *Writer) Run(ctx context.Context) {
	for {
		var first pending
		select {
		case first = <-w.ch:
		case <-ctx.Done():
			// commit what is already queued before stopping
			for {
				select {
				case p := <-w.ch:
					w.commit([]pending{p})
				default:
					return
				}
			}
		}
		batch := []pending{first}
	fill:
		for len(batch) < w.maxBatch {
			select {
			case p := <-w.ch:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) commit(batch []pending) {
	recs := make([]*Record, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	err := w.store.Append(ctx, recs)
	cancel()
	w.failed.Store(err != nil)
	if err == nil {
		w.written.Add(int64(len(recs)))
	}
	for _, p := range batch {
		p.done <- err
	}
}
