package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// AsyncSink is a Sink that can have several batches in flight (JetStream:
// one connection keeps the order of what is sent on it, and acks come back
// while more is sent). The publisher pipelines such a sink: it sends the
// next batches while the acks of the earlier ones come back.
type AsyncSink interface {
	Sink
	// Send sends evs in order and returns at once; the batch's
	// acknowledgements are awaited through the Acks. ctx bounds the
	// sending only (it ends when Send returns).
	Send(ctx context.Context, evs []Event) Acks
}

// Acks are the pending acknowledgements of one sent batch.
type Acks interface {
	// Wait returns once every event of the batch is acknowledged or one
	// is not: how many of them (a prefix) were acknowledged, and why the
	// next one was not.
	Wait(ctx context.Context) (int, error)
}

// flight is one batch sent and not yet settled.
type flight struct {
	after int64 // the position the batch was read after
	evs   []Event
	acks  Acks
}

// runPipelined delivers to s until ctx ends, keeping up to InFlight
// batches sent ahead of the cursor. The cursor still moves batch by batch
// in send order, and only past what is acknowledged (settle): a batch
// whose acks have come back waits for every earlier batch's. On a failure
// every batch sent after the failed event is dropped (its acks unread)
// and sending starts again from the first unacknowledged event; what the
// broker had stored of them already comes again with the same
// Nats-Msg-Id, which its duplicate window absorbs.
func (p *Publisher) runPipelined(ctx context.Context, s AsyncSink) {
	wake := p.waiter()
	var sent []flight
	var next int64 // the last position sent (valid while sent is not empty)
	for ctx.Err() == nil {
		l, err := p.claim(ctx, s)
		if err != nil || l == nil {
			// lease lost or not held: what is in flight is another
			// facade's business now (the acks are not read)
			sent = nil
			if err != nil && ctx.Err() == nil {
				p.log.Warn("events: deliver", slog.String("sink", s.Name()), slog.String("error", err.Error()))
			}
			p.pause(ctx, wake, 0)
			continue
		}
		if len(sent) == 0 {
			next = l.pos
		}
		for len(sent) < p.opt.InFlight {
			f, err := p.send(ctx, s, l, next)
			if err != nil || f == nil {
				if err != nil && ctx.Err() == nil {
					p.log.Warn("events: deliver", slog.String("sink", s.Name()), slog.String("error", err.Error()))
				}
				break
			}
			sent = append(sent, *f)
			next = f.evs[len(f.evs)-1].Pos
		}
		if len(sent) == 0 {
			p.pause(ctx, wake, 0)
			continue
		}
		whole, wait, err := p.land(ctx, s, l, sent[0])
		sent = sent[1:]
		if !whole {
			// DANGER: the batches behind a failed event must not be
			// settled: their acks would move the cursor past the event
			// that was refused. They are sent again after it.
			sent = nil
			if err != nil && ctx.Err() == nil {
				p.log.Warn("events: deliver", slog.String("sink", s.Name()), slog.String("error", err.Error()))
			}
			p.pause(ctx, wake, wait)
		}
	}
}

// send reads the batch after position after and sends it (nil: nothing
// to send).
func (p *Publisher) send(ctx context.Context, s AsyncSink, l *lease, after int64) (*flight, error) {
	rows, err := p.ctl.EventsAfter(ctx, after, p.opt.Batch)
	if err != nil {
		return nil, fmt.Errorf("events: %s", sqldb.Describe(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	evs := make([]Event, len(rows))
	for i, r := range rows {
		evs[i] = fromRow(r)
	}
	pctx, cancel := p.bound(ctx, l)
	defer cancel()
	return &flight{after: after, evs: evs, acks: s.Send(pctx, evs)}, nil
}

// land waits for f's acks (until a little before the lease ends) and
// settles f. Unless f was delivered whole (whole false), what was sent
// after it must be sent again, after wait.
func (p *Publisher) land(ctx context.Context, s Sink, l *lease, f flight) (whole bool, wait time.Duration, err error) {
	if f.after != l.pos {
		// DANGER: a batch read after another position than the cursor's
		// (the cursor moved under it: a dead letter, a lease read anew)
		// is not settled, so the cursor cannot jump a gap
		return false, 0, nil
	}
	wctx, cancel := p.bound(ctx, l)
	n, err := f.acks.Wait(wctx)
	err = leaseCut(ctx, wctx, err)
	cancel()
	done, wait, err := p.settle(ctx, s, l, f.evs, n, err)
	return err == nil && wait == 0 && done == len(f.evs), wait, err
}
