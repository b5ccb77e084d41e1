package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestSmartServeAndAudit: the binary with FHIRFACADE_AUTH=smart against a
// local issuer refuses requests without a valid token, serves scoped ones,
// publishes smart-configuration (endpoints found by OpenID discovery) and
// audits every request and route flip; audit verify passes, audit export
// writes valid AuditEvents, and one edited row makes verify fail naming it.
func TestSmartServeAndAudit(t *testing.T) {
	is := testutil.NewIssuer(t)
	dir := t.TempDir()
	addr, opsAddr := freePort(t), freePort(t)
	env := []string{"FHIRFACADE_LISTEN=" + addr, "FHIRFACADE_OPS_LISTEN=" + opsAddr, "FHIRFACADE_AUTH=smart", "FHIRFACADE_ISSUER=" + is.URL,
		"FHIRFACADE_AUDIENCE=" + is.Audience, "FHIRFACADE_JWKS_URL=" + is.JWKSURL,
		"FHIRFACADE_CONSOLE_CLIENT_ID=console", "FHIRFACADE_CONSOLE_REDIRECT_URL=http://" + addr + "/admin/console/callback"}
	var stderr bytes.Buffer
	cmd := command(t, dir, env, "serve")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	base := "http://" + addr
	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		res.Body.Close()
		return res
	}
	deadline := time.Now().Add(30 * time.Second)
	for !healthy(opsAddr) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("not serving: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := is.Claims("u1", "patient/*.rs")
	c["patient"] = "1"
	tok := is.Token(t, c)
	sent := 0
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/fhir/Patient/1", "", 401},
		{"/fhir/Patient/1", tok, 200},
		{"/fhir/Patient/2", tok, 404},
		{"/fhir/Observation?_count=5", tok, 200},
		{"/fhir/Patient/1", is.Unsigned(t, c), 401},
		{"/admin/routes", tok, 403},
	} {
		res := get(tc.path, tc.token)
		sent++
		if res == nil || res.StatusCode != tc.want {
			stop()
			t.Fatalf("%s: %v want %d\n%s", tc.path, res, tc.want, stderr.String())
		}
	}
	res, err := http.Get(base + "/fhir/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if doc["token_endpoint"] != is.URL+"/token" || doc["authorization_endpoint"] != is.URL+"/authorize" {
		t.Fatalf("smart-configuration %v", doc)
	}
	stop()
	if strings.Contains(stderr.String(), tok) {
		t.Fatal("a token reached the log")
	}

	ctlEnv := []string{"FHIRFACADE_CONTROL_DSN=sqlite://" + filepath.Join(dir, "data", "control.db")}
	if out, err := command(t, dir, ctlEnv, "route", "set", "Patient", "shadow", "--reason", "audit test").CombinedOutput(); err != nil {
		t.Fatalf("route set: %v\n%s", err, out)
	}
	sent++
	out, err := command(t, dir, ctlEnv, "audit", "verify").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit chain OK") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// the anchor it prints is checked by a later verify, given by flag or env
	_, anchor, _ := strings.Cut(string(out), "anchor: ")
	anchor = strings.TrimSpace(anchor)
	if out, err := command(t, dir, append(ctlEnv, "FHIRFACADE_ANCHOR="+anchor), "audit", "verify").CombinedOutput(); err != nil || !strings.Contains(string(out), "1 anchors matched") {
		t.Fatalf("verify with its own anchor %q: %v\n%s", anchor, err, out)
	}
	if out, err := command(t, dir, ctlEnv, "audit", "verify", "--anchor", "3:nothex").CombinedOutput(); err == nil || !strings.Contains(string(out), "--anchor") {
		t.Fatalf("a malformed anchor: %v\n%s", err, out)
	}
	// the scheduled form: every logged anchor checked, the new one appended
	anchorLog := filepath.Join(dir, "anchors.log")
	for i, want := range []string{"0 anchors matched", "1 anchors matched"} {
		out, err := command(t, dir, ctlEnv, "audit", "verify", "--anchor-log", anchorLog).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("verify --anchor-log, run %d: %v\n%s", i+1, err, out)
		}
		if i == 0 {
			if out, err := command(t, dir, ctlEnv, "route", "set", "Patient", "legacy", "--reason", "anchor test").CombinedOutput(); err != nil {
				t.Fatalf("route set: %v\n%s", err, out)
			}
			sent++
		}
	}
	if logged, err := audit.LoadAnchors(anchorLog); err != nil || len(logged) != 2 || logged[1].Seq != logged[0].Seq+1 {
		t.Fatalf("anchor log %v %v", logged, err)
	}
	exp := filepath.Join(dir, "audit.ndjson")
	if out, err := command(t, dir, ctlEnv, "audit", "export", "--out", exp, "--since", "1h").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	f, err := os.Open(exp)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	lines, flips := 0, 0
	for sc.Scan() {
		lines++
		if err := testutil.ValidateFHIR(t, "AuditEvent", sc.Bytes()); err != nil {
			t.Fatalf("%v\n%s", err, sc.Text())
		}
		if bytes.Contains(sc.Bytes(), []byte(`"code":"route-set"`)) {
			flips++
		}
		// the two 401s from one address in one second are one AuditEvent
		// that counts them
		lines += countedRequests(sc.Bytes()) - 1
	}
	f.Close()
	if lines < sent || flips != 2 {
		t.Fatalf("AuditEvents for %d requests (%d route flips) for %d audited actions", lines, flips, sent)
	}

	// an attacker with file access turns the 404 into a 200
	db, err := sqldb.Open(context.Background(), "sqlite://"+filepath.Join(dir, "data", "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := db.QueryRow(`SELECT seq FROM audit_event WHERE body LIKE '%"status":404%'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_event_no_update", fmt.Sprintf(`UPDATE audit_event SET body = replace(body, '"status":404', '"status":200') WHERE seq = %d`, seq)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err = command(t, dir, ctlEnv, "audit", "verify").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), fmt.Sprintf("record %d", seq)) {
		t.Fatalf("verify after tampering: %v\n%s", err, out)
	}
}

// countedRequests is how many requests an AuditEvent stands for: its
// "count" detail, or one.
func countedRequests(line []byte) int {
	var ev struct {
		Entity []struct {
			Detail []struct{ Type, ValueString string } `json:"detail"`
		} `json:"entity"`
	}
	_ = json.Unmarshal(line, &ev)
	for _, e := range ev.Entity {
		for _, d := range e.Detail {
			var n int
			if d.Type == "count" {
				if _, err := fmt.Sscan(d.ValueString, &n); err == nil {
					return n
				}
			}
		}
	}
	return 1
}
