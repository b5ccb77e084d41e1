package facade

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

const fhirJSON = "application/fhir+json; charset=utf-8"

// maxDepth bounds the nesting of a written resource (R4 resources need far
// less); deeper bodies are refused before any mapping work.
const maxDepth = 32

func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRaw(c, status, b)
}

func writeRaw(c echo.Context, status int, b []byte) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, fhirJSON)
	if status != http.StatusNoContent && status != http.StatusNotModified {
		// the whole body is at hand: its length spares net/http the
		// chunked framing of bodies over its 2 KB buffer (and the client
		// its parsing)
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	}
	return c.Blob(status, fhirJSON, b)
}

// routes is the request's route snapshot, taken once.
func (s *Server) routes(c echo.Context) Routes {
	rq := reqOf(c)
	if rq.routes == nil {
		if sub := subOf(c); sub != nil {
			// a Bundle's entries all use the Bundle's snapshot
			rq.routes = sub.routes
		} else {
			rq.routes = s.cfg.Router.Snapshot()
		}
	}
	return rq.routes
}

// resolve finds the backend of a type and labels the request with both.
func (s *Server) resolve(c echo.Context, interaction string) (string, backend.Backend, error) {
	typ := c.Param("type")
	rq := reqOf(c)
	rq.interaction = interaction
	be := s.routes(c).BackendFor(typ)
	if _, known := s.typeInfo(typ); be == nil || !known {
		return "", nil, httpErr(404, "not-supported", fmt.Sprintf("resource type %q is not served here (see /fhir/metadata)", typ))
	}
	rq.typ, rq.backend = typ, be.Name()
	if interaction == "search-type" || conditional[interaction] {
		s.noteAsked(c, nil)
	}
	if err := s.authorize(c, typ, interaction); err != nil {
		return "", nil, err
	}
	return typ, be, nil
}

func setResourceHeaders(c echo.Context, r *backend.Resource) {
	h := c.Response().Header()
	h.Set("ETag", `W/"`+r.VersionID+`"`)
	if !r.LastUpdated.IsZero() { // a legacy row may have no stamp
		h.Set("Last-Modified", r.LastUpdated.UTC().Format(http.TimeFormat))
	}
}

func (s *Server) read(c echo.Context) error {
	typ, be, err := s.resolve(c, "read")
	if err != nil {
		return err
	}
	sb, err := s.readSubset(typ, c.QueryParams())
	if err != nil {
		return err
	}
	id := c.Param("id")
	r, err := s.readInGrant(c, be, typ, id, reqOf(c).decision)
	if err != nil {
		return err
	}
	return s.answerRead(c, sb, r)
}

// answerRead answers a read or vread of r: audit note, ETag and
// Last-Modified, 304 for a matching If-None-Match, the subset asked for.
func (s *Server) answerRead(c echo.Context, sb subset, r *backend.Resource) error {
	s.noteResources(c, r)
	setResourceHeaders(c, r)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && versionOf(inm) == r.VersionID {
		return c.NoContent(http.StatusNotModified)
	}
	out, err := s.applySubset(sb, []*backend.Resource{r})
	if err != nil {
		return err
	}
	return writeRaw(c, 200, out[0].JSON)
}

// ifMatchVersion is the version the request's If-Match names ("" without one).
// A list of ETags or * is refused with a 400 naming it: the backends take
// one version, and reading a list as one ETag failed every such write with
// a 412 that hid why.
func ifMatchVersion(c echo.Context) (string, error) {
	v := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if v == "*" || strings.Contains(v, ",") {
		return "", &HTTPError{Status: 400, Code: "not-supported", Msg: `If-Match takes one ETag here (W/"<versionId>" of the resource); a list of ETags or * is not supported`}
	}
	return versionOf(v), nil
}

// versionOf reads a version id from W/"3", "3" or 3.
func versionOf(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(etag, "W/")
	return strings.Trim(etag, `"`)
}

// body reads and checks a written resource: content type, size, JSON, depth,
// the R4 structure of its type, its resourceType, and its values
// (checkElements: no empty string, no reversed Period).
func (s *Server) body(c echo.Context, typ string) (map[string]any, error) {
	if c.Request().Header.Get("If-None-Match") != "" {
		// R4 defines If-None-Match for reads only (304); a write's
		// preconditions are If-None-Exist (create) and If-Match (update,
		// delete). Ignoring it would let a client believe it is protected.
		return nil, httpErr(400, "not-supported", "If-None-Match applies to reads in FHIR R4; use If-None-Exist (create) or If-Match (update)")
	}
	if ct := c.Request().Header.Get("Content-Type"); !isJSONBody(ct) {
		return nil, errUnsupportedBody(ct)
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyError(err, "could not read the request body")
	}
	if err := checkRaw(raw); err != nil {
		return nil, err
	}
	m := decodedBody(c)
	if m == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || dec.More() {
			return nil, httpErr(400, "structure", "the body is not one JSON object")
		}
	}
	if rt, _ := m["resourceType"].(string); rt != typ {
		return nil, &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("resourceType must be %s", typ), Path: "resourceType"}
	}
	if err := validateStructure(typ, raw); err != nil {
		return nil, err
	}
	if err := checkElements(m, typ); err != nil {
		return nil, err
	}
	return m, nil
}

// checkRaw reads the raw JSON once, without decoding it, and refuses what
// decoding would let through to legacy: nesting deeper than maxDepth, and
// a string holding U+0000 (PostgreSQL text cannot store it, the write
// ended in the database's refusal naming nothing, and no FHIR element
// needs it). JSON holds a NUL only escaped (\u0000).
func checkRaw(raw []byte) error {
	depth, inStr, esc := 0, false, false
	for i, ch := range raw {
		switch {
		case esc:
			esc = false
			if ch == 'u' && i+4 < len(raw) && string(raw[i+1:i+5]) == "0000" {
				return httpErr(400, "invalid", "a string holds a NUL character (\\u0000), which legacy text columns cannot store and no FHIR element needs")
			}
		case inStr && ch == '\\':
			esc = true
		case ch == '"':
			inStr = !inStr
		case inStr:
		case ch == '{' || ch == '[':
			depth++
			if depth > maxDepth {
				return httpErr(400, "structure", fmt.Sprintf("JSON nested deeper than %d levels", maxDepth))
			}
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return nil
}

func prefer(c echo.Context, key string) string {
	for _, h := range c.Request().Header.Values("Prefer") {
		for _, part := range strings.Split(h, ";") {
			for _, kv := range strings.Split(part, ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				if strings.EqualFold(k, key) {
					return strings.Trim(v, `"`)
				}
			}
		}
	}
	return ""
}

// writeContext is the request's context for a create, update or delete,
// marked with `Prefer: handling=lenient` when the client sent it: on a
// `fhir` route such a write is stored even if legacy cannot hold it (its
// reverse mirror is marked unmirrorable) instead of being refused.
func writeContext(c echo.Context) context.Context {
	ctx := c.Request().Context()
	if strings.EqualFold(prefer(c, "handling"), "lenient") {
		ctx = backend.WithLenient(ctx)
	}
	return ctx
}

// respondWritten answers a create or update per Prefer: return=.
func (s *Server) respondWritten(c echo.Context, status int, r *backend.Resource) error {
	setResourceHeaders(c, r)
	c.Response().Header().Set(echo.HeaderLocation, s.base(c)+"/"+r.Type+"/"+r.ID+"/_history/"+r.VersionID)
	switch prefer(c, "return") {
	case "minimal":
		return c.NoContent(status)
	case "OperationOutcome":
		return writeJSON(c, status, newOutcome("information", "informational", fmt.Sprintf("%s/%s stored at version %s", r.Type, r.ID, r.VersionID)))
	}
	return writeRaw(c, status, r.JSON)
}

func (s *Server) create(c echo.Context) error {
	ine := c.Request().Header.Get("If-None-Exist")
	inter := "create"
	if ine != "" {
		inter = "conditional-create"
		// the condition is the search this create runs (a match is
		// disclosed with a 200): the record names it
		s.noteQuery(c, strings.TrimPrefix(ine, "?"))
	}
	typ, be, err := s.resolve(c, inter)
	if err != nil {
		return err
	}
	m, err := s.body(c, typ)
	if err != nil {
		return err
	}
	if d := reqOf(c).decision; d.Filter.Compartment {
		if err := s.bodyInCompartment(c, typ, m); err != nil {
			return err
		}
	}
	var cond *search.Query
	if ine != "" {
		vals, err := parseQueryString(strings.TrimPrefix(ine, "?"))
		if err != nil {
			return httpErr(400, "invalid", "If-None-Exist is not a query string")
		}
		if cond, err = search.ParseQuery(vals); err != nil {
			return err
		}
		if len(cond.Params) == 0 {
			return httpErr(400, "invalid", "If-None-Exist has no search parameters")
		}
		// narrowed like any search, or a match in another patient's data
		// would show through as 200 instead of 201
		info, _ := s.typeInfo(typ)
		normalizeRefs(info, cond)
		if err := s.narrow(c, typ, cond, reqOf(c).searchDecision); err != nil {
			return err
		}
	}
	r, created, err := be.Create(writeContext(c), typ, m, cond)
	if err != nil {
		return err
	}
	s.noteResources(c, r)
	if !created {
		return s.respondWritten(c, 200, r)
	}
	return s.respondWritten(c, 201, r)
}

// checkID refuses an id a write would store that is no FHIR id: an
// update-as-create took a_b and 65-character ids, which no client can
// then reference.
func checkID(typ, id string) error {
	if backend.ValidID(id) {
		return nil
	}
	return &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("%q is not a FHIR id (1 to 64 of A-Z, a-z, 0-9, - and .)", id), Path: typ + ".id"}
}

func (s *Server) update(c echo.Context) error {
	typ, be, err := s.resolve(c, "update")
	if err != nil {
		return err
	}
	m, err := s.body(c, typ)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := checkID(typ, id); err != nil {
		return err
	}
	if bid, _ := m["id"].(string); bid != id {
		return &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("the body's id must equal the id in the URL (%s)", id), Path: typ + ".id"}
	}
	if d := reqOf(c).decision; filtered(d) {
		if err := s.bodyInCompartment(c, typ, m); err != nil {
			return err
		}
		// the stored version must be the patient's too, or a token could
		// take over another patient's resource by rewriting its subject
		if _, err := s.findInGrant(c, be, typ, id, d); err != nil {
			return err
		}
	}
	version, err := ifMatchVersion(c)
	if err != nil {
		return err
	}
	r, created, err := be.Update(writeContext(c), typ, id, m, version)
	if err != nil {
		return err
	}
	s.noteResources(c, r)
	if created {
		return s.respondWritten(c, 201, r)
	}
	return s.respondWritten(c, 200, r)
}

func (s *Server) delete(c echo.Context) error {
	typ, be, err := s.resolve(c, "delete")
	if err != nil {
		return err
	}
	id := c.Param("id")
	if d := reqOf(c).decision; filtered(d) {
		if _, err := s.findInGrant(c, be, typ, id, d); err != nil {
			return err
		}
	}
	if n := s.note(c); n != nil {
		n.ids = append(n.ids, typ+"/"+id)
	}
	version, err := ifMatchVersion(c)
	if err != nil {
		return err
	}
	if err := be.Delete(writeContext(c), typ, id, version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// base is the public FHIR base URL (Config.BaseURL). Never the request's
// Host or X-Forwarded-* headers: those are the caller's text, and links
// built from them would point the next request wherever the caller chose.
func (s *Server) base(echo.Context) string { return s.baseURL }
