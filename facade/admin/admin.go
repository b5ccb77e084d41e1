// Package admin serves the facade's administration JSON API over the
// routing table (/admin/routes). The facade mounts it behind its
// authentication, admin-access check, CSRF guard and audit trail.
package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/routing"
)

// Routes serves the routing table under /admin/routes as JSON:
//
//	GET  /admin/routes                 the table, with each type's count of unmirrorable writes
//	GET  /admin/routes/history[?type=] the journal
//	POST /admin/routes/{type}          {"state","reason","force","confirm","dryRun","version"}
//
// The journal's actor is the caller the facade authenticated
// (facade.ActorHeader),
// never a name the body offers. Errors are OperationOutcomes, like the FHIR
// endpoints'.
func Routes(s *routing.Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/routes", func(rw http.ResponseWriter, r *http.Request) {
		st, err := s.Statuses(r.Context())
		if err != nil {
			facade.WriteOutcome(rw, 503, "transient", "the control store is unavailable")
			return
		}
		writeJSON(rw, 200, map[string]any{"routes": st})
	})
	mux.HandleFunc("GET /admin/routes/history", func(rw http.ResponseWriter, r *http.Request) {
		h, err := s.History(r.Context(), r.URL.Query().Get("type"))
		if err != nil {
			facade.WriteOutcome(rw, 503, "transient", "the control store is unavailable")
			return
		}
		if h == nil {
			h = []routing.Event{}
		}
		writeJSON(rw, 200, map[string]any{"events": h})
	})
	mux.HandleFunc("POST /admin/routes/{type}", func(rw http.ResponseWriter, r *http.Request) {
		var req struct {
			State   string `json:"state"`
			Reason  string `json:"reason"`
			Force   bool   `json:"force"`
			Confirm bool   `json:"confirm"`
			DryRun  bool   `json:"dryRun"`
			Version int    `json:"version"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			// "actor" included: who moved the route is not the caller's to say
			facade.WriteOutcome(rw, 400, "invalid", "body must be {\"state\", \"reason\", \"force\", \"confirm\", \"dryRun\", \"version\"}; the actor is taken from the caller's token")
			return
		}
		st, err := routing.ParseState(req.State)
		if err != nil {
			facade.WriteOutcome(rw, 400, "invalid", err.Error())
			return
		}
		actor := r.Header.Get(facade.ActorHeader)
		if actor == "" {
			// mounted without the facade in front: nobody vouched for a name
			actor = "anonymous"
		}
		p, err := s.Set(r.Context(), routing.Move{Type: r.PathValue("type"), To: st, Actor: actor, Reason: req.Reason,
			Force: req.Force, Confirm: req.Confirm, DryRun: req.DryRun, Version: req.Version})
		switch {
		case errors.Is(err, routing.ErrUnknown):
			facade.WriteOutcome(rw, 404, "not-found", err.Error())
		case errors.Is(err, routing.ErrRefused) || errors.Is(err, routing.ErrStale):
			facade.WriteOutcome(rw, 409, "conflict", err.Error())
		case err != nil:
			facade.WriteOutcome(rw, 503, "transient", "the control store is unavailable")
		default:
			writeJSON(rw, 200, p)
		}
	})
	// what no pattern serves: an OperationOutcome, as every other answer
	// is (the mux's own 404 and 405 are plain text)
	mux.HandleFunc("/admin/", func(rw http.ResponseWriter, r *http.Request) {
		if allow := allowed(r.URL.Path); allow != "" {
			rw.Header().Set("Allow", allow)
			facade.WriteOutcome(rw, 405, "not-supported", r.URL.Path+" takes "+allow+" only")
			return
		}
		facade.WriteOutcome(rw, 404, "not-found", "no admin endpoint here; the API is GET /admin/routes, GET /admin/routes/history, POST /admin/routes/{type}")
	})
	return mux
}

// allowed is the methods the API serves on path ("" when it serves none).
func allowed(path string) string {
	switch path {
	case "/admin/routes", "/admin/routes/history":
		return "GET"
	}
	if t, ok := strings.CutPrefix(path, "/admin/routes/"); ok && t != "" && !strings.Contains(t, "/") {
		return "POST"
	}
	return ""
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}
