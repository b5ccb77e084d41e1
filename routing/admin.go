package routing

import (
	"encoding/json"
	"errors"
	"net/http"
)

// AdminHandler serves the routing table under /admin/routes as JSON:
//
//	GET  /admin/routes                 the table, with each type's count of unmirrorable writes
//	GET  /admin/routes/history[?type=] the journal
//	POST /admin/routes/{type}          {"state","reason","force","confirm","dryRun","version"}
//
// The journal's actor is the caller the facade authenticated (ActorHeader),
// never a name the body offers. Errors are OperationOutcomes, like the FHIR
// endpoints'.
func AdminHandler(s *Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/routes", func(rw http.ResponseWriter, r *http.Request) {
		st, err := s.Statuses(r.Context())
		if err != nil {
			writeOutcome(rw, 503, "transient", "the control store is unavailable")
			return
		}
		writeJSON(rw, 200, map[string]any{"routes": st})
	})
	mux.HandleFunc("GET /admin/routes/history", func(rw http.ResponseWriter, r *http.Request) {
		h, err := s.History(r.Context(), r.URL.Query().Get("type"))
		if err != nil {
			writeOutcome(rw, 503, "transient", "the control store is unavailable")
			return
		}
		if h == nil {
			h = []Event{}
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
			writeOutcome(rw, 400, "invalid", "body must be {\"state\", \"reason\", \"force\", \"confirm\", \"dryRun\", \"version\"}; the actor is taken from the caller's token")
			return
		}
		st, err := ParseState(req.State)
		if err != nil {
			writeOutcome(rw, 400, "invalid", err.Error())
			return
		}
		actor := r.Header.Get(ActorHeader)
		if actor == "" {
			// mounted without the facade in front: nobody vouched for a name
			actor = "anonymous"
		}
		p, err := s.Set(r.Context(), Move{Type: r.PathValue("type"), To: st, Actor: actor, Reason: req.Reason,
			Force: req.Force, Confirm: req.Confirm, DryRun: req.DryRun, Version: req.Version})
		switch {
		case errors.Is(err, ErrUnknown):
			writeOutcome(rw, 404, "not-found", err.Error())
		case errors.Is(err, ErrRefused) || errors.Is(err, ErrStale):
			writeOutcome(rw, 409, "conflict", err.Error())
		case err != nil:
			writeOutcome(rw, 503, "transient", "the control store is unavailable")
		default:
			writeJSON(rw, 200, p)
		}
	})
	return mux
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

func writeOutcome(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/fhir+json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"resourceType": "OperationOutcome",
		"issue": []map[string]string{{"severity": "error", "code": code, "diagnostics": msg}}})
}

// ActorHeader carries the authenticated caller from the facade's auth
// middleware to the admin handler (the facade removes any client-sent one).
const ActorHeader = "X-Fhirfacade-Actor"
