package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// walkStep is one line of walk.mjs's report.
type walkStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// TestThirdPartyClientWalk: an independent FHIR client from npm
// (fhir-kit-client, pinned in testdata/fhirclient) walks the facade as a
// consumer would — CapabilityStatement, a transaction with urn:uuid
// references, reads, vread, history, $everything, conditional update,
// _elements, delete then 410 — once with every type on legacy and once
// with the walked types on fhir (the test FHIR server).
func TestThirdPartyClientWalk(t *testing.T) {
	dir := clientDir(t)
	w := newWorld(t, testutil.SQLite(t), "sqlite://"+t.TempDir()+"/control.db")
	t.Run("legacy", func(t *testing.T) { runWalk(t, dir, w.http.URL+"/fhir", "legacy") })
	// every type the walk writes moves: a transaction must stay on one backend
	for _, typ := range []string{"Patient", "Encounter", "Condition", "Observation"} {
		w.copyAll(typ)
		w.flip(typ, routing.Shadow, false)
		w.prove(typ)
		w.flip(typ, routing.FHIR, false)
	}
	t.Run("fhir", func(t *testing.T) { runWalk(t, dir, w.http.URL+"/fhir", "fhir") })
}

// clientDir is testdata/fhirclient, installed (.ci/run runs npm ci there).
func clientDir(t *testing.T) string {
	dir := filepath.Join(testutil.Root(t), "testdata", "fhirclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fhir-kit-client")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fhir-kit-client not installed (npm ci in testdata/fhirclient; .ci/run does): %v", err)
		}
		t.Skip("fhir-kit-client not installed: npm ci in testdata/fhirclient")
	}
	return dir
}

// runWalk runs walk.mjs against base and turns each reported step into a
// subtest.
func runWalk(t *testing.T, dir, base, tag string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "walk.mjs", base, tag)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("walk.mjs: %v\n%s\n%s", err, out, stderr.String())
	}
	var steps []walkStep
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var s walkStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("walk.mjs wrote a line that is not a step: %q", sc.Text())
		}
		steps = append(steps, s)
	}
	if len(steps) < 10 {
		t.Fatalf("walk.mjs reported %d steps:\n%s\n%s", len(steps), out, stderr.String())
	}
	for _, s := range steps {
		t.Run(s.Step, func(t *testing.T) { judgeStep(t, s) })
	}
}

func judgeStep(t *testing.T, s walkStep) {
	if !s.OK {
		t.Errorf("%s failed: %s", s.Step, s.Detail)
		return
	}
	t.Logf("ok: %s", s.Detail)
}
