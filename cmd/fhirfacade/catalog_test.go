package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// TestServeUpstreamOnlyTypes: with FHIRFACADE_FHIR_URL set, serve adds the
// types only the FHIR server offers (from its CapabilityStatement) and
// serves them from it; they have no route, so `route set` refuses them and
// `route list` leaves them out. A FHIR server that cannot be read at
// start-up does not stop serve: the mapped types are served alone, with a
// warning, until the server answers.
func TestServeUpstreamOnlyTypes(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name      string
		downFirst bool
		log       []string
	}{
		{"FHIR server up", false, []string{`"types served by the FHIR server alone (no mapping spec)"`}},
		{"FHIR server down at start-up, then up", true, []string{`"the FHIR server's CapabilityStatement could not be read`, `"types served by the FHIR server alone (no mapping spec)"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fhir := testutil.StartFHIRServer(t)
			if c.downFirst {
				fhir.Stop()
			}
			env := []string{"FHIRFACADE_FHIR_URL=" + fhir.URL()}
			base, stop := serveUntilStopped(t, dir, env)
			if got := getStatus(t, base+"/Patient/1"); got != 200 {
				t.Errorf("Patient/1 (legacy): %d", got)
			}
			if c.downFirst {
				if got := getStatus(t, base+"/HealthcareService"); got != 404 {
					t.Errorf("HealthcareService while the FHIR server is down: %d, want 404", got)
				}
				fhir.Start()
			}
			createService(t, fhir.URL())
			// found at once, or once serve has read the statement again
			deadline := time.Now().Add(30 * time.Second)
			for {
				status, body := get(t, base+"/HealthcareService?name=Acme")
				var b struct{ Entry []any }
				_ = json.Unmarshal(body, &b)
				if status == 200 && len(b.Entry) == 1 {
					break
				}
				if !c.downFirst || time.Now().After(deadline) {
					t.Fatalf("HealthcareService: %d with %d entries: %.300s", status, len(b.Entry), body)
				}
				time.Sleep(200 * time.Millisecond)
			}
			out, err := command(t, dir, env, "route", "set", "HealthcareService", "shadow", "--reason", "test").CombinedOutput()
			if err == nil || !strings.Contains(string(out), `"HealthcareService" has no route`) {
				t.Errorf("route set on an upstream-only type: %v\n%s", err, out)
			}
			out, err = command(t, dir, env, "route", "list").CombinedOutput()
			if err != nil || strings.Contains(string(out), "HealthcareService") || !strings.Contains(string(out), "Patient") {
				t.Errorf("route list: %v\n%s", err, out)
			}
			log := stop()
			for _, want := range c.log {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, tail(log, 2000))
				}
			}
		})
	}
}

func createService(t *testing.T, url string) {
	t.Helper()
	c, err := upstream.New(upstream.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	org := map[string]any{"resourceType": "HealthcareService", "name": "Acme Clinic"}
	if _, _, err := upstream.NewBackend(c).Create(context.Background(), "HealthcareService", org, nil); err != nil {
		t.Fatal(err)
	}
}

// serveUntilStopped runs serve in dir until stop, which returns its log.
func serveUntilStopped(t *testing.T, dir string, env []string) (base string, stop func() string) {
	t.Helper()
	addr := freePort(t)
	cmd := command(t, dir, append(env, "FHIRFACADE_LISTEN="+addr), "serve")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	stop = func() string {
		if !done {
			done = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		return stderr.String() // read once the process has exited
	}
	t.Cleanup(func() { stop() })
	base = "http://" + addr + "/fhir"
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(base + "/metadata"); err == nil {
			res.Body.Close()
			return base, stop
		}
	}
	t.Fatalf("serve did not answer within 60 s:\n%s", stop())
	return "", nil
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.Bytes()
}

func getStatus(t *testing.T, url string) int { s, _ := get(t, url); return s }
