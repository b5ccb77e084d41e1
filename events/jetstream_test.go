package events_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fhirfacade/fhirfacade/events"
	tu "github.com/fhirfacade/fhirfacade/internal/testutil"
)

// natsAddr is the JetStream broker's host:port (tu.NATS: required in
// CI, skipped elsewhere when unreachable).
func natsAddr(t *testing.T) string {
	u, err := url.Parse(tu.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// forward relays TCP connections from addr to the broker at to, until the
// test ends: the broker "comes back" at addr.
func forward(t *testing.T, addr, to string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, d)
			mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
}

// streamIDs are the Nats-Msg-Id of every message of stream, in order.
func streamIDs(t *testing.T, js jetstream.JetStream, stream string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

// TestJetStreamOutageIsNotDeadLettered: the pipelined JetStream path
// (Run) against the real broker. A broker that cannot be reached for many
// more rounds than MaxAttempts dead-letters nothing and gets every event,
// in order, once it is back; a message the stream refuses (larger than
// its maximum message size) is still dead-lettered after MaxAttempts.
// While the broker is unreachable the sink cursor's last_error says so;
// delivery clears it.
func TestJetStreamOutageIsNotDeadLettered(t *testing.T) {
	broker := natsAddr(t)
	const maxAttempts = 2
	for _, tc := range []struct {
		name  string
		down  bool  // the broker unreachable at first
		large bool  // the second event too large for the stream
		dead  []int // indexes of the events dead-lettered
	}{
		{name: "broker unreachable", down: true},
		{name: "message too large", large: true, dead: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tu.DSNs(t, func(t *testing.T, dsn string) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				nc, err := nats.Connect("nats://" + broker)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				js, _ := jetstream.New(nc)
				subject := fmt.Sprintf("fhirfacade.test.%d", time.Now().UnixNano())
				stream := strings.ToUpper(strings.ReplaceAll(subject, ".", "_"))
				big := events.Change{Type: "Patient", ID: strings.Repeat("x", 64), Version: "v" + strings.Repeat("9", 63), Kind: events.Updated}
				if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject}, MaxMsgSize: maxMsgSize(t, big), Duplicates: time.Minute}); err != nil {
					t.Fatal(err)
				}
				defer func() { _ = js.DeleteStream(context.Background(), stream) }()
				addr := broker
				if tc.down {
					addr = freeAddr(t)
				}
				sinks, err := events.ParseSinks("nats://"+addr+"/"+subject+"?stream="+stream, events.Config{Source: src, Schema: events.CloudEvents})
				if err != nil {
					t.Fatal(err)
				}
				defer sinks[0].Close()
				ctl := openControl(t, dsn)
				q := events.NewQueue(ctl)
				reg := prometheus.NewRegistry()
				p := events.NewPublisher(ctl, q, sinks, events.Options{MaxAttempts: maxAttempts, Batch: 2, InFlight: 2,
					Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Idle: 10 * time.Millisecond}, nil, reg)
				drain(t, p, sinks[0], 1) // the sink's cursor, at the head
				queueIDs(t, ctl, q, "1")
				if tc.large {
					if err := q.Add(ctx, ctl.DB, big); err != nil {
						t.Fatal(err)
					}
				} else {
					queueIDs(t, ctl, q, "2")
				}
				queueIDs(t, ctl, q, "3", "4", "5")
				if _, err := p.Sequence(ctx); err != nil {
					t.Fatal(err)
				}
				queued, err := events.After(ctx, ctl, 0, 10)
				if err != nil || len(queued) != 5 {
					t.Fatalf("queued %v %v", queued, err)
				}
				done := make(chan struct{})
				go func() { p.Run(ctx); close(done) }()
				defer func() { cancel(); <-done }()
				if tc.down {
					for start := time.Now(); testutil.ToFloat64(counter(t, reg, "retry")) < 10*maxAttempts; time.Sleep(10 * time.Millisecond) {
						if time.Since(start) > 10*time.Second {
							t.Fatalf("%v retries in 10 s while the broker is down", testutil.ToFloat64(counter(t, reg, "retry")))
						}
					}
					if dl, err := ctl.EventDeadLetters(ctx, sinks[0].Name()); err != nil || len(dl) != 0 {
						t.Fatalf("dead letters %+v (%v) while the broker was unreachable, want none", dl, err)
					}
					if st := sinkStatus(t, ctl, sinks[0].Name()); st.Attempts != 0 || !strings.Contains(st.LastError, "unavailable since") {
						t.Errorf("the cursor while the broker is unreachable: attempts %d, last_error %q; want 0 and the outage", st.Attempts, st.LastError)
					}
					forward(t, addr, broker)
				}
				var want []string
				for i, e := range queued {
					if !containsInt(tc.dead, i) {
						want = append(want, e.ID)
					}
				}
				var got []string
				for start := time.Now(); len(got) < len(want); time.Sleep(20 * time.Millisecond) {
					if time.Since(start) > 15*time.Second {
						break
					}
					got = streamIDs(t, js, stream)
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("stream holds %v, want %v (every event not refused, in order)", got, want)
				}
				if tc.down {
					// the cursor moves once the acks are back, a little after the stream has them
					st := sinkStatus(t, ctl, sinks[0].Name())
					for start := time.Now(); st.LastError != "" && time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
						st = sinkStatus(t, ctl, sinks[0].Name())
					}
					if st.LastError != "" {
						t.Errorf("the cursor once the broker is back: last_error %q, want none", st.LastError)
					}
				}
				dl, err := ctl.EventDeadLetters(ctx, sinks[0].Name())
				if err != nil || len(dl) != len(tc.dead) {
					t.Fatalf("dead letters %+v (%v), want %d", dl, err, len(tc.dead))
				}
				for i, d := range tc.dead {
					if dl[i].Pos != queued[d].Pos || dl[i].Attempts != maxAttempts || !strings.Contains(dl[i].Error, "maximum") {
						t.Errorf("dead letter %+v, want event %d refused as too large after %d attempts", dl[i], d, maxAttempts)
					}
				}
			})
		})
	}
}

// maxMsgSize is a stream limit that takes an event of Patient/1 with its
// headers (about 110 bytes, if the broker counts them) and refuses big.
func maxMsgSize(t *testing.T, big events.Change) int32 {
	small := events.Change{Type: "Patient", ID: "1", Version: "1", Kind: events.Updated}
	a, err := src.Encode(events.CloudEvents, events.Event{ID: "0b1d7c4e-0000-4000-8000-000000000007", Change: small})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := src.Encode(events.CloudEvents, events.Event{ID: "0b1d7c4e-0000-4000-8000-000000000007", Change: big})
	if len(b)-len(a) < 200 {
		t.Fatalf("the big event is only %d bytes larger", len(b)-len(a))
	}
	return int32(len(a) + 150)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
