package routing

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/events"
)

var _ backend.Transactor = routed{}

// held is a transaction's fence, carried in its context: the states read
// under it and the mirror rows its writes queue, which are kept until
// legacy has committed (see Transact).
type held struct {
	states  map[string]State
	rows    []queued
	changes []events.Change
}

// QueueChange implements changeQueue: the event waits for the legacy
// commit, like the mirror rows.
func (h *held) QueueChange(_ context.Context, c events.Change) error {
	h.changes = append(h.changes, c)
	return nil
}

// queued is one mirror row a write inside a transaction asked for.
type queued struct{ target, typ, id, mark string }

// Enqueue implements Enqueuer: the row waits for the legacy commit.
func (h *held) Enqueue(_ context.Context, target, typ, id string) error {
	h.rows = append(h.rows, queued{target: target, typ: typ, id: id})
	return nil
}

// EnqueueUnmirrorable implements unmirrorableQueue.
func (h *held) EnqueueUnmirrorable(_ context.Context, target, typ, id, mark string) error {
	h.rows = append(h.rows, queued{target: target, typ: typ, id: id, mark: mark})
	return nil
}

// heldKey keys a router's held fence in a context.
type heldKey struct{ r *Router }

func (r *Router) heldOf(ctx context.Context) *held {
	h, _ := ctx.Value(heldKey{r}).(*held)
	return h
}

// writesTo is the side the current table sends the first type's writes to.
func (r *Router) writesTo(types []string) Side {
	if len(types) == 0 {
		return SideLegacy
	}
	return States[r.w.Current().State(types[0])].Writes
}

// Transact implements backend.Transactor for a transaction whose types
// all write to legacy (legacy and shadow routes): the fence of every type
// is taken once, in a fixed order, for the whole transaction; the legacy
// backend runs fn as one SQL transaction; the mirror rows its writes ask
// for are queued only once legacy has committed.
func (x routed) Transact(ctx context.Context, types []string, fn func(ctx context.Context) error) error {
	if x.r.heldOf(ctx) != nil {
		return fn(ctx) // nested: the outer transaction holds the fence
	}
	inner, ok := x.r.legacy.(backend.Transactor)
	if !ok {
		return fmt.Errorf("%w: the legacy backend runs no transactions", backend.ErrNotSupported)
	}
	for _, t := range types {
		if !x.r.types[t] {
			return fmt.Errorf("%w: %s has no legacy mapping and cannot be part of a legacy transaction", backend.ErrNotSupported, t)
		}
	}
	if x.r.writesTo(types) != SideLegacy {
		// by the current table: the transaction goes to the FHIR server
		// whole (SendTransaction); nothing has run
		return fmt.Errorf("%w: these types write to the FHIR server, which runs a transaction itself", backend.ErrNotSupported)
	}
	return x.r.fenceAll(ctx, types, func(states map[string]State, q Enqueuer) error {
		for _, t := range sortedSet(types) {
			if w := States[states[t]].Writes; w != SideLegacy {
				// the route moved after the request took its snapshot
				return fmt.Errorf("%w: %s is now routed %s (writes go to %s); send the transaction again", backend.ErrConflict, t, states[t], w)
			}
		}
		h := &held{states: states}
		err := inner.Transact(ctx, types, func(ctx context.Context) error {
			h.rows, h.changes = h.rows[:0], h.changes[:0] // a re-run starts over
			return fn(context.WithValue(ctx, heldKey{x.r}, h))
		})
		if err != nil {
			return err
		}
		// DANGER: legacy has committed. The mirror rows go into the fence's
		// control transaction now, which commits when this returns
		// (PostgreSQL; on SQLite each row is its own statement). A crash
		// in between leaves the writes in legacy without their rows: they
		// reach the FHIR server only with the next sync — the same window
		// a single write has, whose legacy commit also precedes the
		// control commit. The rows cannot be committed first: the drainer
		// could copy the old state before legacy commits, and then no row
		// would ever carry the new one.
		for _, row := range h.rows {
			if err := enqueue(ctx, q, row.target, row.typ, row.id, row.mark); err != nil {
				return fmt.Errorf("transaction committed in legacy, but its mirror rows were not queued: %w", err)
			}
		}
		// one change event per written entry, after legacy committed (a
		// crash before this is made good by the legacy poller)
		for _, c := range h.changes {
			if err := q.(changeQueue).QueueChange(ctx, c); err != nil {
				return fmt.Errorf("transaction committed in legacy, but its change events were not queued: %w", err)
			}
		}
		return nil
	})
}
