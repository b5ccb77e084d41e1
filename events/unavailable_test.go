package events_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	tu "github.com/fhirfacade/fhirfacade/internal/testutil"
)

// faultHook is a real webhook endpoint (both handshakes, both schemas)
// that answers every request with status while status is not 200,
// hangs until the client gives up while hang is set, and answers 400 to
// any POST carrying the resource id reject; it keeps the resource ids it
// accepted, in order.
type faultHook struct {
	mu     sync.Mutex
	status int
	hang   bool
	reject string
	got    []string
}

func (h *faultHook) set(status int, hang bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.hang = status, hang
}

func (h *faultHook) received() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.got, " ")
}

func (h *faultHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	status, hang := h.status, h.hang
	h.mu.Unlock()
	// read first: the server sees the client give up only once the
	// body is read
	body, _ := io.ReadAll(r.Body)
	if hang {
		stall(r)
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	switch {
	case r.Method == http.MethodOptions: // CloudEvents handshake
		w.Header().Set("WebHook-Allowed-Origin", "*")
		return
	case r.Header.Get("aeg-event-type") == "SubscriptionValidation":
		var v []struct {
			Data struct{ ValidationCode string } `json:"data"`
		}
		_ = json.Unmarshal(body, &v)
		_ = json.NewEncoder(w).Encode(map[string]string{"validationResponse": v[0].Data.ValidationCode})
		return
	}
	ids := resourceIDs(body)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		if id == h.reject {
			http.Error(w, "no such subscriber for "+id, http.StatusBadRequest)
			return
		}
	}
	h.got = append(h.got, ids...)
}

// stall answers r only when its client gives up (at most 10 s).
func stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// resourceIDs are the data.resourceFhirId of a CloudEvent or of an Event
// Grid array.
func resourceIDs(body []byte) []string {
	type ev struct {
		Data struct {
			ID string `json:"resourceFhirId"`
		} `json:"data"`
	}
	var many []ev
	if json.Unmarshal(body, &many) != nil {
		var one ev
		_ = json.Unmarshal(body, &one)
		many = []ev{one}
	}
	ids := make([]string, len(many))
	for i, e := range many {
		ids[i] = e.Data.ID
	}
	return ids
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveAt starts h at addr (a port freeAddr reserved).
func serveAt(t *testing.T, addr string, h http.Handler) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
}

// queueIDs queues an update of Patient/id for each id, in order.
func queueIDs(t *testing.T, ctl *control.Store, q *events.Queue, ids ...string) {
	for _, id := range ids {
		if err := q.Add(context.Background(), ctl.DB, events.Change{Type: "Patient", ID: id, Version: "1", Kind: events.Updated}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebhookOutageIsNotDeadLettered: a webhook that is down (5xx, 429,
// connection refused, no answer before the lease bound) for more than
// MaxAttempts rounds dead-letters nothing, and gets every event, in
// order, once it answers again; a 400 (the event refused) is still
// dead-lettered after MaxAttempts. While down, the sink cursor's
// last_error says so (attempts stay 0); it is cleared once delivery goes
// on.
func TestWebhookOutageIsNotDeadLettered(t *testing.T) {
	const maxAttempts = 3
	for _, tc := range []struct {
		name   string
		schema events.Schema
		status int  // answered while down (0: nothing listens)
		hang   bool // no answer while down: cut at the lease bound
		reject string
		says   string // the cursor's last_error while down, besides the outage
		want   string // delivered once up
		dead   int    // dead letters
	}{
		{name: "503 cloudevents", schema: events.CloudEvents, status: 503, says: "503", want: "1 2 3 4"},
		{name: "502 eventgrid", schema: events.EventGrid, status: 502, says: "502", want: "1 2 3 4"},
		{name: "429 cloudevents", schema: events.CloudEvents, status: 429, says: "429", want: "1 2 3 4"},
		{name: "401 (a rotated key)", schema: events.CloudEvents, status: 401, says: "401", want: "1 2 3 4"},
		{name: "403 eventgrid", schema: events.EventGrid, status: 403, says: "403", want: "1 2 3 4"},
		{name: "connection refused", schema: events.CloudEvents, says: "refused", want: "1 2 3 4"},
		{name: "no answer", schema: events.EventGrid, status: 200, hang: true, says: "lease", want: "1 2 3 4"},
		{name: "400 refuses one event", schema: events.CloudEvents, status: 200, reject: "2", want: "1 3 4", dead: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tu.DSNs(t, func(t *testing.T, dsn string) {
				ctx := context.Background()
				ctl := openControl(t, dsn)
				q := events.NewQueue(ctl)
				addr := freeAddr(t)
				h := &faultHook{status: tc.status, hang: tc.hang, reject: tc.reject}
				if tc.status != 0 {
					serveAt(t, addr, h)
				}
				sinks, err := events.ParseSinks("http://"+addr+"/hook", events.Config{Source: src, Schema: tc.schema})
				if err != nil {
					t.Fatal(err)
				}
				sink := sinks[0]
				reg := prometheus.NewRegistry()
				p := events.NewPublisher(ctl, q, sinks, events.Options{MaxAttempts: maxAttempts, Batch: 10, Lease: 600 * time.Millisecond},
					slog.New(slog.NewJSONHandler(io.Discard, nil)), reg)
				drain(t, p, sink, 1) // the sink's cursor, at the head
				queueIDs(t, ctl, q, "1", "2", "3", "4")
				drain(t, p, sink, 2*maxAttempts+1)
				if tc.reject == "" {
					if dl, err := ctl.EventDeadLetters(ctx, sink.Name()); err != nil || len(dl) != 0 {
						t.Fatalf("dead letters %+v (%v) while the sink was down, want none", dl, err)
					}
					if got := testutil.ToFloat64(counter(t, reg, "retry")); got < 2*maxAttempts+1 {
						t.Errorf("fhirfacade_events_total{result=retry} = %v while down, want a retry per round", got)
					}
					if st := sinkStatus(t, ctl, sink.Name()); st.Attempts != 0 || !strings.Contains(st.LastError, "unavailable since") || !strings.Contains(st.LastError, tc.says) {
						t.Errorf("the cursor while down: attempts %d, last_error %q; want 0 and the outage (%s)", st.Attempts, st.LastError, tc.says)
					}
					if tc.status == 0 {
						serveAt(t, addr, h)
					}
					h.set(200, false)
				}
				drain(t, p, sink, 20)
				if got := h.received(); got != tc.want {
					t.Errorf("delivered %q, want %q", got, tc.want)
				}
				if st := sinkStatus(t, ctl, sink.Name()); st.LastError != "" || st.Behind != 0 {
					t.Errorf("the cursor once up: last_error %q, %d events behind; want none", st.LastError, st.Behind)
				}
				dl, err := ctl.EventDeadLetters(ctx, sink.Name())
				if err != nil || len(dl) != tc.dead {
					t.Fatalf("dead letters %+v (%v), want %d", dl, err, tc.dead)
				}
				if tc.dead > 0 && (dl[0].Attempts != maxAttempts || !strings.Contains(dl[0].Error, "400")) {
					t.Errorf("dead letter %+v, want the 400 after %d attempts", dl[0], maxAttempts)
				}
			})
		})
	}
}

// sinkStatus is the delivery state of the sink named name.
func sinkStatus(t *testing.T, ctl *control.Store, name string) control.EventSink {
	t.Helper()
	all, err := ctl.EventSinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Sink == name {
			return s
		}
	}
	t.Fatalf("no cursor for %s in %+v", name, all)
	return control.EventSink{}
}

// slowHook accepts CloudEvents, but the first POST of resource id slow
// gets no answer until the client gives up.
type slowHook struct {
	faultHook
	slow string
	once sync.Once
}

func (h *slowHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if ids := resourceIDs(body); len(ids) == 1 && ids[0] == h.slow {
			first := false
			h.once.Do(func() { first = true })
			if first {
				stall(r)
				return
			}
		}
	}
	h.faultHook.ServeHTTP(w, r)
}

// TestLeaseCutAfterProgressIsNoFailure: a batch the publisher cuts at its
// own lease bound after the sink acknowledged part of it counts no attempt
// (with MaxAttempts 1 one count would dead-letter the event), asks for no
// backoff, and the rest is delivered next, in order.
func TestLeaseCutAfterProgressIsNoFailure(t *testing.T) {
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		h := &slowHook{faultHook: faultHook{status: 200}, slow: "3"}
		srv := httptest.NewServer(h)
		defer srv.Close()
		sinks, err := events.ParseSinks(srv.URL, events.Config{Source: src, Schema: events.CloudEvents})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		p := events.NewPublisher(ctl, q, sinks, events.Options{MaxAttempts: 1, Batch: 10, Lease: time.Second}, nil, reg)
		drain(t, p, sinks[0], 1)
		queueIDs(t, ctl, q, "1", "2", "3", "4")
		if _, err := p.Sequence(ctx); err != nil {
			t.Fatal(err)
		}
		n, wait, err := p.Deliver(ctx, sinks[0])
		if n != 2 || wait != 0 || err != nil {
			t.Errorf("the cut round: %d delivered, wait %v, %v; want 2, no wait, no error", n, wait, err)
		}
		drain(t, p, sinks[0], 5)
		if got := h.received(); got != "1 2 3 4" {
			t.Errorf("delivered %q, want every event in order", got)
		}
		if dl, err := ctl.EventDeadLetters(ctx, sinks[0].Name()); err != nil || len(dl) != 0 {
			t.Errorf("dead letters %+v (%v), want none", dl, err)
		}
		if got := testutil.ToFloat64(counter(t, reg, "retry")); got != 0 {
			t.Errorf("fhirfacade_events_total{result=retry} = %v, want 0", got)
		}
	})
}
