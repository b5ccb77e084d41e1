package facade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
)

// entryInteractions name the interaction of an entry by method (GET and
// POST are refined by entryInteraction).
var entryInteractions = map[string]string{
	http.MethodGet: "read", http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "update", http.MethodDelete: "delete",
}

// entryInteraction is the interaction an entry asks for, as its
// authorisation and audit record name it.
func entryInteraction(e *entry) string {
	path, _, hasQuery := strings.Cut(e.url, "?")
	switch {
	case e.method == http.MethodGet && (hasQuery || !strings.Contains(path, "/")):
		return "search-type"
	case e.method == http.MethodPost && e.headers["If-None-Exist"] != "":
		return "conditional-create"
	}
	return entryInteractions[e.method]
}

// forward sends a transaction whole to the FHIR server its types are
// routed to (backend.BundleSender), which runs it as one unit. The
// entries cannot be run one by one there, so each is authorised up front
// as it would be alone; a token narrowed to a compartment or by
// parameters cannot be checked that way (the server would have to apply
// the narrowing inside its own transaction) and is refused.
func (s *Server) forward(c echo.Context, sub *subRequest, entries []*entry, bundle map[string]any, types []string, bs backend.BundleSender) ([]map[string]any, error) {
	if err := s.authorizeEntries(c, entries); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(withoutCreateIDs(bundle))
	if err != nil {
		return nil, httpErr(400, "structure", "the Bundle cannot be forwarded")
	}
	resp, err := bs.SendTransaction(c.Request().Context(), types, raw)
	if err != nil {
		s.recordForwarded(c, sub, entries, nil, classify(err).Status)
		return nil, err
	}
	var r struct {
		Entry []map[string]any `json:"entry"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || len(r.Entry) != len(entries) {
		s.recordForwarded(c, sub, entries, nil, http.StatusBadGateway)
		return nil, fmt.Errorf("%w: the FHIR server's transaction-response does not answer every entry", backend.ErrUnavailable)
	}
	for _, e := range r.Entry {
		s.rebase(e)
	}
	s.recordForwarded(c, sub, entries, r.Entry, 0)
	return r.Entry, nil
}

// withoutCreateIDs is bundle with no id in the resource of a POST entry
// (copies of what changes; bundle itself is left as it is). A create's id
// is the server's to assign (R4), but a server that keeps one it is sent
// would let the entry replace another resource with that id — another
// patient's; urn:uuid references go by fullUrl, not by this id.
func withoutCreateIDs(bundle map[string]any) map[string]any {
	entries, _ := bundle["entry"].([]any)
	out := make(map[string]any, len(bundle))
	for k, v := range bundle {
		out[k] = v
	}
	copied := make([]any, len(entries))
	for i, e := range entries {
		copied[i] = e
		m, _ := e.(map[string]any)
		req, _ := m["request"].(map[string]any)
		res, _ := m["resource"].(map[string]any)
		if method, _ := req["method"].(string); !strings.EqualFold(method, "POST") || res["id"] == nil {
			continue
		}
		em := make(map[string]any, len(m))
		for k, v := range m {
			em[k] = v
		}
		rm := make(map[string]any, len(res))
		for k, v := range res {
			if k != "id" {
				rm[k] = v
			}
		}
		em["resource"] = rm
		copied[i] = em
	}
	if entries != nil {
		out["entry"] = copied
	}
	return out
}

// authorizeEntries authorises each entry of a forwarded transaction.
func (s *Server) authorizeEntries(c echo.Context, entries []*entry) error {
	rq := reqOf(c)
	defer func() { rq.decision, rq.searchDecision = auth.Decision{}, auth.Decision{} }()
	for _, e := range entries {
		if _, known := s.typeInfo(e.typ); !known || rq.routes.BackendFor(e.typ) == nil {
			return httpErr(404, "not-supported", fmt.Sprintf("Bundle.entry[%d]: resource type %q is not served here", e.index, e.typ))
		}
		inter := entryInteraction(e)
		if err := s.authorize(c, e.typ, inter); err != nil {
			he := classify(err)
			return &HTTPError{Status: he.Status, Code: he.Code, Msg: fmt.Sprintf("Bundle.entry[%d] (%s %s): %s", e.index, e.method, e.url, he.Msg)}
		}
		if filtered(rq.decision) || filtered(rq.searchDecision) {
			return httpErr(403, "forbidden", fmt.Sprintf("Bundle.entry[%d]: the token's access to %s is narrowed (patient compartment or restrictions), which a transaction forwarded whole to the FHIR server cannot apply; send a batch", e.index, e.typ))
		}
	}
	return nil
}

// rebase points an answered entry's URLs at this server's base.
func (s *Server) rebase(e map[string]any) {
	resp, _ := e["response"].(map[string]any)
	if resp == nil {
		return
	}
	// a bare code (some servers send "201") gets its reason phrase, as
	// the facade's own entries have it
	if st, ok := resp["status"].(string); ok {
		if code, err := strconv.Atoi(strings.TrimSpace(st)); err == nil && http.StatusText(code) != "" {
			resp["status"] = fmt.Sprintf("%d %s", code, http.StatusText(code))
		}
	}
	if loc, ok := resp["location"].(string); ok {
		if tail := resourceTail(loc); tail != "" {
			resp["location"] = s.baseURL + "/" + tail
			typ, rest, _ := strings.Cut(tail, "/")
			id, _, _ := strings.Cut(rest, "/")
			e["fullUrl"] = s.baseURL + "/" + typ + "/" + id
		}
	}
}

// resourceTail is Type/id[/_history/v] at the end of a location.
func resourceTail(loc string) string {
	parts := strings.Split(strings.Trim(strings.SplitN(loc, "?", 2)[0], "/"), "/")
	n := len(parts)
	switch {
	case n >= 4 && parts[n-2] == "_history":
		return strings.Join(parts[n-4:], "/")
	case n >= 2:
		return strings.Join(parts[n-2:], "/")
	}
	return ""
}

// recordForwarded makes the audit record of each forwarded entry: its
// status in the response (answered), or failed when the server refused
// the whole.
func (s *Server) recordForwarded(c echo.Context, sub *subRequest, entries []*entry, answered []map[string]any, failed int) {
	if s.audit == nil {
		return
	}
	for i, e := range entries {
		rec := record(c, failed, "")
		path, query, _ := strings.Cut(e.url, "?")
		rec.Interaction, rec.Type, rec.Method, rec.Path = entryInteraction(e), e.typ, e.method, truncate("/fhir/"+path, 256)
		rec.ClientRequestID, rec.IDs, rec.Patients, rec.Query = sub.requestID, nil, nil, query
		if ine := e.headers["If-None-Exist"]; ine != "" {
			rec.Query = strings.TrimPrefix(ine, "?")
		}
		if be := reqOf(c).routes.BackendFor(e.typ); be != nil {
			rec.Backend = be.Name()
		}
		// its own id, as a dispatched entry's record has one
		rec.RequestID = fmt.Sprintf("%s.%d", sub.requestID, e.index)
		if failed != 0 {
			rec.Detail = "the FHIR server refused the transaction"
		} else {
			resp, _ := answered[i]["response"].(map[string]any)
			fmt.Sscan(fmt.Sprint(resp["status"]), &rec.Status)
			rec.IDs, rec.Patients = s.forwardedDisclosed(answered[i])
		}
		rec.Outcome = audit.OutcomeOf(rec.Status)
		sub.records = append(sub.records, rec)
	}
}

// forwardedDisclosed lists the resources an answered entry of a forwarded
// transaction names and the patients they belong to, as a dispatched
// entry's record has them: the resource it returns — each match of a
// search's searchset — or, for an answer without one (Prefer:
// return=minimal), the resource its fullUrl names. The accounting of
// disclosures finds a patient by these.
func (s *Server) forwardedDisclosed(answered map[string]any) (ids, patients []string) {
	add := func(r *backend.Resource) {
		ids = append(ids, r.Type+"/"+r.ID)
		for _, p := range s.patientsOf(r) {
			if !containsStr(patients, p) {
				patients = append(patients, p)
			}
		}
	}
	res, _ := answered["resource"].(map[string]any)
	if res["resourceType"] == "Bundle" {
		es, _ := res["entry"].([]any)
		for _, x := range es {
			e, _ := x.(map[string]any)
			if r := answeredResource(e["resource"]); r != nil {
				add(r)
			}
		}
		return ids, patients
	}
	if r := answeredResource(res); r != nil {
		add(r)
	} else if full, ok := answered["fullUrl"].(string); ok {
		typ, id, _ := strings.Cut(strings.TrimPrefix(full, s.baseURL+"/"), "/")
		add(&backend.Resource{Type: typ, ID: id})
	}
	return ids, patients
}

// answeredResource is a resource of a forwarded answer as the compartment
// scan reads it (nil: not a resource with a type and an id).
func answeredResource(x any) *backend.Resource {
	m, _ := x.(map[string]any)
	typ, _ := m["resourceType"].(string)
	id, _ := m["id"].(string)
	if typ == "" || id == "" {
		return nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return &backend.Resource{Type: typ, ID: id, JSON: raw}
}

// runUnit runs a transaction on be: as one unit of entries run one by one
// (backend.Transactor: legacy), or, when be refuses that before running
// anything, forwarded whole (backend.BundleSender: the FHIR server).
func (s *Server) runUnit(c echo.Context, be backend.Backend, types []string, run func(context.Context) error, forward func(backend.BundleSender) ([]map[string]any, error)) (fwd []map[string]any, forwarded bool, err error) {
	ran := false
	if tr, ok := be.(backend.Transactor); ok {
		err = tr.Transact(c.Request().Context(), types, func(ctx context.Context) error { ran = true; return run(ctx) })
		if ran || !errors.Is(err, backend.ErrNotSupported) {
			return nil, false, err
		}
	}
	if bs, ok := be.(backend.BundleSender); ok {
		fwd, err = forward(bs)
		return fwd, true, err
	}
	if err == nil {
		err = httpErr(400, "not-supported", fmt.Sprintf("transactions are not supported on the %s backend; send a batch", be.Name()))
	}
	return nil, false, err
}
