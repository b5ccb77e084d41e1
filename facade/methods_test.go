package facade_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMethods: every FHIR route answers every method. OPTIONS is a 204
// with the route's Allow list and needs no token — a browser's CORS
// preflight gets it without any Access-Control-Allow-* header (the facade
// grants no other origin), never a 404 saying the endpoint is missing; a
// method the route does not serve is a 405 OperationOutcome with the same
// list, whether echo routes it by name (TRACE, PATCH) or not (an extension
// method); only a path no route has is a 404.
func TestMethods(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", bulk: true})
	tok := s.token("system/*.read", "")
	const (
		typ      = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
		instance = "GET, HEAD, PUT, DELETE, OPTIONS"
		read     = "GET, HEAD, OPTIONS"
	)
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"OPTIONS", "/fhir/Patient", 204, typ},
		{"OPTIONS", "/fhir/Nothing", 204, typ}, // the route's methods; its GET is the 404
		{"OPTIONS", "/fhir/Patient/1", 204, instance},
		{"OPTIONS", "/fhir", 204, "POST, OPTIONS"},
		{"OPTIONS", "/fhir/", 204, "POST, OPTIONS"},
		{"OPTIONS", "/fhir/metadata", 204, read},
		{"OPTIONS", "/fhir/.well-known/smart-configuration", 204, read},
		{"OPTIONS", "/fhir/Patient/_search", 204, "POST, OPTIONS"},
		{"OPTIONS", "/fhir/Patient/1/_history", 204, read},
		{"OPTIONS", "/fhir/Patient/1/_history/1", 204, read},
		{"OPTIONS", "/fhir/Patient/_history", 204, "OPTIONS"},
		{"OPTIONS", "/fhir/Patient/1/$everything", 204, "GET, POST, OPTIONS"},
		{"OPTIONS", "/fhir/Patient/$export", 204, "GET, OPTIONS"},
		{"OPTIONS", "/fhir/$export-status/x", 204, "GET, DELETE, OPTIONS"},
		{"OPTIONS", "/fhir/$export-file/x/y", 204, "GET, OPTIONS"},
		{"OPTIONS", "/fhir/Patient/1/no/such/path", 401, ""}, // no route: a token first, as for any method
		{"TRACE", "/fhir/Patient/1", 405, instance},
		{"TRACE", "/fhir/metadata", 405, read},
		{"PATCH", "/fhir/Patient", 405, typ},
		{"PATCH", "/fhir/Patient/1", 405, instance},
		{"POST", "/fhir/Patient/1", 405, instance},
		{"PROPFIND", "/fhir/Patient/1", 405, instance},
		{"FOO", "/fhir/Patient/1", 405, instance}, // an extension method
		{"FOO", "/fhir", 405, "POST, OPTIONS"},
		{"FOO", "/fhir/Patient/1/no/such/path", 404, ""},
		{"PUT", "/fhir/metadata", 405, read}, // was the type "metadata" (404)
		{"DELETE", "/fhir/Patient/_search", 405, "POST, OPTIONS"},
		{"GET", "/fhir/Patient/_search", 405, "POST, OPTIONS"},
		{"GET", "/fhir", 405, "POST, OPTIONS"},
		{"DELETE", "/fhir/Patient/1/$everything", 405, "GET, POST, OPTIONS"},
		{"GET", "/fhir/Patient/_history", 405, "OPTIONS"}, // the handler's own 405
		{"GET", "/fhir/_history", 405, "OPTIONS"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			s.t = t
			var r resp
			if tc.method == http.MethodOptions {
				// a browser's preflight: no token, another origin
				r = s.do(tc.method, tc.path, "", "Origin", "https://app.elsewhere.example",
					"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization, content-type")
			} else {
				r = s.as(tok, tc.method, tc.path, "")
			}
			s.wantStatus(r, tc.status, tc.method+" "+tc.path)
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
			for k := range r.header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("CORS granted: %s: %s", k, r.header.Get(k))
				}
			}
			if tc.status == 204 && len(r.raw) != 0 {
				t.Fatalf("204 with a body: %s", r.raw)
			}
			if tc.status == 405 && !strings.Contains(outcomeText(r), "not supported") {
				t.Fatalf("the 405 does not say what is not supported: %s", r.raw)
			}
		})
	}
	s.t = t
	// every request is audited; the token-less OPTIONS answers are counted
	// per window like refusals, not stored one record each
	s.waitRequests(len(cases))
	preflights := 0
	for _, tc := range cases {
		if tc.method == http.MethodOptions {
			preflights++
		}
	}
	if n := s.count(); n > int64(len(cases)-preflights+2) {
		t.Fatalf("%d records for %d requests, %d of them token-less OPTIONS", n, len(cases), preflights)
	}
}
