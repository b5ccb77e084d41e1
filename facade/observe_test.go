package facade_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestRequestLogLine: every request leaves one JSON line naming its id
// (the answer's X-Request-Id), method, route, type, interaction, backend,
// status and duration, and nothing of its query string (PHI).
func TestRequestLogLine(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	cases := []struct {
		name, method, path, clientID string
		want                         map[string]any
	}{
		{"search", "GET", "/fhir/Patient?family=Secretname&birthdate=ge1970", "",
			map[string]any{"level": "INFO", "method": "GET", "route": "/fhir/:type", "type": "Patient", "interaction": "search-type", "backend": "legacy", "status": 200.0}},
		{"read of a missing id", "GET", "/fhir/Patient/999999", "client-7",
			map[string]any{"level": "INFO", "route": "/fhir/:type/:id", "type": "Patient", "interaction": "read", "status": 404.0, "client_request_id": "client-7"}},
		{"unknown type", "GET", "/fhir/Nothing?name=Secretname", "",
			map[string]any{"type": "-", "interaction": "search-type", "backend": "-", "status": 404.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.logs.Reset()
			var hdr []string
			if c.clientID != "" {
				hdr = []string{"X-Request-Id", c.clientID}
			}
			r := e.do(c.method, c.path, "", hdr...)
			lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
			var line map[string]any
			for _, l := range lines {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
					if line != nil {
						t.Fatalf("two request lines: %s", e.logs)
					}
					line = m
				}
			}
			if line == nil {
				t.Fatalf("no request line in %s", e.logs)
			}
			if id := r.header.Get("X-Request-Id"); id == "" || line["request_id"] != id {
				t.Fatalf("request_id %v, answer's X-Request-Id %q", line["request_id"], id)
			}
			for k, v := range c.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %v (line %v)", k, line[k], v, line)
				}
			}
			if ms, ok := line["ms"].(float64); !ok || ms < 0 {
				t.Errorf("ms = %v", line["ms"])
			}
			if _, ok := line["time"].(string); !ok {
				t.Errorf("no time in %v", line)
			}
			if strings.Contains(e.logs.String(), "Secretname") {
				t.Fatalf("the query string reached the log: %s", e.logs)
			}
		})
	}
}
