package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestSyncAndParity is the migration engineer's path with the real binary:
// seed legacy (PostgreSQL), sync every type into the test FHIR server with a
// sync killed mid-run and resumed, change and delete legacy rows, sync
// --incremental, and end with parity passing for every type and a flip that
// the guard allows without --force.
func TestSyncAndParity(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	legacyDSN, controlDSN := testutil.PostgresDSN(t), testutil.PostgresDSN(t)
	dir := t.TempDir()
	env := []string{"FHIRFACADE_LEGACY_DSN=" + legacyDSN, "FHIRFACADE_CONTROL_DSN=" + controlDSN, "FHIRFACADE_FHIR_URL=" + srv.URL()}
	run := func(args ...string) (string, error) {
		out, err := command(t, dir, env, args...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		out, err := run(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	must("legacy", "seed", "--patients", "150")
	must("sync", "Patient")
	must("sync", "Encounter")

	// kill an Observation sync (3,000 resources) after its first wave
	cmd := command(t, dir, env, "sync", "Observation", "--batch", "50", "--parallel", "1")
	pr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "written") {
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	out := must("sync", "Observation", "--batch", "500")
	if !strings.Contains(out, "resumed from a checkpoint") {
		t.Fatalf("second run did not resume: %s", out)
	}
	for _, typ := range []string{"Patient", "Encounter", "Observation"} {
		if out := must("parity", typ); !strings.Contains(out, "PASS") {
			t.Fatalf("parity %s after full sync: %s", typ, out)
		}
	}

	// legacy changes behind the facade's back: an edit and a deletion
	db, err := sqldb.Open(context.Background(), legacyDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	exec("UPDATE pat_master SET last_nm = 'Renamed', upd_ts = CURRENT_TIMESTAMP + interval '1 hour' WHERE pat_id = 3")
	exec("DELETE FROM lab_result WHERE result_id = 5")
	if out, _ := run("parity", "Patient"); !strings.Contains(out, "FAIL") || !strings.Contains(out, "Patient/3") {
		t.Fatalf("parity did not see the legacy edit: %s", out)
	}
	if out, _ := run("parity", "Observation"); !strings.Contains(out, "1 only in FHIR") {
		t.Fatalf("parity did not see the legacy deletion: %s", out)
	}
	out = must("sync", "Patient", "--incremental")
	if strings.Contains(out, " 150 written") {
		t.Fatalf("incremental sync rewrote everything: %s", out)
	}
	out = must("sync", "Observation", "--incremental")
	if !strings.Contains(out, "1 deleted") {
		t.Fatalf("incremental sync did not remove the deleted row: %s", out)
	}
	for _, typ := range []string{"Patient", "Observation"} {
		if out := must("parity", typ, "--json", typ+".json", "--html", typ+".html"); !strings.Contains(out, "PASS") {
			t.Fatalf("parity %s after incremental sync: %s", typ, out)
		}
	}
	var rep struct {
		Passed bool
		Counts struct{ Matching int }
	}
	b, _ := os.ReadFile(filepath.Join(dir, "Observation.json"))
	if err := json.Unmarshal(b, &rep); err != nil || !rep.Passed || rep.Counts.Matching != 150*20-1 {
		t.Fatalf("JSON report: %+v %v", rep, err)
	}
	if h, _ := os.ReadFile(filepath.Join(dir, "Patient.html")); !strings.Contains(string(h), "PASS") {
		t.Fatal("HTML report lacks its verdict")
	}
	// a report from before the move to shadow is not enough (writes on
	// legacy are not mirrored); one taken on shadow lets the flip through
	must("route", "set", "Patient", "shadow", "--reason", "start")
	if out, err := run("route", "set", "Patient", "fhir", "--reason", "old report"); err == nil || !strings.Contains(out, "predates the move to shadow") {
		t.Fatalf("flip on a pre-shadow report: %v\n%s", err, out)
	}
	must("sync", "Patient", "--incremental")
	must("parity", "Patient")
	if out := must("route", "set", "Patient", "fhir", "--reason", "parity passed"); !strings.Contains(out, "moved Patient shadow -> fhir") {
		t.Fatalf("flip: %s", out)
	}

	// corruption on both sides is named, and the guard refuses
	req, _ := http.NewRequest(http.MethodPut, srv.URL()+"/Encounter/4", strings.NewReader(`{"resourceType":"Encounter","id":"4","status":"cancelled","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}}`))
	req.Header.Set("Content-Type", "application/fhir+json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode >= 300 {
		t.Fatalf("corrupt FHIR: %v %v", err, res)
	}
	exec("UPDATE visit SET visit_status_cd = 'Z' WHERE visit_id = 2")
	out, err = run("parity", "Encounter")
	if err == nil || !strings.Contains(out, "Encounter/4") || !strings.Contains(out, "unmappable Encounter/2") {
		t.Fatalf("parity should fail naming Encounter/4 and Encounter/2: %v\n%s", err, out)
	}
	must("route", "set", "Encounter", "shadow", "--reason", "start")
	if out, err := run("route", "set", "Encounter", "fhir", "--reason", "try"); err == nil || !strings.Contains(out, "does not pass") {
		t.Fatalf("flip with a failing report: %v\n%s", err, out)
	}
}
