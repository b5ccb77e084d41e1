package facade

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

func parseQueryString(q string) (url.Values, error) { return url.ParseQuery(q) }

func (s *Server) searchGET(c echo.Context) error {
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return httpErr(400, "invalid", "the query string is malformed")
	}
	return s.search(c, vals)
}

func (s *Server) searchPOST(c echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return httpErr(415, "not-supported", "POST _search takes application/x-www-form-urlencoded")
	}
	form, err := c.FormParams()
	if err != nil {
		return bodyError(err, "the form body is malformed")
	}
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return httpErr(400, "invalid", "the query string is malformed")
	}
	for k, v := range form {
		vals[k] = append(vals[k], v...)
	}
	s.noteAsked(c, vals)
	// _format may come in the form too; negotiate saw only the URL
	if f := form.Get("_format"); f != "" {
		if err := formatParam(f); err != nil {
			return err
		}
	}
	return s.search(c, vals)
}

// searchRun is one search as it passes through its stages.
type searchRun struct {
	typ    string
	be     backend.Backend
	strict bool // Prefer: handling=strict
	// vals is the query as run: the request's, or its page token's
	vals  url.Values
	q     *search.Query
	count int
	// pos and bound are the page token's position and binding ("" on a
	// first page)
	pos, bound string
	d          auth.Decision
	incs, revs []include
	// bind is the binding of the narrowed search, sealed into the token of
	// its next page
	bind     string
	res      *backend.SearchResult
	selfQ    string          // the query of the self link and the next page
	seen     map[string]bool // the resources in the Bundle, by Type/id
	included []*backend.Resource
	warnings []string
	subset   subset // _summary, _elements
}

// search runs a search in stages: parse, narrow, fetch, include, bundle.
// Each stage refuses what it cannot serve before the next one runs.
func (s *Server) search(c echo.Context, vals url.Values) error {
	run, err := s.parseSearch(c, vals)
	if err != nil {
		return err
	}
	if err := s.narrowSearch(c, run); err != nil {
		return err
	}
	if err := s.fetchSearch(c, run); err != nil {
		return err
	}
	if err := s.includeSearch(c, run); err != nil {
		return err
	}
	if err := s.subsetSearch(run); err != nil {
		return err
	}
	return writeRaw(c, 200, s.searchBundle(c, run))
}

// parseSearch reads the search: its type and backend (authorised for the
// interaction), the state of its page token if it has one, and the query
// with its page size.
func (s *Server) parseSearch(c echo.Context, vals url.Values) (*searchRun, error) {
	typ, be, err := s.resolve(c, "search-type")
	if err != nil {
		return nil, err
	}
	run := &searchRun{typ: typ, be: be, vals: vals, strict: strings.EqualFold(prefer(c, "handling"), "strict")}
	if tok := vals.Get("_page"); tok != "" {
		if err := s.openPage(c, run, tok); err != nil {
			return nil, err
		}
	}
	dropEnvelope(run.vals)
	if run.q, err = search.ParseQuery(run.vals); err != nil {
		return nil, err
	}
	if run.strict {
		if err := s.knownParams(typ, run.q); err != nil {
			return nil, err
		}
	}
	run.count = s.cfg.DefaultCount
	if run.vals.Has("_count") {
		run.count = run.q.Count
	}
	if run.q.Summary == "count" {
		run.count = 0
	}
	return run, nil
}

// knownParams refuses, under Prefer: handling=strict, a parameter the
// CapabilityStatement does not list for typ. Legacy refuses those in any
// case, but a FHIR server may ignore them (lenient is its default), so
// without this a strict search would answer differently after a flip.
func (s *Server) knownParams(typ string, q *search.Query) error {
	info, _ := s.typeInfo(typ)
	for _, p := range q.Params {
		base, _, _ := strings.Cut(p.Name, ".") // a chain starts with a reference parameter
		if info.ParamType(base) == "" {
			return &HTTPError{Status: 400, Code: "not-supported",
				Msg: fmt.Sprintf("%s has no search parameter %q (see /fhir/metadata); Prefer: handling=strict refuses it", typ, p.Name)}
		}
	}
	return nil
}

// openPage continues the search a page token describes: its query, its
// backend and position, and the binding checked once the search is
// narrowed (narrowSearch).
func (s *Server) openPage(c echo.Context, run *searchRun, tok string) error {
	st, err := s.cfg.Sealer.Open(tok)
	if err != nil {
		return err
	}
	run.bound = st.Bind
	if st.Type != run.typ {
		return httpErr(400, "invalid", "this page token belongs to a search of another type")
	}
	if st.Backend != run.be.Name() {
		// the route flipped between pages: positions of one backend
		// mean nothing to another, so the search continues on the
		// backend that issued the token while it is still there
		if run.be = s.cfg.Router.ByName(st.Backend); run.be == nil {
			return httpErr(400, "invalid", "the backend of this page token is no longer serving; run the search again")
		}
		reqOf(c).backend = run.be.Name()
	}
	if run.vals, err = url.ParseQuery(st.Query); err != nil {
		return httpErr(400, "invalid", "page token is malformed")
	}
	run.pos = st.Pos
	// the search the token carries, for the record (a token presented by
	// another principal is refused later, and its record says what the
	// token would have fetched)
	s.noteQuery(c, st.Query)
	return nil
}

// narrowSearch resolves _include and _revinclude, confines the query to
// what the token grants, and checks that a page token belongs to the
// principal and the narrowed search presenting it.
func (s *Server) narrowSearch(c echo.Context, run *searchRun) error {
	typ, q := run.typ, run.q
	spec, _ := s.typeInfo(typ)
	var err error
	if run.incs, err = s.includes(typ, q.Include, run.strict, &run.warnings); err != nil {
		return err
	}
	if run.revs, err = s.revIncludes(typ, q.RevInclude, run.strict, &run.warnings); err != nil {
		return err
	}
	if run.subset, err = s.newSubset(q, typ); err != nil {
		return err
	}
	normalizeRefs(spec, q)
	run.d = reqOf(c).decision
	if err := s.narrow(c, typ, q, run.d); err != nil {
		return err
	}
	if run.d.Narrowed {
		run.warnings = append(run.warnings, "the token grants this type under several different filters; only one of them could be applied, so fewer results may be returned than the scopes allow")
	}
	// the token carries the binding of the search that issued it; a page
	// is only served to the same principal running the same narrowed
	// search (a cursor followed as is by a backend would otherwise hand
	// one principal's pages, and totals, to another). A first page needs
	// the binding only if it has a next page (searchBundle makes it then:
	// nothing changes q after this stage).
	if run.pos == "" {
		return nil
	}
	run.bind = pageBinding(principal(c), typ, q)
	if !hmac.Equal([]byte(run.bind), []byte(run.bound)) {
		reqOf(c).setDetail("page token of another principal or search")
		return httpErr(403, "forbidden", "this page token was issued to another client, user or set of scopes; run the search again")
	}
	return nil
}

// fetchSearch runs the narrowed search on its backend, keeps the matches
// inside the token's patient compartment, and notes the query and the
// matches for the audit trail.
func (s *Server) fetchSearch(c echo.Context, run *searchRun) error {
	q := run.q
	// lenient: one stored row the mapping cannot translate leaves that
	// row out with a warning, not the whole page; strict: 422 naming it
	res, err := run.be.Search(c.Request().Context(), run.typ, q, backend.SearchOptions{Cursor: run.pos, Count: run.count, Strict: run.strict, Partial: !run.strict,
		Total: q.Total == "accurate" || q.Total == "estimate" || q.Summary == "count"})
	if err != nil {
		return err
	}
	for _, u := range res.Unmappable {
		run.warnings = append(run.warnings, u.Public+"; it is left out of this page (Prefer: handling=strict makes this an error)")
	}
	res.Resources = s.keepInCompartment(c, res.Resources, run.d)
	for _, name := range res.Ignored {
		run.warnings = append(run.warnings, fmt.Sprintf("search parameter %q is not supported for %s and was ignored", name, run.typ))
	}
	run.res = res
	run.selfQ = run.vals.Encode()
	s.noteQuery(c, run.selfQ)
	run.seen = map[string]bool{}
	for _, r := range res.Resources {
		run.seen[r.Type+"/"+r.ID] = true
	}
	s.noteResources(c, res.Resources...)
	return nil
}

// includeSearch reads what the matches' _include and _revinclude name,
// each from the backend of its own type, and notes it for the audit trail.
func (s *Server) includeSearch(c echo.Context, run *searchRun) error {
	matches := run.res.Resources
	for _, inc := range run.incs {
		got, err := s.fetchIncluded(c, inc, matches, run.seen, &run.warnings)
		if err != nil {
			return err
		}
		run.included = append(run.included, got...)
	}
	for _, rv := range run.revs {
		got, truncated, err := s.fetchRevIncluded(c, run.typ, rv, matches, run.seen, &run.warnings)
		if err != nil {
			return err
		}
		if truncated {
			run.warnings = append(run.warnings, fmt.Sprintf("_revinclude=%s:%s stopped at %d resources for this page; use a smaller _count or search %s directly", rv.src, rv.param, revIncludeCap, rv.src))
		}
		run.included = append(run.included, got...)
	}
	s.noteResources(c, run.included...)
	return nil
}

// subsetSearch cuts the matches and included resources to the run's
// _summary or _elements (after the compartment checks and audit notes,
// which read whole resources).
func (s *Server) subsetSearch(run *searchRun) error {
	var err error
	if run.res.Resources, err = s.applySubset(run.subset, run.res.Resources); err != nil {
		return err
	}
	run.included, err = s.applySubset(run.subset, run.included)
	return err
}

// searchBundle is the searchset Bundle of the run: its self and next
// links, the matches, the included resources, and the warnings as an
// OperationOutcome entry.
func (s *Server) searchBundle(c echo.Context, run *searchRun) []byte {
	base, res := s.base(c), run.res
	size := 512
	for _, r := range res.Resources {
		size += len(r.JSON) + len(base) + 96
	}
	b := newBundle(base, res.Total, size)
	b.link("self", base+"/"+run.typ+"?"+run.selfQ)
	if res.Next != "" {
		if run.bind == "" {
			run.bind = pageBinding(principal(c), run.typ, run.q)
		}
		tok := s.cfg.Sealer.Seal(pagetoken.State{Type: run.typ, Query: run.selfQ, Backend: run.be.Name(), Pos: res.Next, Bind: run.bind})
		b.link("next", base+"/"+run.typ+"?_page="+tok)
	}
	for _, r := range res.Resources {
		b.entry(r, "match")
	}
	for _, r := range run.included {
		b.entry(r, "include")
	}
	b.warnings(run.warnings)
	return b.bytes()
}

// pageBinding is a digest of who ran a search and of the search as the
// backend received it (after narrowing): the principal's issuer, client,
// user, patient and grants, and the query with the narrowing parameters.
// Two principals whose grants differ get different bindings even for the
// same query string, so a page token cannot carry one principal's cursor
// (and its total) to another. With auth off every caller is the same
// anonymous loopback principal.
func pageBinding(p *auth.Principal, typ string, q *search.Query) string {
	h := sha256.New()
	field := func(v string) {
		// length-prefixed so that no two field lists encode alike
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	field(typ)
	if p != nil {
		for _, v := range []string{p.Issuer, p.ClientID, p.Subject, p.OID, p.FHIRUser, p.Patient} {
			field(v)
		}
		grants := make([]string, 0, len(p.Grants))
		for _, g := range p.Grants {
			grants = append(grants, g.Raw)
		}
		sort.Strings(grants)
		field(strings.Join(grants, " "))
	}
	canon, _ := json.Marshal(q)
	field(string(canon))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
func escape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`).Replace(v)
}

func escapeAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = escape(v)
	}
	return out
}

// normalizeRefs writes reference values in their Type/id form (patient=7
// becomes patient=Patient/7; subject:Patient=7 becomes subject=Patient/7):
// FHIR allows the short forms, but not every FHIR server resolves them, and
// both backends take the long form.
func normalizeRefs(spec interface{ ReferenceTarget(string) string }, q *search.Query) {
	for i, p := range q.Params {
		target := spec.ReferenceTarget(p.Name)
		if target == "" || (p.Modifier != "" && p.Modifier != target) {
			continue
		}
		for j, v := range p.Values {
			if !strings.Contains(v, "/") {
				p.Values[j] = target + "/" + v
			}
		}
		q.Params[i].Modifier = ""
	}
}

// envelopeParams are the parameters of a search request that are not the
// search: the page token and the answer's format.
var envelopeParams = []string{"_format", "_pretty", "_page"}

// dropEnvelope deletes envelopeParams from vals.
func dropEnvelope(vals url.Values) {
	for _, k := range envelopeParams {
		vals.Del(k)
	}
}
