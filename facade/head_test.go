package facade_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestHead: HEAD on a read route answers as GET does, status and headers
// (ETag, Content-Length of the GET's body), without a body.
func TestHead(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	cases := []struct {
		path   string
		status int
	}{
		{"/fhir/Patient/1", 200},
		{"/fhir/Patient/999999", 404},
		{"/fhir/Patient?family=x", 200},
		{"/fhir/Patient/1/_history", 405}, // legacy keeps no history: as GET
		{"/fhir/metadata", 200},
		{"/fhir/Nothing/1", 404},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			get := e.get(c.path)
			req, _ := http.NewRequest(http.MethodHead, e.srv.URL+c.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status || get.status != c.status {
				t.Fatalf("HEAD %d, GET %d, want %d", res.StatusCode, get.status, c.status)
			}
			if len(body) != 0 {
				t.Fatalf("HEAD answered with a body: %s", body)
			}
			if got, want := res.Header.Get("ETag"), get.header.Get("ETag"); got != want {
				t.Fatalf("ETag %q, GET's %q", got, want)
			}
			if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n != len(get.raw) {
				t.Fatalf("Content-Length %d, GET's body %d bytes", n, len(get.raw))
			}
		})
	}
}
