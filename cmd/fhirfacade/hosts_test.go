package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadAddresses: a bad public base URL, allowed host, trusted proxy or
// operations address stops start-up naming its variable (before the fix
// these variables did not exist: serve started, and ran until killed).
func TestBadAddresses(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	listen := freePort(t)
	smart := []string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=https://login.example/keys"}
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"not http", []string{"FHIRFACADE_BASE_URL=ftp://fhir.example.org/fhir"}, "FHIRFACADE_BASE_URL"},
		{"relative", []string{"FHIRFACADE_BASE_URL=/fhir"}, "FHIRFACADE_BASE_URL"},
		{"no host", []string{"FHIRFACADE_BASE_URL=https:///fhir"}, "FHIRFACADE_BASE_URL"},
		{"query", []string{"FHIRFACADE_BASE_URL=https://fhir.example.org/fhir?tenant=1"}, "FHIRFACADE_BASE_URL"},
		{"fragment", []string{"FHIRFACADE_BASE_URL=https://fhir.example.org/fhir#x"}, "FHIRFACADE_BASE_URL"},
		{"user info", []string{"FHIRFACADE_BASE_URL=https://u:p@fhir.example.org/fhir"}, "FHIRFACADE_BASE_URL"},
		{"wildcard listen without base URL", append([]string{"FHIRFACADE_LISTEN=0.0.0.0:" + port(listen)}, smart...), "FHIRFACADE_BASE_URL must be set"},
		{"allowed host with a path", []string{"FHIRFACADE_ALLOWED_HOSTS=ok.example.org,http://evil.example/x"}, "FHIRFACADE_ALLOWED_HOSTS"},
		{"allowed host wildcard", []string{"FHIRFACADE_ALLOWED_HOSTS=*.example.org"}, "FHIRFACADE_ALLOWED_HOSTS"},
		{"proxy CIDR out of range", []string{"FHIRFACADE_TRUSTED_PROXIES=10.0.0.0/33"}, "FHIRFACADE_TRUSTED_PROXIES"},
		{"proxy CIDR trusting everyone", []string{"FHIRFACADE_TRUSTED_PROXIES=0.0.0.0/0"}, "FHIRFACADE_TRUSTED_PROXIES"},
		{"proxy by name", []string{"FHIRFACADE_TRUSTED_PROXIES=proxy.local"}, "FHIRFACADE_TRUSTED_PROXIES"},
		{"ops address malformed", []string{"FHIRFACADE_OPS_LISTEN=nonsense"}, "FHIRFACADE_OPS_LISTEN"},
		{"ops address is the API's", []string{"FHIRFACADE_OPS_LISTEN=" + listen}, "FHIRFACADE_OPS_LISTEN"},
		{"ops address taken", []string{"FHIRFACADE_OPS_LISTEN=" + taken.Addr().String()}, "address already in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve")
			cmd.Dir = t.TempDir()
			cmd.Env = append(cleanEnv(), append([]string{"FHIRFACADE_LISTEN=" + listen, "FHIRFACADE_OPS_LISTEN=127.0.0.1:0"}, c.env...)...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("started with %v (killed after 20 s):\n%s", c.env, lastLine(out))
			}
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Fatalf("want an error naming %q, got %v:\n%s", c.want, err, out)
			}
		})
	}
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// TestServeHostsAndOps: the binary serves /healthz, /readyz and /metrics on
// FHIRFACADE_OPS_LISTEN only, answers for the base URL's host and the
// loopback names (421 for others), builds links from FHIRFACADE_BASE_URL,
// believes forwarding headers from FHIRFACADE_TRUSTED_PROXIES only, and
// takes /admin changes as same-origin JSON, journaled as the local operator.
func TestServeHostsAndOps(t *testing.T) {
	addr, ops := freePort(t), freePort(t)
	const base = "https://fhir.example.org/r4"
	var stderr bytes.Buffer
	cmd := command(t, t.TempDir(), []string{"FHIRFACADE_LISTEN=" + addr, "FHIRFACADE_OPS_LISTEN=" + ops,
		"FHIRFACADE_BASE_URL=" + base + "/", "FHIRFACADE_ALLOWED_HOSTS=alias.example.org", "FHIRFACADE_TRUSTED_PROXIES=192.0.2.0/24"}, "serve")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); !healthy(ops); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ops listener not answering: %s", stderr.String())
		}
	}
	p := port(addr)
	for _, c := range []struct {
		name, method, url, body string
		hdr                     []string
		want                    int
		has                     string // the body must contain
	}{
		{"healthz off the API port", "GET", "http://" + addr + "/healthz", "", nil, 404, "OperationOutcome"},
		{"metrics off the API port", "GET", "http://" + addr + "/metrics", "", nil, 404, "OperationOutcome"},
		{"readyz off the API port", "GET", "http://" + addr + "/readyz", "", nil, 404, "OperationOutcome"},
		{"metrics on the ops port", "GET", "http://" + ops + "/metrics", "", nil, 200, "fhirfacade_requests_total"},
		{"readyz on the ops port", "GET", "http://" + ops + "/readyz", "", nil, 200, `{"control":"ok","legacy":"ok"}`},
		{"attacker Host", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "attacker.example:" + p}, 421, "OperationOutcome"},
		{"attacker Host on /admin", "GET", "http://" + addr + "/admin/routes", "", []string{"Host", "attacker.example"}, 421, "OperationOutcome"},
		{"X-Forwarded-Host from a peer not in FHIRFACADE_TRUSTED_PROXIES", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "attacker.example", "X-Forwarded-Host", "fhir.example.org"}, 421, "OperationOutcome"},
		{"localhost with the listen port", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "localhost:" + p}, 200, `"id":"1"`},
		{"[::1] with the listen port", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "[::1]:" + p}, 200, `"id":"1"`},
		{"the base URL's host", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "fhir.example.org"}, 200, `"id":"1"`},
		{"an allowed host", "GET", "http://" + addr + "/fhir/Patient/1", "", []string{"Host", "alias.example.org:8080"}, 200, `"id":"1"`},
		{"links from the base URL", "GET", "http://" + addr + "/fhir/Patient?_count=1", "", []string{"X-Forwarded-Proto", "http", "X-Forwarded-Host", "evil.example"}, 200, `"url":"` + base + `/Patient?_page=`},
		{"admin change from another site", "POST", "http://" + addr + "/admin/routes/Patient", `{"state":"shadow","reason":"csrf"}`, []string{"Content-Type", "text/plain", "Origin", "http://evil.example"}, 403, "OperationOutcome"},
		{"admin change as a form", "POST", "http://" + addr + "/admin/routes/Patient", `state=shadow`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "OperationOutcome"},
		{"admin change naming its actor", "POST", "http://" + addr + "/admin/routes/Patient", `{"state":"shadow","reason":"r","actor":"mallory"}`, []string{"Content-Type", "application/json"}, 400, "OperationOutcome"},
		{"admin change from the console's origin", "POST", "http://" + addr + "/admin/routes/Patient", `{"state":"shadow","reason":"ok"}`, []string{"Content-Type", "application/json", "Origin", "http://localhost:" + p}, 200, `"applied":true`},
		{"journal names the local operator", "GET", "http://" + addr + "/admin/routes/history?type=Patient", "", nil, 200, `"actor":"anonymous@loopback"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
			for i := 0; i+1 < len(c.hdr); i += 2 {
				req.Header.Set(c.hdr[i], c.hdr[i+1])
			}
			req.Host = req.Header.Get("Host")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.want || !strings.Contains(string(b), c.has) {
				t.Fatalf("%d, want %d with %s: %s", res.StatusCode, c.want, c.has, b)
			}
			if c.want == 200 && json.Valid(b) && strings.Contains(string(b), "127.0.0.1:"+p) {
				t.Fatalf("the listen address leaked into an answer: %s", b)
			}
		})
	}
}

// TestRouteSetActor: route set journals the OS user; --actor cannot replace
// it, only say on whose behalf.
func TestRouteSetActor(t *testing.T) {
	dir := t.TempDir()
	env := []string{"FHIRFACADE_CONTROL_DSN=sqlite://" + dir + "/control.db"}
	if out, err := command(t, dir, env, "route", "set", "Patient", "shadow", "--reason", "r", "--actor", "mallory").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := command(t, dir, env, "route", "history", "Patient").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "@") || !strings.Contains(string(out), " as mallory") {
		t.Fatalf("journal does not name the OS user before --actor:\n%s", out)
	}
}
