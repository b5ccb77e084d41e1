package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestConsoleBrowser drives the migration console in Debian's Chromium
// (testdata/console/console.mjs, playwright-core pinned there) against the
// fhirfacade binary on its embedded default (SQLite demo legacy and
// control stores) with the test FHIR server and FHIRFACADE_AUTH=smart at a
// local issuer: sign-in by authorization code + PKCE, the guard refusing
// a move, sync and parity run from the page, Patient moved to shadow then
// fhir with the journal and the live overview following, a rollback, and a
// page made stale through the admin API. Screenshots of every page go to
// ci-artifacts/console/. CSRF and non-admin refusals are checked without a
// browser in facade/console.
func TestConsoleBrowser(t *testing.T) {
	dir := consoleDir(t)
	fhir := testutil.StartFHIRServer(t)
	is := testutil.NewIssuer(t)
	started := time.Now()
	bin := buildFacade(t)
	t.Logf("go build: %v", time.Since(started).Round(time.Second))
	addr, ops := freeAddr(t), freeAddr(t)
	work := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = work // the embedded default writes ./data here
	cmd.Env = append(os.Environ(), "FHIRFACADE_LISTEN="+addr, "FHIRFACADE_OPS_LISTEN="+ops, "FHIRFACADE_FHIR_URL="+fhir.URL(),
		"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER="+is.URL, "FHIRFACADE_AUDIENCE="+is.Audience, "FHIRFACADE_JWKS_URL="+is.JWKSURL,
		"FHIRFACADE_CONSOLE_CLIENT_ID=console", "FHIRFACADE_CONSOLE_REDIRECT_URL=http://"+addr+"/admin/console/callback",
		"FHIRFACADE_SHADOW_SAMPLE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get("http://" + ops + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the facade did not start:\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	shots := filepath.Join(testutil.Root(t), "ci-artifacts", "console")
	apiToken := is.Token(t, is.Claims("api-operator", "fhirfacade.admin"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "console.mjs", "http://"+addr, shots, fhir.URL())
	node.Dir = dir
	node.Env = append(os.Environ(), "CONSOLE_API_TOKEN="+apiToken, "CONSOLE_READ_TOKEN="+is.Token(t, is.Claims("reader", "system/Patient.rs")))
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	started = time.Now()
	out, err := node.Output()
	t.Logf("browser walk: %v", time.Since(started).Round(time.Second))
	var steps []walkStep
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var s walkStep
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Step != "" {
			steps = append(steps, s)
		}
	}
	for _, s := range steps {
		t.Run(s.Step, func(t *testing.T) { judgeStep(t, s) })
	}
	if err != nil || len(steps) < 10 {
		t.Fatalf("console.mjs: %v, %d steps\n%s\n%s\nfacade log tail:\n%s", err, len(steps), out, nodeErr.String(), tail(stderr.String(), 4000))
	}
}

// consoleDir is testdata/console, installed (.ci/run runs npm ci there and
// installs chromium); in CI a missing piece fails, elsewhere it skips.
func consoleDir(t *testing.T) string {
	dir := filepath.Join(testutil.Root(t), "testdata", "console")
	missing := ""
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing = "playwright-core (npm ci in testdata/console)"
	} else if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = "/usr/bin/chromium (apt-get install chromium)"
	} else if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the console browser test needs %s; .ci/run installs it", missing)
		}
		t.Skip("not installed: " + missing)
	}
	return dir
}

// buildFacade builds the fhirfacade binary into the test's temp dir, with
// -race when this test runs with it (the build cache then has every
// package already; a race-enabled facade is also checked for races).
func buildFacade(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "fhirfacade")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	b := exec.Command("go", append(args, "./cmd/fhirfacade")...)
	b.Dir = testutil.Root(t)
	if out, err := b.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
