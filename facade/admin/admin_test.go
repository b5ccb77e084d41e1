package admin_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/facade/admin"
)

// TestUnservedAnswersOutcome: a path or method the admin API does not
// serve is an OperationOutcome (404, or 405 with the path's Allow), not
// the mux's plain-text answer.
func TestUnservedAnswersOutcome(t *testing.T) {
	h := admin.Routes(nil) // no case reaches the store
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/admin/nothing", 404, ""},
		{"GET", "/admin/", 404, ""},
		{"GET", "/admin/routes/Patient/extra", 404, ""},
		{"POST", "/admin/routes", 405, "GET"},
		{"DELETE", "/admin/routes/history", 405, "GET"},
		{"GET", "/admin/routes/Patient", 405, "POST"},
		{"PUT", "/admin/routes/Patient", 405, "POST"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		var oo struct {
			ResourceType string `json:"resourceType"`
			Issue        []struct {
				Diagnostics string `json:"diagnostics"`
			} `json:"issue"`
		}
		if rec.Code != c.status || json.Unmarshal(rec.Body.Bytes(), &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
			t.Errorf("%s %s: %d %q, want %d and an OperationOutcome", c.method, c.path, rec.Code, rec.Body.String(), c.status)
			continue
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		if c.status == 405 && !strings.Contains(oo.Issue[0].Diagnostics, c.allow) {
			t.Errorf("%s %s: %q does not name %s", c.method, c.path, oo.Issue[0].Diagnostics, c.allow)
		}
	}
}
