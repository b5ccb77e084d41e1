package events

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Queue adds change events to the control store.
type Queue struct {
	ctl  *control.Store
	wake chan struct{}
}

// NewQueue returns the queue over the control store.
func NewQueue(ctl *control.Store) *Queue {
	return &Queue{ctl: ctl, wake: make(chan struct{}, 1)}
}

// Woken is signalled (without blocking) after each event this process
// queues, so the publisher need not wait for its next tick. The event may
// not be committed yet: the publisher's ticks cover that.
func (q *Queue) Woken() <-chan struct{} { return q.wake }

func (q *Queue) row(c Change, source string) control.EventRow {
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	return control.EventRow{EventID: uuid.NewString(), Type: c.Type, Resource: c.ID, Version: c.Version,
		Kind: string(c.Kind), Source: source, OccurredAt: at}
}

// Add queues the event of a write through tx: the write fence's
// transaction where there is one, so the event commits with the write's
// outbox rows. An event whose identity (type, id, version, kind) is queued
// already is not queued again.
func (q *Queue) Add(ctx context.Context, tx control.Querier, c Change) error {
	if _, err := q.ctl.QueueEvent(ctx, tx, q.row(c, "facade")); err != nil {
		return fmt.Errorf("%w: change event: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	q.poke()
	return nil
}

// AddPolled queues an event a poller found in the system of record,
// unless the facade queued it already (see control.QueuePolledEvent); it
// reports whether it was new.
func (q *Queue) AddPolled(ctx context.Context, c Change) (bool, error) {
	added, err := q.ctl.QueuePolledEvent(ctx, q.row(c, "poll"))
	if err != nil {
		return false, fmt.Errorf("change event: %s", sqldb.Describe(err))
	}
	if added {
		q.poke()
	}
	return added, nil
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
