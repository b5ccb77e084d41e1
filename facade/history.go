package facade

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

// Versions: vread (GET [type]/[id]/_history/[vid]) and instance history
// (GET [type]/[id]/_history), served by backends offering
// backend.Versioned. Legacy (through the tombstone wrapper) serves the
// current version and the delete it remembers; a FHIR server every
// version. Type and system history are not served (typeHistory).

// historyParams are the parameters an instance history takes; any other
// is refused by name (a history parameter silently ignored — _since,
// _at — would answer a different question than the one asked).
var historyParams = map[string]bool{"_count": true, "_page": true, "_format": true, "_pretty": true}

// versionedOf is the backend's history, or 405 naming the type.
func versionedOf(be backend.Backend, typ string) (backend.Versioned, error) {
	if v, ok := be.(backend.Versioned); ok && v.HistoryPolicy() != backend.NoHistory {
		return v, nil
	}
	return nil, httpErr(405, "not-supported", fmt.Sprintf("the backend serving %s keeps no versions: vread and _history are not supported for it", typ))
}

// inGrant checks, under a filtered grant, that the current resource is
// one the token may read (a deleted resource is 404 then: whose it was
// cannot be checked), and returns it (nil when the grant is not filtered).
func (s *Server) inGrant(c echo.Context, be backend.Backend, typ, id string) (*backend.Resource, error) {
	d := reqOf(c).decision
	if !filtered(d) {
		return nil, nil
	}
	return s.findInGrant(c, be, typ, id, d)
}

// versionInGrant reports whether version r of a resource whose current
// version cur is in the grant may be disclosed: under a patient/ scope it
// must belong to the token's patient too (an old version may have named
// another one); under a ?param=value restriction only the current version
// may, because only it was checked against the restriction (a search
// cannot say whether a past version matched it, and it may not have: a
// code or category changed since).
func (s *Server) versionInGrant(c echo.Context, r, cur *backend.Resource) bool {
	d := reqOf(c).decision
	if d.Filter.Compartment && !containsStr(s.patientsOf(r), "Patient/"+principal(c).Patient) {
		return false
	}
	return len(d.Filter.Params) == 0 || cur == nil || r.VersionID == cur.VersionID
}

func (s *Server) vread(c echo.Context) error {
	typ, be, err := s.resolve(c, "vread")
	if err != nil {
		return err
	}
	// _elements and _summary as on a read (and the same refusals)
	sb, err := s.readSubset(typ, c.QueryParams())
	if err != nil {
		return err
	}
	id, vid := c.Param("id"), c.Param("vid")
	v, err := versionedOf(be, typ)
	if err != nil {
		return err
	}
	cur, err := s.inGrant(c, be, typ, id)
	if err != nil {
		return err
	}
	if d := reqOf(c).decision; len(d.Filter.Params) > 0 && vid != cur.VersionID {
		// said before the version is read: the answer tells nothing of
		// whether it exists
		return httpErr(403, "forbidden", fmt.Sprintf("the token's scope restricts %s by a search, which only the current version of %s/%s was checked against; past versions are not disclosed under it", typ, typ, id))
	}
	r, err := v.VRead(c.Request().Context(), typ, id, vid)
	if err != nil {
		return err
	}
	if !s.versionInGrant(c, r, cur) {
		return httpErr(404, "not-found", fmt.Sprintf("%s/%s is not known", typ, id))
	}
	return s.answerRead(c, sb, r)
}

// historyRun is one page of an instance history as it is served.
type historyRun struct {
	typ, id string
	be      backend.Backend
	v       backend.Versioned
	count   int
	pos     string // the backend's position ("" on the first page)
	bind    string
}

func (s *Server) history(c echo.Context) error {
	run, err := s.parseHistory(c)
	if err != nil {
		return err
	}
	cur, err := s.inGrant(c, run.be, run.typ, run.id)
	if err != nil {
		return err
	}
	page, err := run.v.History(c.Request().Context(), run.typ, run.id, backend.HistoryOptions{Cursor: run.pos, Count: run.count})
	if err != nil {
		return err
	}
	return writeRaw(c, 200, s.historyBundle(c, run, page, cur))
}

// parseHistory reads the history request: type, backend and its history,
// the page size, and the position of a page token (bound, like a search's,
// to the principal and the resource).
func (s *Server) parseHistory(c echo.Context) (*historyRun, error) {
	typ, be, err := s.resolve(c, "history-instance")
	if err != nil {
		return nil, err
	}
	run := &historyRun{typ: typ, id: c.Param("id"), be: be, count: s.cfg.DefaultCount}
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, httpErr(400, "invalid", "the query string is malformed")
	}
	for k := range vals {
		if !historyParams[k] {
			return nil, httpErr(400, "not-supported", fmt.Sprintf("history parameter %q is not supported here (supported: _count)", k))
		}
	}
	if vals.Has("_count") {
		q, err := search.ParseQuery(url.Values{"_count": vals["_count"]})
		if err != nil {
			return nil, err
		}
		run.count = max(q.Count, 1)
	}
	hq := &search.Query{Params: []search.Param{{Name: "_history", Values: []string{run.id}}}}
	run.bind = pageBinding(principal(c), typ, hq)
	if tok := vals.Get("_page"); tok != "" {
		if err := s.openHistoryPage(c, run, tok); err != nil {
			return nil, err
		}
	}
	if run.v, err = versionedOf(run.be, typ); err != nil {
		return nil, err
	}
	return run, nil
}

// historyQuery is what a history page token carries as its query: never
// a search's (a search token is refused here, a history token by a search).
func historyQuery(id string) string { return "_history/" + id }

func (s *Server) openHistoryPage(c echo.Context, run *historyRun, tok string) error {
	st, err := s.cfg.Sealer.Open(tok)
	if err != nil {
		return err
	}
	if st.Type != run.typ || st.Query != historyQuery(run.id) {
		return httpErr(400, "invalid", "this page token belongs to another history or search")
	}
	if !hmac.Equal([]byte(st.Bind), []byte(run.bind)) {
		reqOf(c).setDetail("history page token of another principal")
		return httpErr(403, "forbidden", "this page token was issued to another client, user or set of scopes; ask for the history again")
	}
	if st.Backend != run.be.Name() {
		// the route flipped between pages: the position means something
		// only to the backend that issued it
		if run.be = s.cfg.Router.ByName(st.Backend); run.be == nil {
			return httpErr(400, "invalid", "the backend of this page token is no longer serving; ask for the history again")
		}
		reqOf(c).backend = run.be.Name()
	}
	run.pos = st.Pos
	return nil
}

// historyBundle is the history Bundle of one page: entries newest first,
// each with its request and response; versions the grant does not cover
// (versionInGrant; cur is the current version under a filtered grant) are
// left out.
func (s *Server) historyBundle(c echo.Context, run *historyRun, page *backend.HistoryPage, cur *backend.Resource) []byte {
	base := s.base(c)
	self := base + "/" + run.typ + "/" + run.id + "/_history"
	b := newBundleOf("history", base, nil, 1024)
	b.link("self", self)
	if page.Next != "" {
		tok := s.cfg.Sealer.Seal(pagetoken.State{Type: run.typ, Query: historyQuery(run.id), Backend: run.be.Name(), Pos: page.Next, Bind: run.bind})
		b.link("next", self+"?_page="+tok)
	}
	for _, e := range page.Entries {
		if e.Resource != nil {
			if !s.versionInGrant(c, e.Resource, cur) {
				continue
			}
			s.noteResources(c, e.Resource)
		}
		b.historyEntry(run.typ, run.id, e)
	}
	return b.bytes()
}

// typeHistory answers GET [type]/_history and GET /_history: not served
// (legacy keeps no record of changes across a table, and a type's history
// cannot be confined to a patient's compartment), and not listed in the
// CapabilityStatement.
func (s *Server) typeHistory(c echo.Context) error {
	reqOf(c).interaction = "history-type"
	return httpErr(405, "not-supported", "type and system history are not supported; ask for one resource's history: GET [type]/[id]/_history")
}

// historyEntry appends one version: fullUrl, the resource (none for a
// delete), and its request and response.
func (b *bundle) historyEntry(typ, id string, e backend.HistoryEntry) {
	if b.entries > 0 {
		b.buf = append(b.buf, ',')
	}
	b.entries++
	b.buf = append(b.buf, `{"fullUrl":`...)
	b.buf = append(b.buf, jsonString(b.base+"/"+typ+"/"+id)...)
	if e.Resource != nil {
		b.buf = append(b.buf, `,"resource":`...)
		b.buf = append(b.buf, e.Resource.JSON...)
	}
	reqURL := typ + "/" + id
	if e.Method == http.MethodPost {
		reqURL = typ
	}
	b.buf = append(b.buf, `,"request":{"method":`...)
	b.buf = append(b.buf, jsonString(e.Method)...)
	b.buf = append(b.buf, `,"url":`...)
	b.buf = append(b.buf, jsonString(reqURL)...)
	b.buf = append(b.buf, `},"response":{"status":`...)
	b.buf = append(b.buf, jsonString(e.Status)...)
	if e.VersionID != "" {
		b.buf = append(b.buf, `,"etag":`...)
		b.buf = append(b.buf, jsonString(`W/"`+e.VersionID+`"`)...)
	}
	if !e.LastUpdated.IsZero() {
		b.buf = append(b.buf, `,"lastModified":`...)
		b.buf = append(b.buf, jsonString(e.LastUpdated.UTC().Format(time.RFC3339Nano))...)
	}
	b.buf = append(b.buf, `}}`...)
}
