package facade_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// newBulk is an export engine over the control store with files in a
// temporary folder, two jobs at most, small pages; no workers run.
func newBulk(t *testing.T, ctl *control.Store, router facade.Router) *bulk.Engine {
	e, err := bulk.New(bulk.Config{Store: ctl, Router: router, Sink: bulk.Dir{Root: filepath.Join(t.TempDir(), "export")}, MaxJobs: 2, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// rawResp is an answer read as bytes (a manifest or NDJSON is no FHIR
// resource for env.send to check).
type rawResp struct {
	status int
	header http.Header
	body   []byte
}

func (s *secure) raw(tok, method, path string, hdr ...string) rawResp {
	s.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = s.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResp{status: res.StatusCode, header: res.Header, body: b}
}

// kickoff starts an export and returns its status URL.
func (s *secure) kickoff(tok, path string) string {
	s.t.Helper()
	r := s.as(tok, "GET", path, "", "Prefer", "respond-async")
	s.wantStatus(r, 202, "kick-off "+path)
	loc := r.header.Get("Content-Location")
	if !strings.Contains(loc, "/$export-status/") {
		s.t.Fatalf("kick-off %s: Content-Location %q", path, loc)
	}
	return loc
}

type manifest struct {
	TransactionTime     string `json:"transactionTime"`
	Request             string `json:"request"`
	RequiresAccessToken bool   `json:"requiresAccessToken"`
	Output, Error       []struct {
		Type, URL string
		Count     int
	}
}

// finish runs the queued jobs and reads the manifest at status.
func (s *secure) finish(tok, status string) manifest {
	s.t.Helper()
	if r := s.raw(tok, "GET", status); r.status != 202 || r.header.Get("X-Progress") == "" || r.header.Get("Retry-After") == "" {
		s.t.Fatalf("poll of a queued job: %d %v %s", r.status, r.header, r.body)
	}
	for {
		ran, err := s.bulk.RunOnce(context.Background(), "test")
		if err != nil {
			s.t.Fatal(err)
		}
		if !ran {
			break
		}
	}
	r := s.raw(tok, "GET", status)
	if r.status != 200 {
		s.t.Fatalf("poll of a finished job: %d %s", r.status, r.body)
	}
	var m manifest
	if err := json.Unmarshal(r.body, &m); err != nil || !m.RequiresAccessToken || m.TransactionTime == "" || !strings.Contains(m.Request, "$export") {
		s.t.Fatalf("manifest: %v %s", err, r.body)
	}
	return m
}

// lines downloads an NDJSON file and checks each line is valid R4 of typ.
func (s *secure) lines(tok, url, typ string) int {
	s.t.Helper()
	r := s.raw(tok, "GET", url, "Accept", "application/fhir+ndjson")
	if r.status != 200 || r.header.Get("Content-Type") != "application/fhir+ndjson" {
		s.t.Fatalf("download %s: %d %s", url, r.status, r.body)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if err := testutil.ValidateFHIR(s.t, typ, sc.Bytes()); err != nil {
			s.t.Fatalf("%s line %d: %v", url, n, err)
		}
		n++
	}
	return n
}

func (s *secure) total(tok, query string) int {
	s.t.Helper()
	r := s.as(tok, "GET", "/fhir/"+query, "")
	s.wantStatus(r, 200, query)
	return int(r.body["total"].(float64))
}

// TestBulkExport: a system export's files hold each type's _summary=count
// resources (a _typeFilter's, its search's), valid R4, served to the
// principal that started it only; patient-level exports leave out what the
// token cannot read and say so.
func TestBulkExport(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", bulk: true})
	sys, other := s.token("system/*.read", ""), s.is.Token(t, s.is.Claims("another-client", "system/*.read"))
	status := s.kickoff(sys, "/fhir/$export?_type=Patient,Encounter,Observation&_typeFilter="+
		strings.ReplaceAll("Observation?code=http://loinc.org|718-7", "|", "%7C"))
	s.wantStatus(s.as(other, "GET", status, ""), 404, "another principal's status")
	m := s.finish(sys, status)
	want := map[string]int{"Patient": s.total(sys, "Patient?_summary=count"), "Encounter": s.total(sys, "Encounter?_summary=count"),
		"Observation": s.total(sys, "Observation?code=http://loinc.org%7C718-7&_summary=count")}
	if len(m.Output) != 3 {
		t.Fatalf("outputs: %+v", m.Output)
	}
	for _, o := range m.Output {
		if n := s.lines(sys, o.URL, o.Type); n != want[o.Type] || o.Count != n || n == 0 {
			t.Errorf("%s: %d lines, manifest %d, _summary=count %d", o.Type, n, o.Count, want[o.Type])
		}
		s.wantStatus(s.as(other, "GET", o.URL, ""), 404, "another principal's file")
		if r := s.raw("", "GET", o.URL); r.status != 401 {
			t.Errorf("download without a token: %d", r.status)
		}
	}
	// patient level, a user/ token reading Observation only: the rest of
	// the compartment is left out and named in an error file
	obs := s.token("user/Observation.rs", "")
	m = s.finish(obs, s.kickoff(obs, "/fhir/Patient/$export"))
	if len(m.Output) != 1 || m.Output[0].Type != "Observation" || m.Output[0].Count != s.total(obs, "Observation?_summary=count") {
		t.Errorf("patient export outputs: %+v", m.Output)
	}
	if len(m.Error) != 1 || !strings.Contains(string(s.raw(obs, "GET", m.Error[0].URL).body), "Patient was left out") {
		t.Errorf("patient export errors: %+v", m.Error)
	}
	s.waitBulkAudit(t, []string{"bulk-export", "bulk-status", "bulk-download"})
}

// TestBulkRefusals: every bad kick-off is a 4xx OperationOutcome naming
// what is wrong; beyond the job limit a 429 with Retry-After; a cancelled
// job is gone.
func TestBulkRefusals(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", bulk: true})
	sys := s.token("system/*.read", "")
	async := []string{"Prefer", "respond-async"}
	cases := []struct {
		name, tok, path string
		hdr             []string
		status          int
		says            string
	}{
		{"no Prefer", sys, "/fhir/$export", nil, 400, "respond-async"},
		{"unknown type", sys, "/fhir/$export?_type=Nope", async, 400, "Nope"},
		{"unknown parameter", sys, "/fhir/$export?patient=Patient/1", async, 400, "patient"},
		{"output format", sys, "/fhir/$export?_outputFormat=text/csv", async, 400, "text/csv"},
		{"filter parameter", sys, "/fhir/$export?_typeFilter=Observation%3Fno-such%3Dx", async, 400, "no-such"},
		{"filter include", sys, "/fhir/$export?_typeFilter=Observation%3F_include%3DObservation:subject", async, 400, "_include"},
		{"filter of another type", sys, "/fhir/$export?_type=Patient&_typeFilter=Observation%3Fstatus%3Dfinal", async, 400, "Observation"},
		{"_since", sys, "/fhir/$export?_since=yesterday", async, 400, "_since"},
		{"user scope, system export", s.token("user/*.rs", ""), "/fhir/$export", async, 403, "system/"},
		{"one type short", s.token("system/Patient.rs", ""), "/fhir/$export", async, 403, "bulk export"},
		{"patient scope", s.token("patient/*.rs", "1"), "/fhir/Patient/$export", async, 403, "none of the types"},
		{"Group not served", sys, "/fhir/Group/1/$export", async, 404, "Group is not served"},
	}
	for _, c := range cases {
		r := s.as(c.tok, "GET", c.path, "", c.hdr...)
		s.wantStatus(r, c.status, c.name)
		if !strings.Contains(outcomeText(r), c.says) {
			t.Errorf("%s: %s does not name %q", c.name, outcomeText(r), c.says)
		}
	}
	narrow := s.token("system/Patient.rs", "")
	a := s.kickoff(narrow, "/fhir/$export?_type=Patient")
	s.kickoff(sys, "/fhir/$export")
	r := s.as(sys, "GET", "/fhir/$export", "", async...)
	s.wantStatus(r, 429, "third job")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if c := s.raw(sys, "DELETE", a); c.status != 404 {
		t.Errorf("cancel of another principal's job: %d", c.status)
	}
	if c := s.raw(narrow, "DELETE", a); c.status != 202 {
		t.Errorf("cancel: %d %s", c.status, c.body)
	}
	s.wantStatus(s.as(narrow, "GET", a, ""), 404, "cancelled job")
	s.kickoff(sys, "/fhir/$export") // the cancelled job freed its place
}

// waitBulkAudit waits for an audit record of each interaction.
func (s *secure) waitBulkAudit(t *testing.T, want []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen := map[string]bool{}
		_ = s.audit.Each(context.Background(), time.Time{}, func(r *audit.Record) error {
			if r.Status < 300 && strings.HasPrefix(r.Detail, "bulk export job") {
				seen[r.Interaction] = true
			}
			return nil
		})
		missing := ""
		for _, w := range want {
			if !seen[w] {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit record of %s", missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
