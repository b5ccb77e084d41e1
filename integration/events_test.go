package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/events/poll"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// hook is a real webhook endpoint: it answers the validation handshakes,
// checks every body's signature, and keeps the events it received.
type hook struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []map[string]any
	bad    []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions { // CloudEvents webhook handshake
		w.Header().Set("WebHook-Allowed-Origin", r.Header.Get("WebHook-Request-Origin"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("aeg-event-type") == "SubscriptionValidation" {
		var v []struct {
			Data struct{ ValidationCode string } `json:"data"`
		}
		_ = json.Unmarshal(body, &v)
		_ = json.NewEncoder(w).Encode(map[string]string{"validationResponse": v[0].Data.ValidationCode})
		return
	}
	if got := r.Header.Get(events.SignatureHeader); got != events.Sign(h.secret, body) {
		h.bad = append(h.bad, "bad signature "+got)
	}
	var evs []map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents+json") {
		var e map[string]any
		_ = decodeNum(body, &e)
		evs = append(evs, e)
	} else if err := decodeNum(body, &evs); err != nil {
		h.bad = append(h.bad, "not a JSON array: "+err.Error())
	}
	h.got = append(h.got, evs...)
}

func (h *hook) events() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		h.t.Errorf("webhook: %v", h.bad)
	}
	return append([]map[string]any(nil), h.got...)
}

// TestChangeEvents is issue 13's done-when check: a create on legacy, an
// update on fhir, a delete on shadow and a row changed directly by SQL in
// the legacy table each produce exactly one event, with Azure's fields, at
// a webhook and on a JetStream consumer, in order per resource — on a
// SQLite and on a PostgreSQL control store.
func TestChangeEvents(t *testing.T) {
	nurl := testutil.NATS(t)
	schemas := map[string]events.Schema{"sqlite": events.CloudEvents, "postgres": events.EventGrid}
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		schema := schemas[strings.Split(t.Name(), "/")[1]]
		legacyDB := testutil.SQLite(t)
		w := newWorld(t, legacyDB, dsn)
		ev := startEvents(t, w, nurl, schema)

		// a create on legacy, then an update of it (order per resource)
		p1, err := w.legacy.Read(w.ctx, "Patient", "1")
		if err != nil {
			t.Fatal(err)
		}
		st, body := send(http.MethodPost, w.http.URL+"/fhir/Patient", mustJSON(copyOf(resourceOf(t, p1.JSON))))
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		created := resourceOf(t, body)
		_, body = send(http.MethodGet, w.http.URL+"/fhir/Patient/"+created["id"].(string), "")
		created = resourceOf(t, body)
		createdVersion := versionOf(created)
		created["gender"] = "other"
		delete(created, "meta")
		st, body = send(http.MethodPut, w.http.URL+"/fhir/Patient/"+created["id"].(string), mustJSON(created))
		if st != 200 {
			t.Fatalf("update on legacy: %d %s", st, body)
		}
		updatedLegacy := resourceOf(t, body)

		// a transaction on legacy: one event per entry, in entry order
		mrn := fmt.Sprintf("MRN-EV-%d", time.Now().UnixNano()%1e12)
		tx := w.want(w.do("POST", "/fhir", txBundle("transaction", mrn, "2345-7")), 200, "transaction on legacy")
		var txWant []wantEvent
		for _, e := range tx.body["entry"].([]any) {
			loc := e.(map[string]any)["response"].(map[string]any)["location"].(string)
			parts := strings.Split(strings.TrimPrefix(loc, w.http.URL+"/fhir/"), "/") // Type/id/_history/v
			if len(parts) != 4 {
				t.Fatalf("transaction entry location %q", loc)
			}
			txWant = append(txWant, wantEvent{parts[0], parts[1], parts[3], "Created"})
		}

		// an update on fhir: the Encounter is on the FHIR server first
		enc, err := w.legacy.Read(w.ctx, "Encounter", "1")
		if err != nil {
			t.Fatal(err)
		}
		encBody := map[string]any{}
		_ = json.Unmarshal(enc.JSON, &encBody)
		delete(encBody, "meta")
		if _, _, err := w.fhir.Update(w.ctx, "Encounter", "1", encBody, ""); err != nil {
			t.Fatal(err)
		}
		w.flip("Encounter", routing.Shadow, false)
		w.flip("Encounter", routing.FHIR, true)
		encBody["status"] = "cancelled"
		st, body = send(http.MethodPut, w.http.URL+"/fhir/Encounter/1", mustJSON(encBody))
		if st != 200 {
			t.Fatalf("update on fhir: %d %s", st, body)
		}
		updatedFHIR := resourceOf(t, body)
		// a delete on fhir in a transaction (forwarded whole to the FHIR
		// server, whose transaction-response answers a DELETE with a bare
		// status): its event names the version it removed
		delTx := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Encounter/1"}}]}`
		w.want(w.do("POST", "/fhir", delTx), 200, "transaction deleting on fhir")

		// a delete on shadow
		w.flip("Observation", routing.Shadow, false)
		obs, err := w.legacy.Read(w.ctx, "Observation", firstID(t, w, "Observation"))
		if err != nil {
			t.Fatal(err)
		}
		if st, body := send(http.MethodDelete, w.http.URL+"/fhir/Observation/"+obs.ID, ""); st/100 != 2 {
			t.Fatalf("delete on shadow: %d %s", st, body)
		}
		// a failed write emits nothing: a stale If-Match
		if st, _ := sendIfMatch(http.MethodPut, w.http.URL+"/fhir/Patient/"+created["id"].(string), mustJSON(created), `W/"1"`); st != 412 {
			t.Fatalf("stale If-Match: %d, want 412", st)
		}

		// a row changed directly by SQL in the legacy table
		direct := directUpdate(t, legacyDB, 3)

		want := append([]wantEvent{
			{"Patient", created["id"].(string), createdVersion, "Created"},
			{"Patient", created["id"].(string), versionOf(updatedLegacy), "Updated"}},
			txWant...)
		want = append(want, []wantEvent{
			{"Encounter", "1", versionOf(updatedFHIR), "Updated"},
			{"Encounter", "1", versionOf(updatedFHIR), "Deleted"},
			{"Observation", obs.ID, obs.VersionID, "Deleted"},
			{"Patient", "3", direct, "Updated"},
		}...)
		// several poll rounds after the facade's writes: the poller must
		// not emit them a second time
		ev.waitPolls(3)
		host := strings.TrimPrefix(strings.TrimPrefix(w.http.URL, "http://"), "https://")
		checkStream(t, "webhook", ev.hook.events, want, schema, host)
		checkStream(t, "jetstream", ev.jetstream, want, schema, host)
	})
}

type wantEvent struct{ typ, id, version, kind string }

// eventRig is the event stream of a test world.
type eventRig struct {
	hook      *hook
	jetstream func() []map[string]any
	src       *countingSource
}

// startEvents wires the event stream as serve does: the router queues
// events, a publisher delivers them to a webhook and a JetStream subject,
// the legacy poller runs every 100 ms.
func startEvents(t *testing.T, w *world, nurl string, schema events.Schema) *eventRig {
	h := &hook{t: t, secret: []byte("test-secret")}
	hsrv := httptest.NewServer(h)
	t.Cleanup(hsrv.Close)
	subject := fmt.Sprintf("fhirfacade.test.%d", time.Now().UnixNano())
	base := w.http.URL + "/fhir"
	src, err := events.SourceOf(base)
	if err != nil {
		t.Fatal(err)
	}
	sinks, err := events.ParseSinks(hsrv.URL+"/hook,"+nurl+"/"+subject, events.Config{Source: src, Schema: schema, WebhookSecret: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(testLog{t}, nil))
	q := events.NewQueue(w.ctl)
	w.router.SetEvents(q, nil)
	pub := events.NewPublisher(w.ctl, q, sinks, events.Options{Idle: 20 * time.Millisecond}, log, prometheus.NewRegistry())
	lp := &poll.Legacy{Backend: w.routedLegacy, Ctl: w.ctl, Queue: q, Types: []string{"Patient", "Encounter", "Observation"}, Overlap: time.Second, Settle: 2 * time.Second, FullScanEvery: 1, Log: log,
		Polled: func(typ string) bool {
			return routing.States[w.watcher.Current().State(typ)].Writes == routing.SideLegacy
		}}
	cs := &countingSource{Source: lp}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{}, 2)
	go func() { pub.Run(ctx); done <- struct{}{} }()
	// the baseline first, so the writes below are changes
	if err := cs.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { poll.Run(ctx, cs, 100*time.Millisecond, log); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; pub.Close() })
	return &eventRig{hook: h, src: cs, jetstream: consumeAll(t, nurl, subject)}
}

// testLog writes log lines to the test's output.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// countingSource counts finished polls.
type countingSource struct {
	poll.Source
	mu sync.Mutex
	n  int
}

func (c *countingSource) Poll(ctx context.Context) error {
	err := c.Source.Poll(ctx)
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return err
}

func (e *eventRig) waitPolls(n int) {
	e.src.mu.Lock()
	target := e.src.n + n
	e.src.mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		e.src.mu.Lock()
		done := e.src.n >= target
		e.src.mu.Unlock()
		if done {
			return
		}
	}
}

// consumeAll returns a func reading every message of the subject's stream
// so far (the sink creates the stream at its first publish).
func consumeAll(t *testing.T, nurl, subject string) func() []map[string]any {
	nc, err := nats.Connect(nurl)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if name, err := js.StreamNameBySubject(ctx, subject); err == nil {
			_ = js.DeleteStream(ctx, name)
		}
		nc.Close()
	})
	return func() []map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		name, err := js.StreamNameBySubject(ctx, subject)
		if err != nil {
			t.Errorf("jetstream: no stream for %s: %v", subject, err)
			return nil
		}
		c, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		info, _ := js.Stream(ctx, name)
		n := int(info.CachedInfo().State.Msgs)
		var out []map[string]any
		if n == 0 {
			return nil
		}
		batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var e map[string]any
			if err := decodeNum(m.Data(), &e); err != nil {
				t.Errorf("jetstream message: %v", err)
			}
			if m.Headers().Get(jetstream.MsgIDHeader) != e["id"] {
				t.Errorf("Nats-Msg-Id %q is not the event id %v", m.Headers().Get(jetstream.MsgIDHeader), e["id"])
			}
			out = append(out, e)
		}
		return out
	}
}

// checkStream waits until the sink has as many events as wanted (or more,
// which fails), then checks each in order with Azure's fields.
func checkStream(t *testing.T, name string, got func() []map[string]any, want []wantEvent, schema events.Schema, host string) {
	t.Helper()
	var evs []map[string]any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if evs = got(); len(evs) >= len(want) {
			break
		}
	}
	time.Sleep(300 * time.Millisecond) // anything extra still on its way
	evs = got()
	if len(evs) != len(want) {
		t.Fatalf("%s: %d events, want exactly %d:\n%s", name, len(evs), len(want), mustJSON(evs))
	}
	for i, wt := range want {
		checkEvent(t, fmt.Sprintf("%s event %d", name, i), evs[i], wt, schema, host)
	}
}

func checkEvent(t *testing.T, what string, e map[string]any, w wantEvent, schema events.Schema, host string) {
	t.Helper()
	typeKey, timeKey := "eventType", "eventTime"
	if schema == events.CloudEvents {
		typeKey, timeKey = "type", "time"
		if e["specversion"] != "1.0" || e["source"] == nil || e["dataschema"] != "#"+w.version {
			t.Errorf("%s: not a CloudEvent of version %s: %v", what, w.version, e)
		}
	} else if e["dataVersion"] != w.version || e["metadataVersion"] != "1" || e["topic"] == nil {
		t.Errorf("%s: dataVersion/metadataVersion/topic: %v", what, e)
	}
	if e[typeKey] != "Microsoft.HealthcareApis.FhirResource"+w.kind {
		t.Errorf("%s: %s = %v, want FhirResource%s (%v)", what, typeKey, e[typeKey], w.kind, e)
	}
	if e["subject"] != host+"/"+w.typ+"/"+w.id || e["id"] == "" || e[timeKey] == nil {
		t.Errorf("%s: subject %v, want %s/%s/%s (%v)", what, e["subject"], host, w.typ, w.id, e)
	}
	d, _ := e["data"].(map[string]any)
	if d["resourceType"] != w.typ || d["resourceFhirId"] != w.id || d["resourceFhirAccount"] != host || fmt.Sprint(d["resourceVersionId"]) != w.version || len(d) != 4 {
		// the version is a JSON number, as Azure's are (json.Number here)
		t.Errorf("%s: data %v, want %v", what, d, w)
	}
}

func firstID(t *testing.T, w *world, typ string) string {
	q, _ := search.ParseQuery(url.Values{})
	res, err := w.legacy.Search(w.ctx, typ, q, backend.SearchOptions{Count: 1})
	if err != nil || len(res.Resources) == 0 {
		t.Fatalf("no %s: %v", typ, err)
	}
	return res.Resources[0].ID
}

// directUpdate changes a Patient row by SQL, as a legacy application
// would, and returns its new version (the last-updated time in ms).
func directUpdate(t *testing.T, db *sqldb.DB, patID int) string {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Now().In(ny).Truncate(time.Millisecond)
	q := fmt.Sprintf("UPDATE pat_master SET last_nm = %s, upd_ts = %s WHERE pat_id = %s", db.Dialect.Placeholder(1), db.Dialect.Placeholder(2), db.Dialect.Placeholder(3))
	if _, err := db.ExecContext(context.Background(), q, "Directsql", db.Dialect.TimeArg(now), patID); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(now.UnixMilli())
}

func send(method, url, body string) (int, []byte) { return sendIfMatch(method, url, body, "") }

func sendIfMatch(method, url, body, ifMatch string) (int, []byte) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/fhir+json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 599, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func resourceOf(t *testing.T, body []byte) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func versionOf(r map[string]any) string {
	m, _ := r["meta"].(map[string]any)
	return fmt.Sprint(m["versionId"])
}

// decodeNum decodes keeping numbers as written (versions are ms stamps).
func decodeNum(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
