package facade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
)

// bundleKind is what a posted Bundle's type asks for.
type bundleKind struct {
	interaction  string // the audit and metrics label
	responseType string // the response Bundle's type
	atomic       bool   // all or nothing (transaction)
}

var bundleKinds = map[string]bundleKind{
	"batch":       {interaction: "batch", responseType: "batch-response"},
	"transaction": {interaction: "transaction", responseType: "transaction-response", atomic: true},
}

// bundle serves POST [base]: a batch or transaction Bundle. Each entry is
// dispatched through the server's own handlers (subrequest.go), so it is
// authorised, narrowed to the token's compartment, validated and audited
// exactly as it would be alone.
func (s *Server) bundle(c echo.Context) error {
	rq := reqOf(c)
	rq.interaction = "batch"
	if subOf(c) != nil {
		return httpErr(400, "not-supported", "a batch or transaction cannot be an entry of another")
	}
	if err := checkFormat(c); err != nil {
		return err
	}
	m, err := s.body(c, "Bundle")
	if err != nil {
		return err
	}
	t, _ := m["type"].(string)
	kind, ok := bundleKinds[t]
	if !ok {
		return &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("Bundle.type %q cannot be posted to the base; use batch or transaction", t), Path: "Bundle.type"}
	}
	rq.interaction = kind.interaction
	entries, err := s.parseEntries(m)
	if err != nil {
		return err
	}
	sub := &subRequest{principal: rq.principal, routes: s.routes(c), requestID: requestID(c)}
	var out []map[string]any
	if kind.atomic {
		out, err = s.transaction(c, sub, entries, m)
	} else {
		out = s.runBatch(c, sub, entries)
	}
	if aerr := s.storeEntryRecords(c, sub, err); aerr != nil {
		return aerr
	}
	if f := (*entryFailure)(nil); errors.As(err, &f) {
		return f.httpError()
	}
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"resourceType": "Bundle", "type": kind.responseType, "entry": out})
}

// runBatch runs every entry on its own, in Bundle order: each succeeds or
// fails by itself.
func (s *Server) runBatch(c echo.Context, sub *subRequest, entries []*entry) []map[string]any {
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	out, _ := s.runEntries(c.Request().Context(), c.Request(), sub, entries, order, false)
	return out
}

// transaction runs the entries as one unit on the one backend all their
// types are routed to: entry by entry inside one backend transaction
// (backend.Transactor), where the first entry that fails undoes the
// others and its outcome is the answer; or forwarded whole to the FHIR
// server (backend.BundleSender).
func (s *Server) transaction(c echo.Context, sub *subRequest, entries []*entry, bundle map[string]any) ([]map[string]any, error) {
	be, types, err := oneBackend(sub.routes, entries)
	if err != nil {
		return nil, err
	}
	order, err := processingOrder(entries)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	run := func(ctx context.Context) error {
		sub.records = sub.records[:0] // a re-run starts over
		var rerr error
		out, rerr = s.runEntries(ctx, c.Request(), sub, entries, order, true)
		return rerr
	}
	if be == nil { // no entry names a served type: each fails alone
		return out, run(c.Request().Context())
	}
	fwd, forwarded, err := s.runUnit(c, be, types, run, func(bs backend.BundleSender) ([]map[string]any, error) {
		return s.forward(c, sub, entries, bundle, types, bs)
	})
	if forwarded {
		return fwd, err
	}
	return out, err
}

// oneBackend is the backend every served type of the entries is routed
// to, and those types; entries spanning two backends are refused, naming
// each type and its route (a transaction cannot commit on two systems).
func oneBackend(routes Routes, entries []*entry) (backend.Backend, []string, error) {
	var first backend.Backend
	byType := map[string]backend.Backend{}
	spans := false
	for _, e := range entries {
		be := routes.BackendFor(e.typ)
		if be == nil {
			continue // unknown: its entry fails with 404
		}
		byType[e.typ] = be
		if first != nil && be.Name() != first.Name() {
			spans = true
		}
		// a backend that fences (routing's wrappers are Transactors) takes
		// the unit over one that does not (an upstream-only type's)
		if _, fences := be.(backend.Transactor); first == nil || (fences && !isTransactor(first)) {
			first = be
		}
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	if !spans {
		return first, types, nil
	}
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s (route %s)", t, routeName(routes, t, byType[t]))
	}
	return nil, nil, httpErr(400, "not-supported", "a transaction must stay on one backend, but its types are routed to different ones: "+
		strings.Join(parts, ", ")+"; send a batch, or one transaction per backend")
}

func isTransactor(be backend.Backend) bool {
	_, ok := be.(backend.Transactor)
	return ok
}

// routeName is typ's route as the snapshot names it (its backend's name
// when the snapshot cannot say).
func routeName(routes Routes, typ string, be backend.Backend) string {
	if n, ok := routes.(backend.RouteNamer); ok {
		return n.RouteOf(typ)
	}
	return be.Name()
}

// entryFailure is the failed entry that ends a transaction.
type entryFailure struct {
	e      *entry
	status int
	issue  Issue
}

func (f *entryFailure) Error() string {
	return fmt.Sprintf("transaction failed at Bundle.entry[%d] (%s %s), nothing was stored: %s", f.e.index, f.e.method, f.e.url, f.issue.Diagnostics)
}

// httpError is the transaction's answer: the failed entry's status and
// issue, saying which entry it was.
func (f *entryFailure) httpError() *HTTPError {
	he := &HTTPError{Status: f.status, Code: orDefault(f.issue.Code, "processing"), Msg: f.Error()}
	if len(f.issue.Expression) > 0 {
		he.Path = f.issue.Expression[0]
	}
	return he
}

// runEntries dispatches the entries in order, resolving urn:uuid
// references as the creates they name are made. With atomic, the first
// failure stops the run.
// maxBundleAnswer is the most a batch or transaction answer holds (bytes
// of the entries' resources) before further reads are refused.
var maxBundleAnswer = 64 << 20 // a var for tests

func (s *Server) runEntries(ctx context.Context, outer *http.Request, sub *subRequest, entries []*entry, order []int, atomic bool) ([]map[string]any, error) {
	urns := map[string]string{}
	out := make([]map[string]any, len(entries))
	size := 0
	for _, i := range order {
		e := entries[i]
		w := s.runEntry(ctx, outer, sub, e, urns)
		// the answer is held in memory until the last entry ran: a batch
		// of 500 large searches would take gigabytes, so past the budget
		// a read's answer is replaced by a refusal (reads change nothing)
		if size += w.body.Len(); size > maxBundleAnswer && e.method == http.MethodGet {
			w = &captured{header: http.Header{}}
			writeOutcomeTo(w, 413, "too-costly", fmt.Sprintf("Bundle.entry[%d]: the answers so far exceed %d MiB; page the searches (_count) or split the Bundle", e.index, maxBundleAnswer>>20))
		}
		out[i] = s.responseEntry(w)
		if w.status >= 400 {
			if atomic {
				return nil, &entryFailure{e: e, status: w.status, issue: firstIssue(w)}
			}
			continue
		}
		if strings.HasPrefix(e.fullURL, urnPrefix) {
			if ref := s.refOf(w); ref != "" {
				urns[e.fullURL] = ref
			}
		}
	}
	return out, nil
}

// runEntry dispatches one entry with its urn:uuid references resolved; a
// reference to an urn:uuid no earlier entry created is refused.
func (s *Server) runEntry(ctx context.Context, outer *http.Request, sub *subRequest, e *entry, urns map[string]string) *captured {
	var resource any
	var unresolved []string
	if e.resource != nil {
		resource = resolveRefs(e.resource, urns, &unresolved)
	}
	if len(unresolved) > 0 {
		w := &captured{header: http.Header{}}
		writeOutcomeTo(w, 400, "invalid", fmt.Sprintf("Bundle.entry[%d].resource refers to %s, which is the fullUrl of no resource created before it", e.index, unresolved[0]))
		return w
	}
	return s.dispatch(ctx, outer, sub, e, resolveURL(e.url, urns), resource)
}

// refOf is Type/id of the resource an entry's answer names (its Location).
func (s *Server) refOf(w *captured) string {
	loc := strings.TrimPrefix(w.header.Get(echo.HeaderLocation), s.baseURL+"/")
	parts := strings.SplitN(loc, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// responseEntry is an entry of the response Bundle for one answer.
func (s *Server) responseEntry(w *captured) map[string]any {
	resp := map[string]any{"status": fmt.Sprintf("%d %s", w.status, http.StatusText(w.status))}
	ent := map[string]any{"response": resp}
	if loc := w.header.Get(echo.HeaderLocation); loc != "" {
		resp["location"] = loc
		ent["fullUrl"] = s.baseURL + "/" + s.refOf(w)
	}
	if et := w.header.Get("ETag"); et != "" {
		resp["etag"] = et
	}
	if lm, err := http.ParseTime(w.header.Get("Last-Modified")); err == nil {
		resp["lastModified"] = lm.UTC().Format(time.RFC3339)
	}
	if w.body.Len() > 0 && json.Valid(w.body.Bytes()) {
		if w.status >= 400 {
			resp["outcome"] = json.RawMessage(w.body.Bytes())
		} else {
			ent["resource"] = json.RawMessage(w.body.Bytes())
		}
	}
	return ent
}

// firstIssue is the first issue of a failed answer's OperationOutcome.
func firstIssue(w *captured) Issue {
	var oo Outcome
	if json.Unmarshal(w.body.Bytes(), &oo) == nil && len(oo.Issue) > 0 {
		return oo.Issue[0]
	}
	return Issue{Severity: "error", Code: "processing", Diagnostics: http.StatusText(w.status)}
}

// storeEntryRecords stores the audit records of the entries, once the
// Bundle's outcome is known; txErr is a transaction's failure (its
// successful entries were rolled back, and their records say so). The
// ids and patients of the entries are noted on the Bundle's own record.
func (s *Server) storeEntryRecords(c echo.Context, sub *subRequest, txErr error) error {
	if s.audit == nil || len(sub.records) == 0 {
		return nil
	}
	var f *entryFailure
	failed := errors.As(txErr, &f)
	n := s.note(c)
	changed := false
	for _, rec := range sub.records {
		if txErr != nil && rec.Status < 400 {
			rec.Status, rec.Detail = classify(txErr).Status, "rolled back: the transaction failed"
			if failed {
				rec.Status, rec.Detail = f.status, fmt.Sprintf("rolled back: the transaction failed at Bundle.entry[%d]", f.e.index)
			}
			rec.Outcome = audit.OutcomeOf(rec.Status)
		}
		n.ids = append(n.ids, rec.IDs...)
		for _, p := range rec.Patients {
			if !containsStr(n.patients, p) {
				n.patients = append(n.patients, p)
			}
		}
		changed = changed || (rec.Method != http.MethodGet && rec.Method != http.MethodHead && rec.Status < 400)
	}
	// one commit for every entry's record: a 100-entry Bundle must not wait
	// on 100 audit commits in a row
	if err := s.audit.storeRecords(c, sub.records, changed); err != nil {
		return &HTTPError{Status: 503, Code: "transient", Msg: "the audit trail is unavailable; retry later", Err: err}
	}
	return nil
}
