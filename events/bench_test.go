package events_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	tu "github.com/fhirfacade/fhirfacade/internal/testutil"
)

// recording wraps a sink and keeps each acknowledged event's lag (queued
// in the control store -> acknowledged by the sink).
type recording struct {
	events.Sink
	mu   sync.Mutex
	lags []time.Duration
}

func (r *recording) Publish(ctx context.Context, evs []events.Event) (int, error) {
	n, err := r.Sink.Publish(ctx, evs)
	r.record(evs[:n])
	return n, err
}

// recordingAsync is recording over a pipelined sink (JetStream): each
// event's lag is taken when its batch's acks have come back.
type recordingAsync struct{ *recording }

func (r recordingAsync) Send(ctx context.Context, evs []events.Event) events.Acks {
	return recordedAcks{r: r.recording, evs: evs, Acks: r.Sink.(events.AsyncSink).Send(ctx, evs)}
}

type recordedAcks struct {
	events.Acks
	r   *recording
	evs []events.Event
}

func (a recordedAcks) Wait(ctx context.Context) (int, error) {
	n, err := a.Acks.Wait(ctx)
	a.r.record(a.evs[:n])
	return n, err
}

func (r *recording) record(evs []events.Event) {
	now := time.Now()
	r.mu.Lock()
	for _, e := range evs {
		r.lags = append(r.lags, now.Sub(e.QueuedAt))
	}
	r.mu.Unlock()
}

func (r *recording) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lags)
}

func (r *recording) p(q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.lags)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

// TestBenchJetStream measures (FHIRFACADE_BENCH_EVENTS=1; BENCHMARKS.md,
// "Change events (issue 13)"): events/s through the control-store queue
// to JetStream, pipelined (the publisher's path for JetStream) and
// stop-and-wait (one batch at a time: the webhook's and Event Grid's
// path, and JetStream's before pipelining), against a bare nats.go async
// publisher of the same messages, in ABBA order in the same run; then the
// p99 lag (queued -> acknowledged by JetStream) at a steady write rate.
func TestBenchJetStream(t *testing.T) {
	if os.Getenv("FHIRFACADE_BENCH_EVENTS") == "" {
		t.Skip("set FHIRFACADE_BENCH_EVENTS=1 to run the change-event benchmark")
	}
	const n = 20000
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctl := openControl(t, dsn)
		subject := fmt.Sprintf("fhirfacade.bench.%d", time.Now().UnixNano())
		defer deleteStream(t, subject)
		b := &benchRun{t: t, ctl: ctl, q: events.NewQueue(ctl), url: "nats://127.0.0.1:4222/" + subject, subject: subject}
		b.createStream()
		rates := map[string][]float64{}
		for i, variant := range []string{"bare", "pipelined", "stop-and-wait", "stop-and-wait", "pipelined", "bare"} {
			var r float64
			if variant == "bare" {
				r = b.bare(n, i)
			} else {
				r, _ = b.throughput(n, i, variant == "pipelined")
			}
			rates[variant] = append(rates[variant], r)
			t.Logf("%s: round %d, %s: %.0f events/s", t.Name(), i+1, variant, r)
		}
		mean := func(v string) float64 { return (rates[v][0] + rates[v][1]) / 2 }
		t.Logf("%s: queue -> JetStream, means of 2 rounds: pipelined %.0f/s, stop-and-wait %.0f/s, bare nats.go %.0f/s; pipelined is %.2fx of bare, %.2fx of stop-and-wait",
			t.Name(), mean("pipelined"), mean("stop-and-wait"), mean("bare"), mean("pipelined")/mean("bare"), mean("pipelined")/mean("stop-and-wait"))
		_, rec := b.throughput(0, 6, true) // lag at a steady 1,000 writes/s for 5 s
		t.Logf("%s: steady writes (pipelined): lag queued -> JetStream ack p50 %v, p99 %v, max %v", t.Name(), rec.p(.5).Round(time.Millisecond/10), rec.p(.99).Round(time.Millisecond/10), rec.p(1).Round(time.Millisecond/10))
	})
}

// benchRun is one control store's benchmark rounds.
type benchRun struct {
	t            *testing.T
	ctl          *control.Store
	q            *events.Queue
	url, subject string
}

// named gives a sink its own name (and so its own cursor) per round.
type named struct {
	events.Sink
	name string
}

func (s named) Name() string { return s.name }

func (s named) Send(ctx context.Context, evs []events.Event) events.Acks {
	return s.Sink.(events.AsyncSink).Send(ctx, evs)
}

// throughput queues n events (in transactions of 1,000, as many writes'
// fences commit at once), then times the publisher from start to the last
// JetStream ack; with n == 0 it measures lag at a steady 1,000 writes/s
// for 5 s instead. Each round has its own sink name, so its cursor starts
// at the head.
func (b *benchRun) throughput(n, round int, pipelined bool) (float64, *recording) {
	t := b.t
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sinks, err := events.ParseSinks(b.url, events.Config{Source: src, Schema: events.EventGrid})
	if err != nil {
		t.Fatal(err)
	}
	// named is a pipelined sink as the JetStream sink is; recording alone
	// (no Send) makes the publisher deliver one batch at a time
	rec := &recording{Sink: named{Sink: sinks[0], name: fmt.Sprintf("%s#%d", sinks[0].Name(), round)}}
	var sink events.Sink = rec
	if pipelined {
		sink = recordingAsync{rec}
	}
	pub := events.NewPublisher(b.ctl, b.q, []events.Sink{sink}, events.Options{Batch: 1000, Idle: 5 * time.Millisecond}, nil, nil)
	defer pub.Close()
	if _, _, err := pub.Deliver(ctx, sink); err != nil { // the sink's cursor, the connection, the stream
		t.Fatal(err)
	}
	if n > 0 {
		b.queue(ctx, round, n)
	}
	start := time.Now()
	done := make(chan struct{})
	go func() { pub.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if n == 0 {
		n = 5000
		tick := time.NewTicker(time.Millisecond)
		for i := range n {
			<-tick.C
			if err := b.q.Add(ctx, b.ctl.DB, events.Change{Type: "Observation", ID: fmt.Sprint(i), Version: "steady", Kind: events.Updated}); err != nil {
				t.Fatal(err)
			}
		}
		tick.Stop()
	}
	for rec.count() < n {
		time.Sleep(2 * time.Millisecond)
	}
	return float64(n) / time.Since(start).Seconds(), rec
}

// queue adds n events of round in transactions of 1,000.
func (b *benchRun) queue(ctx context.Context, round, n int) {
	for i := 0; i < n; i += 1000 {
		tx, err := b.ctl.DB.BeginTx(ctx, nil)
		if err != nil {
			b.t.Fatal(err)
		}
		for j := i; j < min(n, i+1000); j++ {
			if err := b.q.Add(ctx, tx, events.Change{Type: "Observation", ID: fmt.Sprint(j), Version: fmt.Sprint(round), Kind: events.Created}); err != nil {
				b.t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.t.Fatal(err)
		}
	}
}

// createStream has a sink create the subject's stream (the bare
// publisher's messages need one).
func (b *benchRun) createStream() {
	sinks, err := events.ParseSinks(b.url, events.Config{Source: src, Schema: events.EventGrid})
	if err != nil {
		b.t.Fatal(err)
	}
	defer sinks[0].Close()
	if _, err := sinks[0].Publish(context.Background(), nil); err != nil {
		b.t.Fatal(err)
	}
}

// bare is the baseline: a bare nats.go JetStream publisher of n messages
// in the same shape (same body size, a Nats-Msg-Id each), async, awaiting
// every ack; it returns messages/s.
func (b *benchRun) bare(n, round int) float64 {
	evs := make([][]byte, n)
	for i := range n {
		evs[i], _ = src.Encode(events.EventGrid, events.Event{ID: fmt.Sprintf("bare-%d-%d", round, i), Change: events.Change{Type: "Observation", ID: fmt.Sprint(i), Version: "1", Kind: events.Created, At: time.Now()}})
	}
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		b.t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	start := time.Now()
	for i, body := range evs {
		m := nats.NewMsg(b.subject)
		m.Data = body
		m.Header.Set("Content-Type", "application/json")
		if _, err := js.PublishMsgAsync(m, jetstream.WithMsgID(fmt.Sprintf("bare-%d-%d", round, i))); err != nil {
			b.t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	return float64(n) / time.Since(start).Seconds()
}

func deleteStream(t *testing.T, subject string) {
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if name, err := js.StreamNameBySubject(ctx, subject); err == nil {
		_ = js.DeleteStream(ctx, name)
	}
}
