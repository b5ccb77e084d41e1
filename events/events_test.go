package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

var update = flag.Bool("update", false, "rewrite the golden files")

var src = events.Source{Account: "fhir.example.org", Topic: "https://fhir.example.org/fhir"}

func sample(kind events.Kind, version string) events.Event {
	return events.Event{Pos: 7, ID: "0b1d7c4e-0000-4000-8000-000000000007",
		Change: events.Change{Type: "Patient", ID: "10023", Version: version, Kind: kind, At: time.Date(2026, 12, 2, 1, 2, 3, 456000000, time.UTC)}}
}

// TestEncodingGolden: both schemas, every kind, against golden files
// checked against Azure's documented samples (field names, the numeric
// resourceVersionId, dataVersion, dataschema "#<version>").
func TestEncodingGolden(t *testing.T) {
	for _, schema := range []events.Schema{events.EventGrid, events.CloudEvents} {
		for _, tc := range []struct {
			kind    events.Kind
			version string
		}{{events.Created, "1"}, {events.Updated, "1796173644053"}, {events.Deleted, "3"}, {events.Updated, "W-abc"}} {
			name := string(schema) + "_" + string(tc.kind) + "_" + tc.version + ".json"
			t.Run(name, func(t *testing.T) {
				b, err := src.Encode(schema, sample(tc.kind, tc.version))
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				_ = json.Indent(&out, b, "", "  ")
				out.WriteByte('\n')
				path := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("%s differs:\n%s\nwant:\n%s", name, out.Bytes(), want)
				}
			})
		}
	}
}

// TestConfigErrors: a bad sink list or schema fails naming the variable.
func TestConfigErrors(t *testing.T) {
	cfg := events.Config{Source: src, Schema: events.EventGrid}
	for _, tc := range []struct{ list, want string }{
		{"ftp://example.org/x", "scheme \"ftp\""},
		{"not a url", "is not a URL"},
		{"http://", "is not a URL"},
		{"nats://127.0.0.1:4222", "literal subject"},
		{"nats://127.0.0.1:4222/a.*", "literal subject"},
		{"http://a.example/h,http://a.example/h", "named twice"},
		{"https://user:hunter2@a.example/h, kafka://b:1/x", "scheme \"kafka\""},
	} {
		_, err := events.ParseSinks(tc.list, cfg)
		if err == nil || !errors.Is(err, events.ErrConfig) || !strings.Contains(err.Error(), "FHIRFACADE_EVENT_SINKS") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want FHIRFACADE_EVENT_SINKS ... %s", tc.list, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the password: %v", tc.list, err)
		}
	}
	if s, err := events.ParseSinks(" , ", cfg); err != nil || len(s) != 0 {
		t.Errorf("empty list: %v %v", s, err)
	}
	if _, err := events.ParseSchema("avro"); err == nil || !strings.Contains(err.Error(), "FHIRFACADE_EVENT_SCHEMA") {
		t.Errorf("bad schema: %v", err)
	}
	if _, err := events.SourceOf("/fhir"); err == nil || !strings.Contains(err.Error(), "FHIRFACADE_BASE_URL") {
		t.Errorf("relative base URL: %v", err)
	}
}

// flaky is a sink (a unit-test double: the real ones are tested against
// real servers) that refuses some events a number of times.
type flaky struct {
	mu      sync.Mutex
	refuse  map[string]int // resource id -> failures left (-1: always)
	got     []string
	batches int
}

func (f *flaky) Name() string { return "test://flaky" }
func (f *flaky) Close() error { return nil }
func (f *flaky) Publish(_ context.Context, evs []events.Event) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches++
	for i, e := range evs {
		if n := f.refuse[e.Change.ID]; n != 0 {
			if n > 0 {
				f.refuse[e.Change.ID] = n - 1
			}
			return i, errors.New("refused " + e.Change.ID)
		}
		f.got = append(f.got, e.Change.ID+"@"+e.Change.Version)
	}
	return len(evs), nil
}

func openControl(t *testing.T, dsn string) *control.Store {
	ctl, err := control.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return ctl
}

// drain runs Deliver until the sink has nothing left (ignoring backoff
// delays), at most n rounds.
func drain(t *testing.T, p *events.Publisher, s events.Sink, n int) {
	ctx := context.Background()
	if _, err := p.Sequence(ctx); err != nil {
		t.Fatal(err)
	}
	for range n {
		done, wait, _ := p.Deliver(ctx, s)
		if done == 0 && wait == 0 {
			return
		}
	}
}

// TestRetryAndDeadLetter: a refused event is retried (the events behind
// it wait: order is kept), and after MaxAttempts it goes to the sink's
// dead-letter table and delivery moves on; the metrics count each.
func TestRetryAndDeadLetter(t *testing.T) {
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		sink := &flaky{refuse: map[string]int{"2": 2, "4": -1}}
		reg := prometheus.NewRegistry()
		p := events.NewPublisher(ctl, q, []events.Sink{sink}, events.Options{MaxAttempts: 3, Batch: 10}, slog.New(slog.NewJSONHandler(io.Discard, nil)), reg)
		drain(t, p, sink, 3) // the sink's cursor starts at the head (empty)
		for i, id := range []string{"1", "2", "3", "4", "5", "2"} {
			v := string(rune('a' + i))
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Patient", ID: id, Version: v, Kind: events.Updated}); err != nil {
				t.Fatal(err)
			}
		}
		// the same identity again: not queued twice
		if err := q.Add(ctx, ctl.DB, events.Change{Type: "Patient", ID: "1", Version: "a", Kind: events.Updated}); err != nil {
			t.Fatal(err)
		}
		drain(t, p, sink, 20)
		want := "1@a 2@b 3@c 5@e 2@f"
		if got := strings.Join(sink.got, " "); got != want {
			t.Errorf("delivered %q, want %q", got, want)
		}
		dl, err := ctl.EventDeadLetters(ctx, sink.Name())
		if err != nil || len(dl) != 1 || dl[0].Attempts != 3 || !strings.Contains(dl[0].Error, "refused 4") {
			t.Errorf("dead letters %+v %v, want the event of 4 after 3 attempts", dl, err)
		}
		for result, n := range map[string]float64{"delivered": 5, "retry": 4, "dead_letter": 1} {
			if got := testutil.ToFloat64(counter(t, reg, result)); got != n {
				t.Errorf("fhirfacade_events_total{result=%s} = %v, want %v", result, got, n)
			}
		}
	})
}

func counter(t *testing.T, reg *prometheus.Registry, result string) prometheus.Collector {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "fhirfacade_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
}

// TestWebhookHandshakeRefused: a CloudEvents endpoint that does not allow
// the facade's origin gets no event, and the attempt counts as a failure.
func TestWebhookHandshakeRefused(t *testing.T) {
	var posts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("WebHook-Allowed-Origin", "someone-else.example")
			return
		}
		posts++
	}))
	defer srv.Close()
	sinks, err := events.ParseSinks(srv.URL, events.Config{Source: src, Schema: events.CloudEvents})
	if err != nil {
		t.Fatal(err)
	}
	n, err := sinks[0].Publish(context.Background(), []events.Event{sample(events.Created, "1")})
	if n != 0 || err == nil || !strings.Contains(err.Error(), "validation refused") || posts != 0 {
		t.Errorf("published %d, %v, %d posts; want the handshake to refuse", n, err, posts)
	}
}

// TestEventGridSink: the Azure SDK publisher against a loopback TLS server
// (there is no Event Grid emulator) that checks the key header and the
// body's shape in both schemas.
func TestEventGridSink(t *testing.T) {
	for _, schema := range []events.Schema{events.EventGrid, events.CloudEvents} {
		t.Run(string(schema), func(t *testing.T) {
			var got []map[string]any
			var ctype string
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("aeg-sas-key") != "topic-key" {
					http.Error(w, "bad key", http.StatusUnauthorized)
					return
				}
				ctype = r.Header.Get("Content-Type")
				body, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(body, &got); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
				}
			}))
			defer srv.Close()
			cfg := events.Config{Source: src, Schema: schema, EventGridKey: "topic-key", EventGridTransport: srv.Client()}
			sinks, err := events.ParseSinks("eventgrid+"+srv.URL+"/api/events", cfg)
			if err != nil {
				t.Fatal(err)
			}
			n, err := sinks[0].Publish(context.Background(), []events.Event{sample(events.Created, "1"), sample(events.Deleted, "2")})
			if err != nil || n != 2 || len(got) != 2 {
				t.Fatalf("published %d: %v; server got %v", n, err, got)
			}
			typeKey := map[events.Schema]string{events.EventGrid: "eventType", events.CloudEvents: "type"}[schema]
			if got[1][typeKey] != "Microsoft.HealthcareApis.FhirResourceDeleted" || got[0]["subject"] != "fhir.example.org/Patient/10023" {
				t.Errorf("body %v", got)
			}
			if schema == events.CloudEvents && !strings.HasPrefix(ctype, "application/cloudevents-batch+json") {
				t.Errorf("content type %q", ctype)
			}
			d, _ := got[0]["data"].(map[string]any)
			if d["resourceFhirId"] != "10023" || d["resourceVersionId"] != 1.0 {
				t.Errorf("data %v", d)
			}
			bad, _ := events.ParseSinks("eventgrid+"+srv.URL+"/api/events", events.Config{Source: src, Schema: schema, EventGridKey: "wrong", EventGridTransport: srv.Client()})
			if n, err := bad[0].Publish(context.Background(), []events.Event{sample(events.Created, "1")}); err == nil || n != 0 {
				t.Errorf("a wrong key published %d: %v", n, err)
			}
		})
	}
}

// TestOneDelivererPerSink: two publishers (two facades) over one store and
// one sink: only the lease holder delivers, so nothing is sent twice.
func TestOneDelivererPerSink(t *testing.T) {
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		// one sink (same name) as each facade builds it
		sink, other := &flaky{refuse: map[string]int{}}, &flaky{refuse: map[string]int{}}
		a := events.NewPublisher(ctl, q, []events.Sink{sink}, events.Options{Batch: 2}, nil, nil)
		b := events.NewPublisher(openControl(t, dsn), q, []events.Sink{other}, events.Options{Batch: 2}, nil, nil)
		drain(t, a, sink, 1)
		for i := range 6 {
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Patient", ID: fmt.Sprint(i), Version: "1", Kind: events.Created}); err != nil {
				t.Fatal(err)
			}
		}
		for range 6 {
			drain(t, a, sink, 1)
			drain(t, b, other, 1)
		}
		if got := strings.Join(sink.got, " "); got != "0@1 1@1 2@1 3@1 4@1 5@1" || len(other.got) != 0 {
			t.Errorf("delivered %q by the lease holder and %q by the other, want each event once, in order, by the holder", got, other.got)
		}
	})
}

// TestPrune: delivered events older than the retention go; those a live
// sink has not passed stay; a sink nobody delivers to holds nothing back.
func TestPrune(t *testing.T) {
	tu.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ctl := openControl(t, dsn)
		q := events.NewQueue(ctl)
		sink := &flaky{refuse: map[string]int{"3": -1}}
		p := events.NewPublisher(ctl, q, []events.Sink{sink}, events.Options{MaxAttempts: 100}, nil, nil)
		drain(t, p, sink, 1)
		// a sink no facade has delivered to for two days (taken out of
		// the configuration): its cursor stays before every event, and
		// must hold none back
		gone := time.Now().Add(-48 * time.Hour)
		if _, _, err := ctl.ClaimEventCursor(ctx, "test://gone", "someone", gone, gone.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := q.Add(ctx, ctl.DB, events.Change{Type: "Patient", ID: fmt.Sprint(i), Version: "1", Kind: events.Created}); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, p, sink, 3) // 0, 1, 2 delivered; 3 keeps failing
		// cutoff: every event is older, the live sink's lease is not
		if n, err := ctl.PruneEvents(ctx, time.Now().Add(time.Second)); err != nil || n != 3 {
			t.Errorf("pruned %d (%v), want the 3 delivered", n, err)
		}
		left, _ := events.After(ctx, ctl, 0, 10)
		if len(left) != 2 || left[0].Change.ID != "3" {
			t.Errorf("left %v", left)
		}
	})
}
