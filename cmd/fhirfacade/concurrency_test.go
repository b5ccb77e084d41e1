package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"

	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// startServe runs `fhirfacade serve` in dir with env added to the embedded
// default and waits until it answers; the process is stopped at cleanup.
func startServe(t *testing.T, dir string, env ...string) (base string, stderr *lockedBuffer) {
	t.Helper()
	addr := freePort(t)
	env = append(env, "FHIRFACADE_LISTEN="+addr, "FHIRFACADE_OPS_LISTEN="+freePort(t))
	cmd := command(t, dir, env, "serve")
	stderr = &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	base = "http://" + addr + "/fhir"
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(base + "/metadata"); err == nil {
			res.Body.Close()
			return base, stderr
		}
	}
	t.Fatalf("serve did not answer within 60 s:\n%s", stderr)
	return "", nil
}

// load is one kind of client of the concurrency test.
type load struct {
	name    string
	workers int
	// do sends request i of worker w and returns the status and whether
	// that status is the expected answer
	do func(c *http.Client, w, i int) (int, bool)
}

type loadResult struct {
	n, errors int
	lat       []time.Duration
	sample    string
}

// TestEmbeddedConcurrency: the embedded default (SQLite legacy and control
// stores) under 8 concurrent writers of each kind that writes the control
// store — id-mapped creates, updates, writes fenced under their route with
// a mirror row queued (a type on shadow), audit appends — plus 16 readers:
// no request may fail, and the readers' p99 must stay under 250 ms. Before
// the fence stopped holding the SQLite write lock across the legacy write,
// one id-mapped PUT stalled every request for seconds (SQLITE_BUSY).
func TestEmbeddedConcurrency(t *testing.T) {
	fhir := testutil.StartFHIRServer(t)
	dir := t.TempDir()
	env := []string{"FHIRFACADE_FHIR_URL=" + fhir.URL()}
	// create and seed the stores, then put Encounter on shadow so its
	// writes take the fence and queue mirror rows
	if out, err := command(t, dir, env, "legacy", "migrate").CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	base, stderr := startServe(t, dir, env...)
	if out, err := command(t, dir, env, "route", "set", "Encounter", "shadow", "--reason", "concurrency test").CombinedOutput(); err != nil {
		t.Fatalf("route set: %v\n%s", err, out)
	}
	time.Sleep(time.Second) // the facade's watcher picks the move up
	enc := readBody(t, base+"/Encounter/1")
	pat := readBody(t, base+"/Patient/2")
	pats := map[int]string{}
	for w := 0; w < 8; w++ {
		pats[w] = readBody(t, base+fmt.Sprintf("/Patient/%d", 10+w))
	}
	mrn := regexp.MustCompile(`"value":"MRN[^"]*"`)
	loads := []load{
		{"id-mapped create", 8, func(c *http.Client, w, i int) (int, bool) {
			id := fmt.Sprintf("conc-%d-%d", w, i)
			body := strings.Replace(pat, `"id":"2"`, `"id":"`+id+`"`, 1)
			body = mrn.ReplaceAllString(body, `"value":"MRN-`+id+`"`)
			s := send(c, "PUT", base+"/Patient/"+id, body)
			return s, s == 201
		}},
		{"update", 8, func(c *http.Client, w, i int) (int, bool) {
			s := send(c, "PUT", base+fmt.Sprintf("/Patient/%d", 10+w), pats[w])
			return s, s == 200
		}},
		{"fenced write on shadow", 8, func(c *http.Client, w, i int) (int, bool) {
			s := send(c, "PUT", base+"/Encounter/1", enc)
			return s, s == 200
		}},
		{"audit append", 8, func(c *http.Client, w, i int) (int, bool) {
			s := send(c, "GET", base+fmt.Sprintf("/Patient/%d", 900000+i), "")
			return s, s == 404
		}},
		{"reader", 16, func(c *http.Client, w, i int) (int, bool) {
			s := send(c, "GET", base+fmt.Sprintf("/Patient/%d", 1+(w+i)%50), "")
			return s, s == 200
		}},
	}
	results := runLoads(loads, 8*time.Second)
	for _, l := range loads {
		r := results[l.name]
		p99 := percentile(r.lat, 0.99)
		t.Logf("%-24s %5d requests, %d errors, p50 %v, p99 %v, max %v", l.name, r.n, r.errors, percentile(r.lat, 0.5), p99, percentile(r.lat, 1))
		if r.n == 0 {
			t.Errorf("%s: no request completed", l.name)
		}
		if r.errors > 0 {
			t.Errorf("%s: %d of %d requests failed (first: %s)", l.name, r.errors, r.n, r.sample)
		}
		if l.name == "reader" && p99 >= 250*time.Millisecond {
			t.Errorf("reader p99 %v, want < 250 ms", p99)
		}
	}
	if t.Failed() {
		t.Logf("serve log (tail):\n%s", tail(stderr.String(), 4000))
	}
}

func runLoads(loads []load, d time.Duration) map[string]*loadResult {
	out := map[string]*loadResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for _, l := range loads {
		out[l.name] = &loadResult{}
		for w := 0; w < l.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Timeout: 30 * time.Second}
				for i := 0; time.Now().Before(stop); i++ {
					t0 := time.Now()
					status, ok := l.do(c, w, i)
					el := time.Since(t0)
					mu.Lock()
					r := out[l.name]
					r.n++
					r.lat = append(r.lat, el)
					if !ok {
						r.errors++
						if r.sample == "" {
							r.sample = fmt.Sprintf("status %d after %v", status, el)
						}
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return out
}

func send(c *http.Client, method, url, body string) int {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	res, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func readBody(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, raw)
	}
	return string(raw)
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// lockedBuffer is the serve process's stderr: written by exec's copying
// goroutine while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
