package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// staticToken is a TokenSource with one fixed token.
type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// authLog records the Authorization header each path received.
type authLog struct {
	mu  sync.Mutex
	got map[string]string
}

func (a *authLog) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.got[r.URL.Path] = r.Header.Get("Authorization")
		a.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (a *authLog) auth(path string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.got[path]
	return v, ok
}

// TestRedirectDropsToken: a redirect from under the FHIR base to another
// port of the same host (or out of the base's path) is followed without
// the facade's token, for a status poll (Do) and a file download (Stream);
// a redirect that stays under the base keeps it.
func TestRedirectDropsToken(t *testing.T) {
	other := &authLog{got: map[string]string{}}
	b := httptest.NewServer(other.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"resourceType":"Patient","id":"x"}` + "\n"))
	})))
	defer b.Close()
	own := &authLog{got: map[string]string{}}
	mux := http.NewServeMux()
	for _, p := range []string{"/fhir/$export-file/1", "/fhir/$export-status/1"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, b.URL+"/stolen"+r.URL.Path, http.StatusFound)
		})
	}
	mux.HandleFunc("/fhir/$export-file/2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fhir/../admin/x", http.StatusFound)
	})
	mux.HandleFunc("/fhir/$export-file/3", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fhir/files/3", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}\n")) })
	a := httptest.NewServer(own.handler(mux))
	defer a.Close()
	c, err := upstream.New(upstream.Config{BaseURL: a.URL + "/fhir", Tokens: staticToken("SECRET"), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Do(ctx, http.MethodGet, a.URL+"/fhir/$export-status/1", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"1", "2", "3"} {
		rc, err := c.Stream(ctx, a.URL+"/fhir/$export-file/"+f, true)
		if err != nil {
			t.Fatalf("file %s: %v", f, err)
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	for _, p := range []string{"/stolen/fhir/$export-status/1", "/stolen/fhir/$export-file/1"} {
		if v, ok := other.auth(p); !ok || v != "" {
			t.Errorf("other port %s: reached %v, Authorization %q", p, ok, v)
		}
	}
	if v, ok := own.auth("/admin/x"); !ok || v != "" {
		t.Errorf("out of the base's path: reached %v, Authorization %q", ok, v)
	}
	if v, _ := own.auth("/fhir/files/3"); v != "Bearer SECRET" {
		t.Errorf("under the base: Authorization %q", v)
	}
}

// TestUnder: what counts as under the FHIR base (and gets the token).
func TestUnder(t *testing.T) {
	c, err := upstream.New(upstream.Config{BaseURL: "https://fhir.example.com/fhir/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://fhir.example.com/fhir", true},
		{"https://fhir.example.com/fhir/Patient/1", true},
		{"https://FHIR.example.com:443/fhir/$export-status/1", true},
		{"https://fhir.example.com/fhir/./a/../b", true},
		{"https://fhir.example.com/fhir/../admin", false},
		{"https://fhir.example.com/fhir/%2e%2e/admin", false},
		{"https://fhir.example.com/fhirx/a", false},
		{"https://fhir.example.com:8443/fhir/a", false},
		{"http://fhir.example.com/fhir/a", false},
		{"https://evil.fhir.example.com/fhir/a", false},
		{"https://fhir.example.com.evil.org/fhir/a", false},
		{"https://user:pw@fhir.example.com/fhir/a", false},
		{"::not a url", false},
	} {
		if got := c.Under(tc.url); got != tc.want {
			t.Errorf("Under(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	// a link outside the base is refused before any request
	if _, err := c.Do(context.Background(), http.MethodGet, "https://fhir.example.com/fhir/../admin", nil, nil); err == nil || !errors.Is(err, backend.ErrInvalid) {
		t.Errorf("Do outside the base: %v", err)
	}
}

// TestRedirectDropsTokenTestServer: the real test FHIR server redirecting
// its export file downloads to another port: the file is fetched without
// the facade's token.
func TestRedirectDropsTokenTestServer(t *testing.T) {
	srv := testutil.StartFHIRServer(t)
	other := &authLog{got: map[string]string{}}
	b := httptest.NewServer(other.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"resourceType":"Patient","id":"x"}` + "\n"))
	})))
	defer b.Close()
	be := newBackend(t, srv.URL(), upstream.Config{Tokens: staticToken("SECRET"), MaxRetries: 1})
	ctx := context.Background()
	if _, _, err := be.Update(ctx, "Patient", "1", patient("1", "F"), ""); err != nil {
		t.Fatal(err)
	}
	srv.ExportFault("redirect&to=" + url.QueryEscape(b.URL+"/stolen"))
	status, err := be.StartExport(ctx, []string{"Patient"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var m *backend.ExportManifest
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(50 * time.Millisecond) {
		if m, _, err = be.ExportStatus(ctx, status); err != nil || time.Now().After(deadline) {
			t.Fatalf("status: %v", err)
		}
	}
	rc, err := be.OpenExportFile(ctx, m, m.Output[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	u, _ := url.Parse(m.Output[0].URL)
	if v, ok := other.auth("/stolen" + u.Path); !ok || v != "" {
		t.Errorf("redirected download: reached %v, Authorization %q", ok, v)
	}
}

// TestDoErrorNamesNoURL: a request that cannot connect fails with an
// error that does not carry its URL (a link's query may hold more than
// the base).
func TestDoErrorNamesNoURL(t *testing.T) {
	l := httptest.NewServer(http.NotFoundHandler())
	base := l.URL + "/fhir"
	l.Close() // nothing listens there any more
	c, err := upstream.New(upstream.Config{BaseURL: base, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), http.MethodGet, "Patient?_id=QUERYSECRET", nil, nil)
	if !errors.Is(err, backend.ErrUnavailable) || strings.Contains(err.Error(), "QUERYSECRET") {
		t.Errorf("Do: %v", err)
	}
}
