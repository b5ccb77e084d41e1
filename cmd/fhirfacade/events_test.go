package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEventsTail: the embedded default serves; a refused delete emits
// nothing, and an Observation deleted through it shows up in `fhirfacade
// events tail` as one JSON line in Azure's shape.
func TestEventsTail(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	var stderr bytes.Buffer
	srv := command(t, dir, []string{"FHIRFACADE_LISTEN=" + addr, "FHIRFACADE_EVENT_SCHEMA=cloudevents"}, "serve")
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
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
		t.Fatalf("not serving: %v\n%s", err, stderr.String())
	}
	// a Patient with encounters: legacy refuses (409), and no event may
	// come of it; then an Observation deleted twice (the second deletes
	// nothing)
	for _, path := range []string{"/Patient/7", "/Observation/1", "/Observation/1"} {
		req, _ := http.NewRequest(http.MethodDelete, base+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	tail := command(t, dir, []string{"FHIRFACADE_BASE_URL=" + base, "FHIRFACADE_EVENT_SCHEMA=cloudevents"}, "events", "tail", "--all", "--count", "1")
	done := make(chan struct{})
	var out []byte
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
	if e["type"] != "Microsoft.HealthcareApis.FhirResourceDeleted" || e["subject"] != addr+"/Observation/1" || e["specversion"] != "1.0" {
		t.Errorf("event %v", e)
	}
}
