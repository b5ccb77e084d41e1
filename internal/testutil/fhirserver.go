package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FHIRServer is the test FHIR server (testdata/fhirserver: Medplum's
// fhir-router with its in-memory repository) running as a child process.
type FHIRServer struct {
	t        testing.TB
	port     string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	dir      string
	env      []string
	instance string // answered by /healthz: tells this process from whatever else holds the port
}

// StartFHIRServer starts a fresh, empty test FHIR server on a free port. In
// CI (CI=true) a missing Node install fails the test; elsewhere it skips.
func StartFHIRServer(t testing.TB) *FHIRServer {
	t.Helper()
	return StartFHIRServerEnv(t)
}

// StartFHIRServerEnv is StartFHIRServer with extra environment variables
// of server.js (e.g. EXPORT=off, EXPORT_FILE_LINES=7, EXPORT_DELAY_MS=500).
func StartFHIRServerEnv(t testing.TB, env ...string) *FHIRServer {
	t.Helper()
	dir := filepath.Join(Root(t), "testdata", "fhirserver")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@medplum", "fhir-router")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test FHIR server not installed (run npm ci in testdata/fhirserver; .ci/run does): %v", err)
		}
		t.Skip("test FHIR server not installed: npm ci in testdata/fhirserver")
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	s := &FHIRServer{t: t, dir: dir, env: env, instance: hex.EncodeToString(nonce[:])}
	t.Cleanup(s.Stop)
	// a free port is only free until someone takes it: between closing the
	// probe listener and node's listen, another test's server can get it
	// (node then exits with EADDRINUSE, and a health check answered by the
	// other server made tests talk to a facade). A start that finds its
	// process gone or someone else answering tries another port.
	for attempt := 1; ; attempt++ {
		s.port = freePort(t)
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// URL is the FHIR base.
func (s *FHIRServer) URL() string { return "http://127.0.0.1:" + s.port + "/fhir" }

// Root is the server root (for /_test/fault).
func (s *FHIRServer) Root() string { return "http://127.0.0.1:" + s.port }

// Start (re)starts the process on the same port and waits until it answers.
func (s *FHIRServer) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// start runs node on s.port and waits until this process (its instance)
// answers /healthz; an error when it exits first or does not answer.
func (s *FHIRServer) start() error {
	cmd := exec.Command("node", "server.js")
	cmd.Dir = s.dir
	cmd.Env = append(append(os.Environ(), "PORT="+s.port, "INSTANCE="+s.instance), s.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start test FHIR server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("test FHIR server exited before answering on port %s (port taken?)", s.port)
		default:
		}
		if s.answering() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("test FHIR server did not answer on %s", s.URL())
}

// answering reports whether this instance answers /healthz.
func (s *FHIRServer) answering() bool {
	res, err := http.Get(s.Root() + "/healthz")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var h struct {
		Instance string `json:"instance"`
	}
	return res.StatusCode == 200 && json.NewDecoder(res.Body).Decode(&h) == nil && h.Instance == s.instance
}

// Stop kills the process (all data is lost, as with a crash).
func (s *FHIRServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// NextID makes the server give its next create the id id, as its own id
// assignment might (the facade never sends a create's id).
func (s *FHIRServer) NextID(id string) {
	s.t.Helper()
	res, err := http.Post(s.Root()+"/_test/next-id?id="+url.QueryEscape(id), "application/json", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
}

// Fault makes the next n FHIR requests answer status.
func (s *FHIRServer) Fault(status, n int) {
	s.t.Helper()
	res, err := http.Post(fmt.Sprintf("%s/_test/fault?status=%d&count=%d", s.Root(), status, n), "application/json", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
}

// ExportStats are the test server's $export call counts (all zero and Off
// when it runs with EXPORT=off).
type ExportStats struct {
	Off                                 bool
	Kickoffs, Polls, Downloads, Deletes int
}

// ExportStats reads /_test/export-stats.
func (s *FHIRServer) ExportStats() ExportStats {
	s.t.Helper()
	res, err := http.Get(s.Root() + "/_test/export-stats")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var st ExportStats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// ExportFault makes the server's next $export job fail ("fail") or put a
// line of another type into each type's first file ("wrongtype") or
// overstate each file's count in its manifest by one ("miscount").
func (s *FHIRServer) ExportFault(kind string) {
	s.t.Helper()
	res, err := http.Post(s.Root()+"/_test/export-fault?kind="+kind, "application/json", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
}
