package upstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/upstream"
)

func newBackend(t *testing.T, url string, cfg upstream.Config) *upstream.Backend {
	t.Helper()
	cfg.BaseURL = url
	c, err := upstream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return upstream.NewBackend(c)
}

func patient(id, family string) map[string]any {
	p := map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": family}}, "gender": "female"}
	if id != "" {
		p["id"] = id
	}
	return p
}

// TestAgainstTestServer drives every interaction against the real test FHIR
// server, following its next links to the end.
func TestAgainstTestServer(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	b := newBackend(t, srv.URL(), upstream.Config{})
	ctx := context.Background()
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// PUT to legacy-derived ids, as sync does
	for i := 1; i <= 25; i++ {
		if _, _, err := b.Update(ctx, "Patient", fmt.Sprint(i), patient(fmt.Sprint(i), "Family"), ""); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	r, err := b.Read(ctx, "Patient", "7")
	if err != nil || r.ID != "7" || r.VersionID == "" {
		t.Fatalf("read: %+v %v", r, err)
	}
	if _, err := b.Read(ctx, "Patient", "nope"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := b.Read(ctx, "Patient", "../metadata"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("path in id: %v", err)
	}
	q := &search.Query{Params: []search.Param{{Name: "family", Values: []string{"Family"}}}}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		res, err := b.Search(ctx, "Patient", q, backend.SearchOptions{Count: 10, Cursor: cursor, Total: cursor == ""})
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && (res.Total == nil || *res.Total != 25) {
			t.Fatalf("total %v", res.Total)
		}
		for _, r := range res.Resources {
			if seen[r.ID] {
				t.Fatalf("%s twice", r.ID)
			}
			seen[r.ID] = true
		}
		pages++
		if res.Next == "" {
			break
		}
		cursor = res.Next
	}
	if len(seen) != 25 || pages != 3 {
		t.Fatalf("followed next links: %d resources in %d pages", len(seen), pages)
	}
	// create, conditional version checks, delete
	created, ok, err := b.Create(ctx, "Patient", patient("", "New"), nil)
	if err != nil || !ok || created.ID == "" {
		t.Fatalf("create: %v %v %v", created, ok, err)
	}
	if _, _, err := b.Update(ctx, "Patient", created.ID, patient(created.ID, "Newer"), "not-the-version"); !errors.Is(err, backend.ErrPreconditionFailed) && !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("stale If-Match: %v", err)
	}
	if err := b.Delete(ctx, "Patient", created.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(ctx, "Patient", created.ID); err == nil {
		t.Fatal("deleted resource still reads")
	}
	if _, _, err := b.Create(ctx, "Patient", map[string]any{"resourceType": "Patient", "nonsense": 1}, nil); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("invalid resource: %v", err)
	}
	if _, err := b.Search(ctx, "Patient", q, backend.SearchOptions{Count: 10, Cursor: "http://evil.example/fhir/Patient"}); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("cursor that is not one of ours: %v", err)
	}
	// a cursor continues only the search it came from: presented with
	// another query (a narrower grant, another filter) it is refused, not
	// followed to the first query's pages
	first, err := b.Search(ctx, "Patient", q, backend.SearchOptions{Count: 10})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v %v", first, err)
	}
	narrowed := &search.Query{Params: append(q.Params, search.Param{Name: "_id", Values: []string{"3"}})}
	if _, err := b.Search(ctx, "Patient", narrowed, backend.SearchOptions{Count: 10, Cursor: first.Next}); !errors.Is(err, upstream.ErrCursorMismatch) {
		t.Fatalf("cursor of another query: %v", err)
	}
}

// TestRetriesThrottling: 429 and 503 answers are retried after the server's
// x-ms-retry-after-ms, and the request succeeds.
func TestRetriesThrottling(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	b := newBackend(t, srv.URL(), upstream.Config{MaxRetries: 3})
	ctx := context.Background()
	if _, _, err := b.Update(ctx, "Patient", "1", patient("1", "A"), ""); err != nil {
		t.Fatal(err)
	}
	for _, st := range []int{429, 503} {
		srv.Fault(st, 2)
		start := time.Now()
		if _, err := b.Read(ctx, "Patient", "1"); err != nil {
			t.Fatalf("after two %d: %v", st, err)
		}
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Fatalf("retried after %v, sooner than the server's 2 x 50 ms", d)
		}
	}
	srv.Fault(429, 10)
	if _, err := b.Read(ctx, "Patient", "1"); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("persistent throttling: %v", err)
	}
}

// TestBreakerFailsFast: with the server gone, the breaker opens and later
// calls fail in milliseconds, then recover once it is back.
func TestBreakerFailsFast(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	b := newBackend(t, srv.URL(), upstream.Config{MaxRetries: 1, BreakerFailures: 3, BreakerOpen: 500 * time.Millisecond})
	ctx := context.Background()
	srv.Stop()
	for i := 0; i < 3; i++ {
		_, _ = b.Read(ctx, "Patient", "1")
	}
	start := time.Now()
	_, err := b.Read(ctx, "Patient", "1")
	if !errors.Is(err, backend.ErrUnavailable) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("open breaker: %v after %v", err, time.Since(start))
	}
	srv.Start()
	time.Sleep(600 * time.Millisecond)
	if _, err := b.Read(ctx, "Patient", "1"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "127.0.0.1:1/fhir"} {
		if _, err := upstream.New(upstream.Config{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// TestCapabilities: the CapabilityStatement comes back as sent, after
// retrying a throttled answer; a server that keeps failing is unavailable.
func TestCapabilities(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL(), MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.Fault(503, 1)
	raw, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cs struct {
		ResourceType string `json:"resourceType"`
		Rest         []struct {
			Resource []struct {
				Type string `json:"type"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(raw, &cs); err != nil || cs.ResourceType != "CapabilityStatement" || len(cs.Rest) != 1 || len(cs.Rest[0].Resource) < 100 {
		t.Fatalf("not the server's CapabilityStatement: %v %.200s", err, raw)
	}
	srv.Fault(500, 1)
	if _, err := c.Capabilities(ctx); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("500: %v", err)
	}
	srv.Stop()
	if _, err := c.Capabilities(ctx); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("server down: %v", err)
	}
}

// TestCreateNeverSendsTheID: a create's id is not the client's to choose
// (R4 create), and the test server, unlike Azure, keeps one it is sent: a
// POST carrying another resource's id replaced that resource. The id is
// never sent, so the server assigns one and the other resource stands.
func TestCreateNeverSendsTheID(t *testing.T) {
	b := newBackend(t, testutil.StartFHIRServer(t).URL(), upstream.Config{})
	ctx := context.Background()
	if _, _, err := b.Update(ctx, "Patient", "someone-else", patient("someone-else", "Original"), ""); err != nil {
		t.Fatal(err)
	}
	body := patient("someone-else", "Intruder")
	r, _, err := b.Create(ctx, "Patient", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "someone-else" || r.ID == "" {
		t.Fatalf("the create got id %q", r.ID)
	}
	if body["id"] != "someone-else" {
		t.Fatalf("the caller's body lost its id: %v", body)
	}
	other, err := b.Read(ctx, "Patient", "someone-else")
	if err != nil || !strings.Contains(string(other.JSON), "Original") {
		t.Fatalf("the other resource: %s %v", other.JSON, err)
	}
}
