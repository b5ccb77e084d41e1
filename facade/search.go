package facade

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

// revIncludeCap bounds the resources one page's _revinclude adds; more are
// reported in an OperationOutcome entry rather than silently cut.
const revIncludeCap = 1000

// idChunk is how many ids one include lookup asks for (search.MaxValues).
const idChunk = search.MaxValues

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
	return s.search(c, vals)
}

func (s *Server) search(c echo.Context, vals url.Values) error {
	typ, be, err := s.resolve(c, "search-type")
	if err != nil {
		return err
	}
	strict := strings.EqualFold(prefer(c, "handling"), "strict")
	pos, bound := "", ""
	if tok := vals.Get("_page"); tok != "" {
		st, err := s.cfg.Sealer.Open(tok)
		if err != nil {
			return err
		}
		bound = st.Bind
		if st.Type != typ {
			return httpErr(400, "invalid", "this page token belongs to a search of another type")
		}
		if st.Backend != be.Name() {
			// the route flipped between pages: positions of one backend
			// mean nothing to another, so the search continues on the
			// backend that issued the token while it is still there
			if be = s.cfg.Router.ByName(st.Backend); be == nil {
				return httpErr(400, "invalid", "the backend of this page token is no longer serving; run the search again")
			}
			c.Set(keyBackend, be.Name())
		}
		if vals, err = url.ParseQuery(st.Query); err != nil {
			return httpErr(400, "invalid", "page token is malformed")
		}
		pos = st.Pos
	}
	for _, k := range []string{"_format", "_pretty", "_page"} {
		vals.Del(k)
	}
	q, err := search.ParseQuery(vals)
	if err != nil {
		return err
	}
	count := s.cfg.DefaultCount
	if vals.Has("_count") {
		count = q.Count
	}
	if q.Summary == "count" {
		count = 0
	}
	spec, _ := s.typeInfo(typ)
	var warnings []string
	incs, err := s.includes(typ, q.Include, strict, &warnings)
	if err != nil {
		return err
	}
	revs, err := s.revIncludes(typ, q.RevInclude, strict, &warnings)
	if err != nil {
		return err
	}
	if len(q.Elements) > 0 {
		if strict {
			return httpErr(400, "not-supported", "_elements is not supported")
		}
		warnings = append(warnings, "_elements is not supported and was ignored: complete resources are returned")
	}
	normalizeRefs(spec, q)
	d := decision(c, keyDecision)
	if err := s.narrow(c, typ, q, d); err != nil {
		return err
	}
	if d.Narrowed {
		warnings = append(warnings, "the token grants this type under several different filters; only one of them could be applied, so fewer results may be returned than the scopes allow")
	}
	// the token carries the binding of the search that issued it; a page
	// is only served to the same principal running the same narrowed
	// search (a cursor followed as is by a backend would otherwise hand
	// one principal's pages, and totals, to another)
	bind := pageBinding(principal(c), typ, q)
	if pos != "" && !hmac.Equal([]byte(bind), []byte(bound)) {
		c.Set(keyAuditDetail, "page token of another principal or search")
		return httpErr(403, "forbidden", "this page token was issued to another client, user or set of scopes; run the search again")
	}
	ctx := c.Request().Context()
	res, err := be.Search(ctx, typ, q, backend.SearchOptions{Cursor: pos, Count: count, Strict: strict, Total: q.Total == "accurate" || q.Total == "estimate" || q.Summary == "count"})
	if err != nil {
		return err
	}
	res.Resources = s.keepInCompartment(c, res.Resources, d)
	for _, name := range res.Ignored {
		warnings = append(warnings, fmt.Sprintf("search parameter %q is not supported for %s and was ignored", name, typ))
	}
	base := s.base(c)
	size := 512
	for _, r := range res.Resources {
		size += len(r.JSON) + len(base) + 96
	}
	b := newBundle(base, res.Total, size)
	selfQ := vals.Encode()
	s.noteQuery(c, selfQ)
	b.link("self", base+"/"+typ+"?"+selfQ)
	if res.Next != "" {
		tok := s.cfg.Sealer.Seal(pagetoken.State{Type: typ, Query: selfQ, Backend: be.Name(), Pos: res.Next, Bind: bind})
		b.link("next", base+"/"+typ+"?_page="+tok)
	}
	seen := map[string]bool{}
	for _, r := range res.Resources {
		seen[r.Type+"/"+r.ID] = true
		b.entry(r, "match")
	}
	var included []*backend.Resource
	s.noteResources(c, res.Resources...)
	for _, inc := range incs {
		got, err := s.fetchIncluded(c, inc, res.Resources, seen, &warnings)
		if err != nil {
			return err
		}
		included = append(included, got...)
	}
	for _, rv := range revs {
		got, truncated, err := s.fetchRevIncluded(c, typ, rv, res.Resources, seen, &warnings)
		if err != nil {
			return err
		}
		if truncated {
			warnings = append(warnings, fmt.Sprintf("_revinclude=%s:%s stopped at %d resources for this page; use a smaller _count or search %s directly", rv.src, rv.param, revIncludeCap, rv.src))
		}
		included = append(included, got...)
	}
	s.noteResources(c, included...)
	for _, r := range included {
		b.entry(r, "include")
	}
	if len(warnings) > 0 {
		oo := &Outcome{ResourceType: "OperationOutcome"}
		for _, w := range warnings {
			oo.Issue = append(oo.Issue, Issue{Severity: "warning", Code: "not-supported", Diagnostics: w})
		}
		raw, _ := json.Marshal(oo)
		b.outcome(raw)
	}
	return writeRaw(c, 200, b.bytes())
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

type include struct {
	src, param, path, target string
}

func (s *Server) includes(typ string, vals []string, strict bool, warnings *[]string) ([]include, error) {
	var out []include
	for _, v := range vals {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] != typ {
			if strict {
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_include=%s: want %s:<reference parameter>", v, typ))
			}
			*warnings = append(*warnings, fmt.Sprintf("_include=%s is not supported and was ignored", v))
			continue
		}
		info, _ := s.typeInfo(typ)
		path, target, ok := info.IncludePath(parts[1])
		if !ok || (len(parts) == 3 && parts[2] != target) {
			if strict {
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_include=%s: %s has no reference parameter %q", v, typ, parts[1]))
			}
			*warnings = append(*warnings, fmt.Sprintf("_include=%s is not supported and was ignored", v))
			continue
		}
		out = append(out, include{src: typ, param: parts[1], path: path, target: target})
	}
	return out, nil
}

func (s *Server) revIncludes(typ string, vals []string, strict bool, warnings *[]string) ([]include, error) {
	var out []include
	for _, v := range vals {
		parts := strings.Split(v, ":")
		ok := len(parts) >= 2 && len(parts) <= 3
		var path, target string
		if ok {
			if sp, known := s.typeInfo(parts[0]); known {
				path, target, ok = sp.IncludePath(parts[1])
				ok = ok && target == typ && (len(parts) == 2 || parts[2] == typ)
			} else {
				ok = false
			}
		}
		if !ok {
			if strict {
				return nil, httpErr(400, "not-supported", fmt.Sprintf("_revinclude=%s: want <type>:<reference parameter to %s>", v, typ))
			}
			*warnings = append(*warnings, fmt.Sprintf("_revinclude=%s is not supported and was ignored", v))
			continue
		}
		out = append(out, include{src: parts[0], param: parts[1], path: path, target: target})
	}
	return out, nil
}

// refsAt collects the "Type/id" references at a dotted element path.
func refsAt(raw []byte, path string) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	cur := []any{v}
	for _, step := range strings.Split(path, ".") {
		var next []any
		for _, x := range cur {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			switch y := m[step].(type) {
			case []any:
				next = append(next, y...)
			case nil:
			default:
				next = append(next, y)
			}
		}
		cur = next
	}
	var out []string
	for _, x := range cur {
		if m, ok := x.(map[string]any); ok {
			if r, ok := m["reference"].(string); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// fetchIncluded reads the targets of one _include from the backend that owns
// the target type (which may differ from the matches' backend).
func (s *Server) fetchIncluded(c echo.Context, inc include, matches []*backend.Resource, seen map[string]bool, warnings *[]string) ([]*backend.Resource, error) {
	d, ok := s.grantFor(c, inc.target, auth.Read, auth.Search)
	if !ok {
		*warnings = append(*warnings, fmt.Sprintf("_include=%s:%s: the token's scopes do not grant %s; those resources are left out", inc.src, inc.param, inc.target))
		return nil, nil
	}
	var ids []string
	for _, r := range matches {
		for _, ref := range refsAt(r.JSON, inc.path) {
			typ, id, ok := strings.Cut(ref, "/")
			if !ok || typ != inc.target || strings.Contains(id, "/") || seen[ref] {
				continue
			}
			seen[ref] = true
			ids = append(ids, id)
		}
	}
	be := s.routes(c).BackendFor(inc.target)
	if be == nil || len(ids) == 0 {
		return nil, nil
	}
	var out []*backend.Resource
	for lo := 0; lo < len(ids); lo += idChunk {
		chunk := ids[lo:min(lo+idChunk, len(ids))]
		q := &search.Query{Params: []search.Param{{Name: "_id", Values: escapeAll(chunk)}}}
		if err := s.narrow(c, inc.target, q, d); err != nil {
			return nil, err
		}
		res, err := be.Search(c.Request().Context(), inc.target, q, backend.SearchOptions{Count: len(chunk)})
		if err != nil {
			return nil, err
		}
		out = append(out, s.keepInCompartment(c, res.Resources, d)...)
	}
	return out, nil
}

// fetchRevIncluded finds resources of inc.src that point at the matches.
func (s *Server) fetchRevIncluded(c echo.Context, typ string, inc include, matches []*backend.Resource, seen map[string]bool, warnings *[]string) ([]*backend.Resource, bool, error) {
	d, ok := s.grantFor(c, inc.src, auth.Search)
	if !ok {
		*warnings = append(*warnings, fmt.Sprintf("_revinclude=%s:%s: the token's scopes do not grant searching %s; those resources are left out", inc.src, inc.param, inc.src))
		return nil, false, nil
	}
	be := s.routes(c).BackendFor(inc.src)
	if be == nil || len(matches) == 0 {
		return nil, false, nil
	}
	var out []*backend.Resource
	for lo := 0; lo < len(matches); lo += idChunk {
		var refs []string
		for _, r := range matches[lo:min(lo+idChunk, len(matches))] {
			refs = append(refs, escape(typ+"/"+r.ID))
		}
		pos := ""
		for {
			q := &search.Query{Params: []search.Param{{Name: inc.param, Values: refs}}}
			if err := s.narrow(c, inc.src, q, d); err != nil {
				return nil, false, err
			}
			res, err := be.Search(c.Request().Context(), inc.src, q, backend.SearchOptions{Cursor: pos, Count: min(search.MaxCount, revIncludeCap-len(out)+1)})
			if err != nil {
				return nil, false, err
			}
			for _, r := range s.keepInCompartment(c, res.Resources, d) {
				key := r.Type + "/" + r.ID
				if seen[key] {
					continue
				}
				if len(out) == revIncludeCap {
					return out, true, nil
				}
				seen[key] = true
				out = append(out, r)
			}
			if res.Next == "" {
				break
			}
			pos = res.Next
		}
	}
	return out, false, nil
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

// bundle writes a searchset Bundle around raw resource JSON without
// re-encoding the resources.
type bundle struct {
	base    string
	buf     []byte
	links   []byte
	entries int
	total   *int
}

func newBundle(base string, total *int, size int) *bundle {
	return &bundle{base: base, total: total, buf: make([]byte, 0, size)}
}

func (b *bundle) link(rel, url string) {
	if len(b.links) > 0 {
		b.links = append(b.links, ',')
	}
	rb, ub := jsonString(rel), jsonString(url)
	b.links = append(b.links, `{"relation":`...)
	b.links = append(b.links, rb...)
	b.links = append(b.links, `,"url":`...)
	b.links = append(b.links, ub...)
	b.links = append(b.links, '}')
}

func (b *bundle) entry(r *backend.Resource, mode string) {
	if b.entries > 0 {
		b.buf = append(b.buf, ',')
	}
	b.entries++
	fu := jsonString(b.base + "/" + r.Type + "/" + r.ID)
	b.buf = append(b.buf, `{"fullUrl":`...)
	b.buf = append(b.buf, fu...)
	b.buf = append(b.buf, `,"resource":`...)
	b.buf = append(b.buf, r.JSON...)
	b.buf = append(b.buf, `,"search":{"mode":"`...)
	b.buf = append(b.buf, mode...)
	b.buf = append(b.buf, `"}}`...)
}

func (b *bundle) outcome(raw []byte) {
	if b.entries > 0 {
		b.buf = append(b.buf, ',')
	}
	b.entries++
	b.buf = append(b.buf, `{"resource":`...)
	b.buf = append(b.buf, raw...)
	b.buf = append(b.buf, `,"search":{"mode":"outcome"}}`...)
}

func (b *bundle) bytes() []byte {
	out := make([]byte, 0, len(b.buf)+len(b.links)+128)
	out = append(out, `{"resourceType":"Bundle","type":"searchset"`...)
	if b.total != nil {
		out = append(out, `,"total":`...)
		out = strconv.AppendInt(out, int64(*b.total), 10)
	}
	if len(b.links) > 0 {
		out = append(out, `,"link":[`...)
		out = append(out, b.links...)
		out = append(out, ']')
	}
	if b.entries > 0 {
		out = append(out, `,"entry":[`...)
		out = append(out, b.buf...)
		out = append(out, ']')
	}
	return append(out, '}')
}

// jsonString encodes s as a JSON string without HTML escaping (links keep
// their & as is).
func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(buf.Bytes(), "\n")
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
