package testutil

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFHIRServerTellsItselfFromAnotherOnItsPort: a start whose port
// another server holds (answering /healthz 200 like the test server) is an
// error, not a server the test then talks to; StartFHIRServerEnv moves on
// to another port.
func TestFHIRServerTellsItselfFromAnotherOnItsPort(t *testing.T) {
	s := StartFHIRServer(t) // a working one, for its settings
	squatter := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	squatter.Start()
	defer squatter.Close()
	_, port, _ := net.SplitHostPort(squatter.Listener.Addr().String())
	other := &FHIRServer{t: t, dir: s.dir, port: port, instance: "another-instance"}
	defer other.Stop()
	if err := other.start(); err == nil {
		t.Fatalf("start on a port another server holds succeeded")
	}
	if !s.answering() {
		t.Fatal("the started server does not answer as itself")
	}
}
