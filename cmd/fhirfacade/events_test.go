package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestEventsTail: the embedded default serves. Without a sink no event is
// queued (a delete then shows up nowhere); with a webhook sink a refused
// delete emits nothing, and an Observation deleted through it reaches the
// webhook and shows up in `fhirfacade events tail` as one JSON line in
// Azure's shape — the first event of the store.
func TestEventsTail(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var posted []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions { // the CloudEvents webhook handshake
			w.Header().Set("WebHook-Allowed-Origin", "*")
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	// no sink: this delete must queue nothing
	base, stop := serveEvents(t, dir)
	deleteAll(t, base, "/Observation/2")
	stop()
	// a Patient with encounters: legacy refuses (409), and no event may
	// come of it; then an Observation deleted twice (the second deletes
	// nothing)
	base, stop = serveEvents(t, dir, "FHIRFACADE_EVENT_SINKS="+hook.URL)
	defer stop()
	deleteAll(t, base, "/Patient/7", "/Observation/1", "/Observation/1")
	tail := command(t, dir, []string{"FHIRFACADE_BASE_URL=" + base, "FHIRFACADE_EVENT_SCHEMA=cloudevents"}, "events", "tail", "--all", "--count", "1")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = tail.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = tail.Process.Kill()
		t.Fatal("events tail printed nothing within 30 s")
	}
	if err != nil {
		t.Fatalf("events tail: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var e map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil {
		t.Fatalf("want one JSON line, got %q", out)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/fhir")
	if e["type"] != "Microsoft.HealthcareApis.FhirResourceDeleted" || e["subject"] != addr+"/Observation/1" || e["specversion"] != "1.0" {
		t.Errorf("first event %v, want Observation/1's delete (none for the delete made without a sink)", e)
	}
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		got := strings.Join(posted, "\n")
		mu.Unlock()
		if strings.Contains(got, addr+"/Observation/1") {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the webhook got %q, want Observation/1's delete", got)
		}
	}
}

// serveEvents starts `fhirfacade serve` in dir (CloudEvents) with env and
// returns its FHIR base URL and how to stop it.
func serveEvents(t *testing.T, dir string, env ...string) (string, func()) {
	t.Helper()
	addr := freePort(t)
	var stderr bytes.Buffer
	srv := command(t, dir, append([]string{"FHIRFACADE_LISTEN=" + addr, "FHIRFACADE_EVENT_SCHEMA=cloudevents"}, env...), "serve")
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }
	base := "http://" + addr + "/fhir"
	var err error
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
		var res *http.Response
		if res, err = http.Get(base + "/metadata"); err == nil {
			res.Body.Close()
			break
		}
	}
	if err != nil {
		stop()
		t.Fatalf("not serving: %v\n%s", err, stderr.String())
	}
	return base, stop
}

// deleteAll sends a DELETE of each path under base.
func deleteAll(t *testing.T, base string, paths ...string) {
	t.Helper()
	for _, path := range paths {
		req, _ := http.NewRequest(http.MethodDelete, base+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// TestEventsStatusShowsOutage: while a webhook sink answers 503,
// `fhirfacade events status` shows the outage as the sink's last error
// (no attempt counted: nothing is dead-lettered for it); once the webhook
// answers, the event is delivered and the last error is gone.
func TestEventsStatusShowsOutage(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool // the webhook answers 503
	down.Store(true)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodOptions { // the CloudEvents webhook handshake
			w.Header().Set("WebHook-Allowed-Origin", "*")
		}
	}))
	defer hook.Close()
	base, stop := serveEvents(t, dir, "FHIRFACADE_EVENT_SINKS="+hook.URL)
	defer stop()
	deleteAll(t, base, "/Observation/3")
	row := statusUntil(t, dir, hook.URL, func(row []string) bool { return strings.Contains(row[6], "unavailable since") })
	if !strings.Contains(row[6], "503") || row[3] != "0" || row[4] != "0" {
		t.Errorf("status while the webhook answers 503: %q, want the outage as last error, 0 attempts, 0 dead letters", row)
	}
	down.Store(false)
	row = statusUntil(t, dir, hook.URL, func(row []string) bool { return row[6] == "-" })
	if row[2] != "0" {
		t.Errorf("status once the webhook answers: %q, want nothing behind", row)
	}
}

// statusUntil runs `fhirfacade events status` in dir until the row of sink
// (its columns) satisfies ok, for at most 30 s.
func statusUntil(t *testing.T, dir, sink string, ok func(row []string) bool) []string {
	t.Helper()
	var out []byte
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
		var err error
		if out, err = command(t, dir, nil, "events", "status").Output(); err != nil {
			t.Fatalf("events status: %v %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, sink+" ") {
				continue
			}
			// the columns are separated by two spaces or more; the last
			// error may hold single spaces
			row := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), 7)
			if len(row) == 7 && ok(row) {
				return row
			}
		}
	}
	t.Fatalf("events status never showed the wanted row of %s:\n%s", sink, out)
	return nil
}
