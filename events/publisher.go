package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Sink is where events are published: a webhook, a JetStream subject, an
// Event Grid topic. Each sink has its own cursor in the control store.
type Sink interface {
	// Name identifies the sink's cursor and metrics: its URL without
	// secrets.
	Name() string
	// Publish sends evs in order and returns how many of them (a prefix)
	// the sink acknowledged; err says why the next one was not.
	Publish(ctx context.Context, evs []Event) (int, error)
	// Close frees the sink's connections.
	Close() error
}

// Options tune the publisher.
type Options struct {
	// MaxAttempts is how often an event is tried before it goes to the
	// sink's dead-letter table (FHIRFACADE_EVENT_MAX_ATTEMPTS; default 8).
	MaxAttempts int
	// Backoff is the first retry delay, doubled per attempt up to
	// MaxBackoff (defaults 200 ms and 30 s).
	Backoff, MaxBackoff time.Duration
	// Batch is how many events a sink is handed at once (default 500).
	Batch int
	// InFlight is how many batches a pipelined sink (AsyncSink:
	// JetStream) has sent and not yet seen acknowledged (default 4).
	InFlight int
	// Idle is how often the queue is looked at when nothing woke the
	// publisher (default 100 ms).
	Idle time.Duration
	// Retention is how long delivered events stay in the control store
	// (for `events tail --all` and the poller's deduplication; default 24 h).
	Retention time.Duration
	// Lease is how long a sink's lease lasts (default 30 s): a facade that
	// dies leaves its sinks to another one after at most this long, and a
	// batch is cut a tenth of it before the lease ends. Every facade on
	// one control store should use the same.
	Lease time.Duration
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.InFlight <= 0 {
		o.InFlight = 4
	}
	if o.Idle <= 0 {
		o.Idle = 100 * time.Millisecond
	}
	if o.Retention <= 0 {
		o.Retention = 24 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
}

// Publisher sequences queued events and delivers them to every sink.
type Publisher struct {
	ctl   *control.Store
	queue *Queue
	sinks []Sink
	opt   Options
	log   *slog.Logger
	total *prometheus.CounterVec
	lag   *prometheus.HistogramVec

	mu      sync.Mutex
	waiters []chan struct{} // sink loops waiting for newly sequenced events

	owner string   // this publisher's id in the sinks' leases
	held  sync.Map // sink name -> *lease

	omu     sync.Mutex
	outages map[string]*outage // sink name -> its current outage
}

// lease is a sink cursor this publisher holds: its position is kept in
// memory while the lease runs (only the holder moves it). It lasts
// Options.Lease and is renewed when less than half of it is left.
type lease struct {
	pos   int64
	until time.Time
}

// outage is a sink's current run of rounds that ended ErrSinkUnavailable
// (or cut at the lease bound before any ack). It is kept in memory only:
// it sets the backoff and is never counted toward MaxAttempts.
type outage struct {
	rounds int
	since  time.Time
}

// NewPublisher returns the publisher of queue's events to sinks; reg
// (may be nil) gets fhirfacade_events_total{sink,result} and
// fhirfacade_events_lag_seconds{sink}.
func NewPublisher(ctl *control.Store, queue *Queue, sinks []Sink, opt Options, log *slog.Logger, reg prometheus.Registerer) *Publisher {
	opt.defaults()
	if log == nil {
		log = slog.Default()
	}
	p := &Publisher{ctl: ctl, queue: queue, sinks: sinks, opt: opt, log: log, owner: uuid.NewString(), outages: map[string]*outage{}}
	p.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fhirfacade_events_total",
		Help: "Change events handled per sink, by result (delivered, retry: a round that failed and will be tried again, whether counted toward dead-lettering or not (sink unavailable), dead_letter).",
	}, []string{"sink", "result"})
	p.lag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fhirfacade_events_lag_seconds",
		Help:    "Time from a change event being queued to its sink acknowledging it.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"sink"})
	if reg != nil {
		reg.MustRegister(p.total, p.lag)
	}
	return p
}

// Run sequences and delivers until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range p.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, ok := s.(AsyncSink); ok {
				p.runPipelined(ctx, a)
				return
			}
			p.runSink(ctx, s)
		}()
	}
	p.runSequencer(ctx)
	wg.Wait()
}

func (p *Publisher) runSequencer(ctx context.Context) {
	t := time.NewTicker(p.opt.Idle)
	defer t.Stop()
	pruned := time.Now()
	for {
		if time.Since(pruned) > time.Minute {
			pruned = time.Now()
			if _, err := p.ctl.PruneEvents(ctx, pruned.Add(-p.opt.Retention)); err != nil && ctx.Err() == nil {
				p.log.Warn("events: prune", slog.String("error", sqldb.Describe(err)))
			}
		}
		n, err := p.Sequence(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("events: sequence", slog.String("error", err.Error()))
		}
		if n > 0 {
			p.wakeSinks()
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.queue.Woken():
		}
	}
}

// Sequence gives committed events their delivery positions (a batch) and
// returns how many.
func (p *Publisher) Sequence(ctx context.Context) (int, error) {
	n, err := p.ctl.SequenceEvents(ctx, 1000)
	if err != nil {
		if sqldb.IsConstraint(err) {
			return 0, nil // another facade sequenced the same rows first
		}
		return 0, fmt.Errorf("events: %s", sqldb.Describe(err))
	}
	return n, nil
}

func (p *Publisher) wakeSinks() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func (p *Publisher) waiter() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := make(chan struct{}, 1)
	p.waiters = append(p.waiters, w)
	return w
}

// runSink delivers to one sink until ctx ends: a batch at a time, waiting
// when the queue is empty and backing off after a failure.
func (p *Publisher) runSink(ctx context.Context, s Sink) {
	wake := p.waiter()
	for ctx.Err() == nil {
		n, wait, err := p.Deliver(ctx, s)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("events: deliver", slog.String("sink", s.Name()), slog.String("error", err.Error()))
		}
		if n > 0 && wait == 0 {
			continue
		}
		p.pause(ctx, wake, wait)
	}
}

// pause waits wait (the idle period when 0), until ctx ends or the
// sequencer wakes the sink.
func (p *Publisher) pause(ctx context.Context, wake <-chan struct{}, wait time.Duration) {
	if wait == 0 {
		wait = p.opt.Idle
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// Deliver hands the sink its next batch once: it returns how many events
// were delivered (or dead-lettered) and, after a failure, how long to back
// off before the next attempt.
func (p *Publisher) Deliver(ctx context.Context, s Sink) (int, time.Duration, error) {
	l, err := p.claim(ctx, s)
	if err != nil || l == nil {
		return 0, 0, err // another facade delivers to this sink
	}
	rows, err := p.ctl.EventsAfter(ctx, l.pos, p.opt.Batch)
	if err != nil || len(rows) == 0 {
		return 0, 0, err
	}
	evs := make([]Event, len(rows))
	for i, r := range rows {
		evs[i] = fromRow(r)
	}
	// the batch must end while the lease holds: past it another facade may
	// claim the sink and send from the stored cursor, and the two would
	// send the same events, out of order
	pctx, cancel := p.bound(ctx, l)
	n, sendErr := s.Publish(pctx, evs)
	sendErr = leaseCut(ctx, pctx, sendErr)
	cancel()
	return p.settle(ctx, s, l, evs, n, sendErr)
}

// settle records the outcome of one batch sent to s under lease l: the
// first n events of evs acknowledged, sendErr why the next one was not.
// The cursor moves past the acknowledged prefix only: never past an event
// the sink did not acknowledge. It returns how many events were delivered
// (or dead-lettered) and how long to back off.
func (p *Publisher) settle(ctx context.Context, s Sink, l *lease, evs []Event, n int, sendErr error) (int, time.Duration, error) {
	if n > 0 || sendErr == nil {
		p.recovered(s)
	}
	if n > 0 {
		p.acked(s, evs[:n])
		if err := p.ctl.AdvanceEventCursor(ctx, s.Name(), p.owner, evs[n-1].Pos); err != nil {
			p.held.Delete(s.Name()) // read the cursor again
			return n, 0, fmt.Errorf("events: cursor: %s", sqldb.Describe(err))
		}
		l.pos = evs[n-1].Pos
	}
	if sendErr == nil {
		return n, 0, nil
	}
	if n >= len(evs) {
		return n, 0, sendErr
	}
	return p.failed(ctx, s, evs[n], n, sendErr)
}

// bound is ctx ending a little before the lease l does.
func (p *Publisher) bound(ctx context.Context, l *lease) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, l.until.Add(-p.opt.Lease/10))
}

// claim is the sink's lease, taken or renewed in the control store when
// less than half of it is left (nil: another facade holds it).
func (p *Publisher) claim(ctx context.Context, s Sink) (*lease, error) {
	now := time.Now()
	if v, ok := p.held.Load(s.Name()); ok && v.(*lease).until.Sub(now) > p.opt.Lease/2 {
		return v.(*lease), nil
	}
	pos, ok, err := p.ctl.ClaimEventCursor(ctx, s.Name(), p.owner, now, now.Add(p.opt.Lease))
	if err != nil {
		return nil, fmt.Errorf("events: cursor: %s", sqldb.Describe(err))
	}
	if !ok {
		p.held.Delete(s.Name())
		return nil, nil
	}
	l := &lease{pos: pos, until: now.Add(p.opt.Lease)}
	p.held.Store(s.Name(), l)
	return l, nil
}

func (p *Publisher) acked(s Sink, evs []Event) {
	now := time.Now()
	for _, e := range evs {
		p.lag.WithLabelValues(s.Name()).Observe(now.Sub(e.QueuedAt).Seconds())
	}
	p.total.WithLabelValues(s.Name(), "delivered").Add(float64(len(evs)))
}

// failed handles a batch that stopped at e (n events before it were
// acknowledged). Only a refusal of e counts: an attempt on e, and after
// MaxAttempts e is dead-lettered and delivery moves on (a sink that
// refuses one event must not stop the stream). A sink that is unavailable
// refused nothing: it is retried for as long as that lasts (unavailable).
// A batch the publisher cut at its lease bound after progress is no
// failure at all: the rest is sent at once.
func (p *Publisher) failed(ctx context.Context, s Sink, e Event, n int, cause error) (int, time.Duration, error) {
	switch {
	case ctx.Err() != nil:
		return n, 0, nil // shutting down
	case errors.Is(cause, errLeaseCut) && n > 0:
		return n, 0, nil
	case errors.Is(cause, errLeaseCut), errors.Is(cause, ErrSinkUnavailable):
		return p.unavailable(ctx, s, n, cause)
	}
	attempts, err := p.ctl.FailEventCursor(ctx, s.Name(), p.owner, cause.Error())
	if err != nil {
		p.held.Delete(s.Name())
		return n, 0, fmt.Errorf("events: cursor: %s", sqldb.Describe(err))
	}
	if attempts < p.opt.MaxAttempts {
		p.total.WithLabelValues(s.Name(), "retry").Inc()
		return n, p.backoff(attempts), cause
	}
	if err := p.ctl.DeadLetterEvent(ctx, s.Name(), p.owner, e.Pos, attempts, cause.Error()); err != nil {
		p.held.Delete(s.Name())
		return n, 0, fmt.Errorf("events: dead letter: %s", sqldb.Describe(err))
	}
	if v, ok := p.held.Load(s.Name()); ok {
		v.(*lease).pos = e.Pos
	}
	p.total.WithLabelValues(s.Name(), "dead_letter").Inc()
	p.log.Warn("events: dead-lettered", slog.String("sink", s.Name()), slog.Int64("pos", e.Pos),
		slog.String("event", e.ID), slog.Int("attempts", attempts), slog.String("error", cause.Error()))
	return n + 1, 0, nil
}

// unavailable backs off after a round in which s could not take e: the
// outage's rounds set the delay (the same capped exponential backoff), and
// the error returned says how long it has lasted; the delivery loops log
// it once per round, so at most once per backoff step. The sink cursor's
// last_error says so too (where `events status` shows it), until delivery
// moves the cursor on. No attempt is counted: DANGER: counting here would
// dead-letter the whole queue, event by event, while a sink is down.
func (p *Publisher) unavailable(ctx context.Context, s Sink, n int, cause error) (int, time.Duration, error) {
	p.omu.Lock()
	o := p.outages[s.Name()]
	if o == nil {
		o = &outage{since: time.Now()}
		p.outages[s.Name()] = o
	}
	o.rounds++
	rounds, since := o.rounds, o.since
	p.omu.Unlock()
	p.total.WithLabelValues(s.Name(), "retry").Inc()
	wait := p.backoff(rounds)
	note := fmt.Sprintf("unavailable since %s (%d rounds, not counted toward dead-lettering): %v", since.UTC().Format(time.RFC3339), rounds, cause)
	if err := p.ctl.NoteEventOutage(ctx, s.Name(), p.owner, note); err != nil {
		// the outage is retried all the same; only its note is missing
		p.held.Delete(s.Name()) // read the cursor (and its lease) again
		p.log.Warn("events: cursor", slog.String("sink", s.Name()), slog.String("error", sqldb.Describe(err)))
	}
	return n, wait, fmt.Errorf("%w; unavailable for %v (%d rounds, not counted toward dead-lettering), next try in %v",
		cause, time.Since(since).Round(time.Millisecond), rounds, wait)
}

// recovered ends s's outage, if any, and logs how long it lasted.
func (p *Publisher) recovered(s Sink) {
	p.omu.Lock()
	o := p.outages[s.Name()]
	delete(p.outages, s.Name())
	p.omu.Unlock()
	if o != nil {
		p.log.Info("events: sink available again", slog.String("sink", s.Name()),
			slog.Duration("unavailable", time.Since(o.since)), slog.Int("rounds", o.rounds))
	}
}

// backoff is the delay after the attempts-th failure: exponential, capped.
func (p *Publisher) backoff(attempts int) time.Duration {
	d := p.opt.Backoff
	for i := 1; i < attempts && d < p.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.opt.MaxBackoff)
}

// Close closes every sink.
func (p *Publisher) Close() error {
	var errs []error
	for _, s := range p.sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
