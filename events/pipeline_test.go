package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/events"
	tu "github.com/fhirfacade/fhirfacade/internal/testutil"
)

// gated is an AsyncSink (a unit-test double: the JetStream sink is tested
// against the real broker) whose batches are acknowledged when, and as
// far as, the test says.
type gated struct {
	mu    sync.Mutex
	sends []string // each batch's resource ids, space-separated
	gates []chan ackResult
	sent  chan int // the index of each batch sent
}

type ackResult struct {
	n   int
	err error
}

type gate chan ackResult

func (g gate) Wait(ctx context.Context) (int, error) {
	select {
	case r := <-g:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (g *gated) Name() string { return "test://gated" }
func (g *gated) Close() error { return nil }
func (g *gated) Send(_ context.Context, evs []events.Event) events.Acks {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.Change.ID
	}
	g.mu.Lock()
	g.sends = append(g.sends, strings.Join(ids, " "))
	c := make(chan ackResult, 1)
	g.gates = append(g.gates, c)
	i := len(g.gates) - 1
	g.mu.Unlock()
	g.sent <- i
	return gate(c)
}
func (g *gated) Publish(ctx context.Context, evs []events.Event) (int, error) {
	return g.Send(ctx, evs).Wait(ctx)
}

// ack resolves batch i: its first n events acknowledged, err for the next.
func (g *gated) ack(i, n int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gates[i] <- ackResult{n, err}
}

// nextSend waits for the next batch sent and returns its index and ids;
// cursor says where the sink's cursor is when none comes.
func (g *gated) nextSend(t *testing.T, cursor func() int64) (int, string) {
	t.Helper()
	select {
	case i := <-g.sent:
		g.mu.Lock()
		defer g.mu.Unlock()
		return i, g.sends[i]
	case <-time.After(10 * time.Second):
		t.Fatalf("no batch sent within 10 s; the cursor is at %d (past an unacknowledged event, nothing is sent again)", cursor())
		return 0, ""
	}
}

// TestPipelineCursorNeverPassesUnacked: with three batches in flight, the
// later two acknowledged first and the first refused at its second event,
// the cursor stays before the refused event (the later acks must not move
// it), and delivery goes on from the refused event, in order.
func TestPipelineCursorNeverPassesUnacked(t *testing.T) {
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		g := &gated{sent: make(chan int, 16)}
		p := events.NewPublisher(ctl, q, []events.Sink{g}, events.Options{Batch: 2, InFlight: 3, Idle: 10 * time.Millisecond, Backoff: 10 * time.Millisecond}, nil, nil)
		drain(t, p, g, 1) // the sink's cursor, at the head
		for i := range 6 {
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Patient", ID: fmt.Sprint(i), Version: "1", Kind: events.Created}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Sequence(ctx); err != nil {
			t.Fatal(err)
		}
		queued, err := events.After(ctx, ctl, 0, 10)
		if err != nil || len(queued) != 6 {
			t.Fatalf("queued %v %v", queued, err)
		}
		cursor := func() int64 {
			pos, _, err := ctl.EventCursor(ctx, g.Name())
			if err != nil {
				t.Fatal(err)
			}
			return pos
		}
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		var first []string
		for range 3 {
			_, ids := g.nextSend(t, cursor)
			first = append(first, ids)
		}
		if got := strings.Join(first, " | "); got != "0 1 | 2 3 | 4 5" {
			t.Fatalf("in flight %q, want three batches sent before any ack", got)
		}
		g.ack(2, 2, nil)
		g.ack(1, 2, nil)
		time.Sleep(200 * time.Millisecond)
		if c := cursor(); c != 0 {
			t.Fatalf("cursor at %d with the first batch unacknowledged, want 0", c)
		}
		g.ack(0, 1, errors.New("refused 1"))
		i, ids := g.nextSend(t, cursor)
		if c := cursor(); c != queued[0].Pos {
			t.Fatalf("cursor at %d after event 1 was refused, want %d (event 0's)", c, queued[0].Pos)
		}
		var again []string
		for {
			again = append(again, ids)
			g.ack(i, len(strings.Fields(ids)), nil)
			if strings.HasSuffix(ids, "5") {
				break
			}
			i, ids = g.nextSend(t, cursor)
		}
		if got := strings.Join(again, " | "); got != "1 2 | 3 4 | 5" {
			t.Errorf("sent again %q, want everything from the refused event on, in order", got)
		}
		for start := time.Now(); cursor() != queued[5].Pos; time.Sleep(10 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("cursor at %d, want %d", cursor(), queued[5].Pos)
			}
		}
	})
}
