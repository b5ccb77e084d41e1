package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fhirfacade-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "fhirfacade")
	if other := os.Getenv("FHIRFACADE_TEST_BIN"); other != "" {
		// benchmarks run the same tests against another build (a baseline)
		bin = other
	} else if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func command(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// a port of its own for the operations listener unless the test names
	// one (the default 127.0.0.1:9090 is shared by everything on the host);
	// a later duplicate in Env wins
	cmd.Env = append(append(cleanEnv(), "FHIRFACADE_OPS_LISTEN=127.0.0.1:0"), env...)
	return cmd
}

// cleanEnv drops any FHIRFACADE_* the developer has set.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FHIRFACADE_") {
			out = append(out, kv)
		}
	}
	return out
}

// healthy: the operations listener at addr answers /healthz with 200.
func healthy(addr string) bool {
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestEmbeddedDefault: serve with no configuration creates, migrates and
// seeds ./data/legacy.db and ./data/control.db and answers within seconds.
func TestEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	var stderr bytes.Buffer
	cmd := command(t, dir, []string{"FHIRFACADE_LISTEN=" + addr}, "serve")
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	defer stop()
	var res *http.Response
	var err error
	for time.Since(start) < 30*time.Second {
		res, err = http.Get("http://" + addr + "/fhir/Observation?patient=1&_include=Observation:patient")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		stop()
		t.Fatalf("not serving after 30 s: %v\n%s", err, stderr.String())
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	t.Logf("first answer %v after start (fresh database, seeded)", time.Since(start).Round(time.Millisecond))
	for _, f := range []string{"data/legacy.db", "data/control.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	stop() // the log is read only once the process has exited
	if strings.Contains(stderr.String(), "patient=1") {
		t.Error("the query string reached the log")
	}
}

// TestBadConfiguration: each mistake stops start-up naming its variable,
// and passwords never appear.
func TestBadConfiguration(t *testing.T) {
	cases := []struct {
		env  []string
		want string
	}{
		{[]string{"FHIRFACADE_LISTEN=0.0.0.0:18080"}, "FHIRFACADE_AUTH=off is allowed only on a loopback"},
		{[]string{"FHIRFACADE_AUTH=maybe"}, "FHIRFACADE_AUTH"},
		{[]string{"FHIRFACADE_AUTH=smart"}, "FHIRFACADE_ISSUER"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0"}, "FHIRFACADE_AUDIENCE"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade"}, "FHIRFACADE_JWKS_URL"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=http://keys.example/jwks"}, "FHIRFACADE_JWKS_URL"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=http://127.0.0.1:1/jwks",
			"FHIRFACADE_CONSOLE_CLIENT_ID=c", "FHIRFACADE_CONSOLE_REDIRECT_URL=https://facade.example/admin/console/callback"}, "FHIRFACADE_JWKS_URL"},
		{[]string{"FHIRFACADE_AUDIT=maybe"}, "FHIRFACADE_AUDIT"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=https://login.example/keys"}, "FHIRFACADE_CONSOLE_CLIENT_ID"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=https://login.example/keys", "FHIRFACADE_CONSOLE_CLIENT_ID=c"}, "FHIRFACADE_CONSOLE_REDIRECT_URL"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=https://login.example/keys", "FHIRFACADE_CONSOLE_CLIENT_ID=c", "FHIRFACADE_CONSOLE_REDIRECT_URL=http://facade.example/admin/console/callback"}, "FHIRFACADE_CONSOLE_REDIRECT_URL"},
		{[]string{"FHIRFACADE_CONSOLE_SESSION_KEY=short"}, "FHIRFACADE_CONSOLE_SESSION_KEY"},
		{[]string{"FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=https://login.example/t/v2.0", "FHIRFACADE_AUDIENCE=api://facade", "FHIRFACADE_JWKS_URL=http://127.0.0.1:1/jwks", "FHIRFACADE_JWKS_MAX_AGE=10s"}, "FHIRFACADE_JWKS_MAX_AGE"},
		{[]string{"FHIRFACADE_JWKS_MAX_AGE=soon"}, "FHIRFACADE_JWKS_MAX_AGE"},
		{[]string{"FHIRFACADE_RATE_LIMIT=-1"}, "FHIRFACADE_RATE_LIMIT"},
		{[]string{"FHIRFACADE_LISTEN=nonsense"}, "FHIRFACADE_LISTEN"},
		{[]string{"FHIRFACADE_FHIR_URL=ftp://127.0.0.1:1/fhir"}, "FHIRFACADE_FHIR_URL"},
		{[]string{"FHIRFACADE_FHIR_AUTH=bearer"}, "FHIRFACADE_FHIR_TOKEN"},
		{[]string{"FHIRFACADE_SHADOW_SAMPLE=2"}, "FHIRFACADE_SHADOW_SAMPLE"},
		{[]string{"FHIRFACADE_FHIR_AUTH=kerberos"}, "FHIRFACADE_FHIR_AUTH"},
		{[]string{"FHIRFACADE_PAGE_SIZE=abc"}, "FHIRFACADE_PAGE_SIZE"},
		{[]string{"FHIRFACADE_MAPPINGS=/nonexistent"}, "FHIRFACADE_MAPPINGS"},
		{[]string{"FHIRFACADE_LEGACY_DSN=mysql://x"}, "FHIRFACADE_LEGACY_DSN"},
		{[]string{"FHIRFACADE_LEGACY_DSN=postgres://u:s3cretpw@127.0.0.1:1/x?connect_timeout=2"}, "FHIRFACADE_LEGACY_DSN"},
		{[]string{"FHIRFACADE_CONTROL_DSN=postgres://u:s3cretpw@127.0.0.1:1/x?connect_timeout=2"}, "FHIRFACADE_CONTROL_DSN"},
		{[]string{"FHIRFACADE_EVENT_SINKS=https://u:s3cretpw@hook.example/x,smtp://mail"}, "FHIRFACADE_EVENT_SINKS"},
		{[]string{"FHIRFACADE_EVENT_SCHEMA=xml"}, "FHIRFACADE_EVENT_SCHEMA"},
		{[]string{"FHIRFACADE_LEGACY_POLL=often"}, "FHIRFACADE_LEGACY_POLL"},
		{[]string{"FHIRFACADE_LEGACY_POLL=1ms"}, "FHIRFACADE_LEGACY_POLL"},
		{[]string{"FHIRFACADE_EVENT_MAX_ATTEMPTS=0"}, "FHIRFACADE_EVENT_MAX_ATTEMPTS"},
		{[]string{"FHIRFACADE_EXPORT_MAX_JOBS=0"}, "FHIRFACADE_EXPORT_MAX_JOBS"},
		{[]string{"FHIRFACADE_EXPORT_RETENTION=1s"}, "FHIRFACADE_EXPORT_RETENTION"},
		{[]string{"FHIRFACADE_EXPORT_BLOB=not a url"}, "FHIRFACADE_EXPORT_BLOB"},
		{[]string{"FHIRFACADE_EXPORT_BLOB_CONNECTION=AccountKey=s3cretpw"}, "FHIRFACADE_EXPORT_BLOB_CONNECTION"},
		{[]string{"FHIRFACADE_EXPORT_BLOB=http://127.0.0.1:1/devstoreaccount1/export", "FHIRFACADE_EXPORT_BLOB_CONNECTION=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=czNjcmV0cHc=;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"}, "FHIRFACADE_EXPORT_BLOB_CONNECTION"},
		{[]string{"FHIRFACADE_EXPORT_DIR=/proc/nope"}, "FHIRFACADE_EXPORT_DIR"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			dir := t.TempDir()
			out, err := command(t, dir, append(c.env, "FHIRFACADE_LISTEN="+envOr(c.env, "FHIRFACADE_LISTEN", freePort(t))), "serve").CombinedOutput()
			if err == nil {
				t.Fatalf("started with %v", c.env)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("output does not name %q:\n%s", c.want, out)
			}
			if strings.Contains(string(out), "s3cretpw") {
				t.Fatalf("password in output:\n%s", out)
			}
		})
	}
}

func envOr(env []string, key, def string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return def
}

// TestSeedResumesAfterKill kills a seed mid-run and runs it again: the
// result is complete, with nothing twice.
func TestSeedResumesAfterKill(t *testing.T) {
	testutil.LegacyDSNs(t, func(t *testing.T, dsn string) {
		env := []string{"FHIRFACADE_LEGACY_DSN=" + dsn}
		cmd := command(t, t.TempDir(), env, "legacy", "seed", "--patients", "3000", "--batch", "100")
		pr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// kill it hard once a few batches have committed
		buf := make([]byte, 4096)
		seen := ""
		for !strings.Contains(seen, "seeded 500/") {
			n, err := pr.Read(buf)
			if err != nil {
				t.Fatalf("seed ended early: %v: %s", err, seen)
			}
			seen += string(buf[:n])
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if out, err := command(t, t.TempDir(), env, "legacy", "seed", "--patients", "3000").CombinedOutput(); err != nil {
			t.Fatalf("rerun: %v\n%s", err, out)
		}
		db, err := sqldb.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for table, want := range map[string]int{"pat_master": 3000, "visit": 9000, "lab_result": 60000} {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
	})
}

// TestMappingsCheck lists an unmapped column and a missing one, on each
// legacy dialect's live schema.
func TestMappingsCheck(t *testing.T) {
	testutil.LegacyDSNs(t, func(t *testing.T, legacyDSN string) {
		dir := t.TempDir()
		dsn := "FHIRFACADE_LEGACY_DSN=" + legacyDSN
		if out, err := command(t, dir, []string{dsn}, "legacy", "migrate").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		out, err := command(t, dir, []string{dsn}, "mappings", "check").CombinedOutput()
		if err != nil {
			t.Fatalf("demo schema should check clean: %v\n%s", err, out)
		}
		db, err := sqldb.Open(context.Background(), legacyDSN)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("ALTER TABLE pat_master ADD COLUMN nickname VARCHAR(20)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("ALTER TABLE visit DROP COLUMN disch_dttm"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		out, err = command(t, dir, []string{dsn}, "mappings", "check").CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("want exit 1, got %v\n%s", err, out)
		}
		for _, want := range []string{"pat_master.nickname: neither mapped nor listed under ignore", "encounter.yaml: visit.disch_dttm: no such column"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestListenInUse: an address already taken stops serve with an error
// naming FHIRFACADE_LISTEN — promptly, not after the audit writer (which
// waits for shutdown) has kept it alive forever.
func TestListenInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), "FHIRFACADE_LISTEN="+l.Addr().String(), "FHIRFACADE_OPS_LISTEN=127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("serve did not exit within 30 s on a taken address:\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), "FHIRFACADE_LISTEN") || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("want an error naming FHIRFACADE_LISTEN, got %v:\n%s", err, out)
	}
}

// TestMappingsSampleAndScaffold: check --sample maps real rows and exits 1
// naming each row, element and column that fails; scaffold prints a draft
// for a live table.
func TestMappingsSampleAndScaffold(t *testing.T) {
	dir := t.TempDir()
	dsn := "FHIRFACADE_LEGACY_DSN=sqlite://" + filepath.Join(dir, "legacy.db")
	schema := testutil.Shared(t, "fhir-r4/fhir.schema.json")
	if out, err := command(t, dir, []string{dsn}, "legacy", "seed", "--patients", "5").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := command(t, dir, []string{dsn}, "mappings", "check", "--sample", "5", "--schema", schema).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sampled 5 rows of Patient in ") {
		t.Fatalf("shipped specs: %v\n%s", err, out)
	}
	out, err = command(t, dir, []string{dsn}, "mappings", "check", "--sample", "5", "--schema", filepath.Join(dir, "none.json")).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "FHIR R4 JSON schema not found") {
		t.Errorf("missing schema: %v\n%s", err, out)
	}
	draft, err := command(t, dir, []string{dsn}, "mappings", "scaffold", "pat_master").Output()
	if err != nil || !strings.Contains(string(draft), "resourceType: Patient") || !strings.Contains(string(draft), `family: "{{last_nm}}"`) {
		t.Fatalf("scaffold: %v\n%s", err, draft)
	}
	// the draft as it comes: its code map stubs map every code to TODO,
	// which is no administrative-gender code
	specs := filepath.Join(dir, "specs")
	if err := os.Mkdir(specs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(specs, "patient.yaml"), draft, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = command(t, dir, []string{dsn}, "mappings", "check", "--mappings", specs, "--sample", "3", "--schema", schema).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	if !regexp.MustCompile(`sample  Patient/\d+: Patient.gender \(column sex_cd\): value must be one of`).Match(out) {
		t.Errorf("no gender failure with row and column:\n%s", out)
	}
}
