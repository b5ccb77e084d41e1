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
	now := time.Now()
	r.mu.Lock()
	for _, e := range evs[:n] {
		r.lags = append(r.lags, now.Sub(e.QueuedAt))
	}
	r.mu.Unlock()
	return n, err
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
// to JetStream, against a bare nats.go publisher of the same messages in
// the same run, and the p99 lag (queued -> acknowledged by JetStream) at a
// steady write rate.
func TestBenchJetStream(t *testing.T) {
	if os.Getenv("FHIRFACADE_BENCH_EVENTS") == "" {
		t.Skip("set FHIRFACADE_BENCH_EVENTS=1 to run the change-event benchmark")
	}
	const n = 20000
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		subject := fmt.Sprintf("fhirfacade.bench.%d", time.Now().UnixNano())
		sinks, err := events.ParseSinks("nats://127.0.0.1:4222/"+subject, events.Config{Source: src, Schema: events.EventGrid})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recording{Sink: sinks[0]}
		pub := events.NewPublisher(ctl, q, []events.Sink{rec}, events.Options{Batch: 1000, Idle: 5 * time.Millisecond}, nil, nil)
		defer pub.Close()
		defer deleteStream(t, subject)
		if _, _, err := pub.Deliver(ctx, rec); err != nil { // the sink's cursor, and the stream
			t.Fatal(err)
		}
		// 1. queue n events (each its own statement, as writes do), then
		// publish them all: events/s from queue to JetStream ack
		start := time.Now()
		for i := range n {
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Observation", ID: fmt.Sprint(i), Version: "1", Kind: events.Created}); err != nil {
				t.Fatal(err)
			}
		}
		queued := time.Since(start)
		start = time.Now()
		go pub.Run(ctx)
		for rec.count() < n {
			time.Sleep(5 * time.Millisecond)
		}
		published := time.Since(start)
		t.Logf("%s: queued %d events in %v (%.0f/s, one statement each); published to JetStream in %v: %.0f events/s",
			t.Name(), n, queued.Round(time.Millisecond), float64(n)/queued.Seconds(), published.Round(time.Millisecond), float64(n)/published.Seconds())
		// 2. lag at a steady 1,000 writes/s for 5 s
		rec.mu.Lock()
		rec.lags = nil
		rec.mu.Unlock()
		tick := time.NewTicker(time.Millisecond)
		for i := range 5000 {
			<-tick.C
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Observation", ID: fmt.Sprint(i), Version: "2", Kind: events.Updated}); err != nil {
				t.Fatal(err)
			}
		}
		tick.Stop()
		for rec.count() < 5000 {
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%s: steady writes: lag queued -> JetStream ack p50 %v, p99 %v, max %v", t.Name(), rec.p(.5).Round(time.Millisecond/10), rec.p(.99).Round(time.Millisecond/10), rec.p(1).Round(time.Millisecond/10))
		// 3. the baseline: a bare nats.go JetStream publisher of the same
		// messages (same bodies, same Nats-Msg-Id), async, awaiting acks
		evs := make([][]byte, n)
		for i := range n {
			evs[i], _ = src.Encode(events.EventGrid, events.Event{ID: fmt.Sprintf("bare-%d", i), Change: events.Change{Type: "Observation", ID: fmt.Sprint(i), Version: "1", Kind: events.Created, At: time.Now()}})
		}
		nc, err := nats.Connect("nats://127.0.0.1:4222")
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		start = time.Now()
		for i, b := range evs {
			m := nats.NewMsg(subject)
			m.Data = b
			if _, err := js.PublishMsgAsync(m, jetstream.WithMsgID(fmt.Sprintf("bare-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		bare := time.Since(start)
		t.Logf("%s: bare nats.go async publisher, same %d messages: %v, %.0f msgs/s (queue->JetStream is %.2fx of it)",
			t.Name(), n, bare.Round(time.Millisecond), float64(n)/bare.Seconds(), (float64(n)/published.Seconds())/(float64(n)/bare.Seconds()))
	})
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
