package facade

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/search"
)

// Bulk Data $export (HL7 Bulk Data Access IG v2, R4): the kick-off
// (this file), status polling, cancel and file downloads (bulkstatus.go).
// The jobs run in package bulk; the facade checks the request, decides
// the parts (types, filters, the patients of a Group) and who may see the
// result.

// bulkOutputFormats are the _outputFormat values taken (all NDJSON).
var bulkOutputFormats = map[string]bool{"application/fhir+ndjson": true, "application/ndjson": true, "ndjson": true}

// bulkParams are the kick-off parameters served; the IG's others
// (patient, includeAssociatedData, _elements) are refused by name.
var bulkParams = map[string]bool{"_type": true, "_since": true, "_outputFormat": true, "_typeFilter": true, "_format": true}

// bulkFilterRefused are search parameters that do not filter (paging,
// shape, includes): a _typeFilter holding one is refused.
var bulkFilterRefused = map[string]bool{"_include": true, "_revinclude": true, "_sort": true, "_count": true, "_elements": true,
	"_summary": true, "_total": true, "_contained": true, "_containedType": true, "_page": true, "_format": true}

// bulkRun is one kick-off as it is checked.
type bulkRun struct {
	level, group string
	since        string
	types        []string            // the types exported, sorted
	explicit     bool                // _type named them
	filters      map[string]string   // type → _typeFilter query
	left         []string            // types left out for the token's scopes
	members      map[string][]string // (group) patient ids
}

func (s *Server) bulkSystem(c echo.Context) error  { return s.bulkKickoff(c, bulk.LevelSystem) }
func (s *Server) bulkPatient(c echo.Context) error { return s.bulkKickoff(c, bulk.LevelPatient) }
func (s *Server) bulkGroup(c echo.Context) error   { return s.bulkKickoff(c, bulk.LevelGroup) }

// bulkKickoff checks a kick-off request and queues the job: 202 with the
// status URL in Content-Location, 429 when the most jobs allowed run.
func (s *Server) bulkKickoff(c echo.Context, level string) error {
	rq := reqOf(c)
	rq.interaction = "bulk-export"
	if !preferAsync(c) {
		return httpErr(400, "invalid", "$export is asynchronous: send the header Prefer: respond-async")
	}
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return httpErr(400, "invalid", "the query string is malformed")
	}
	run := &bulkRun{level: level, group: c.Param("id")}
	s.noteQuery(c, vals.Encode())
	if err := s.bulkParse(c, run, vals); err != nil {
		return err
	}
	if err := s.bulkAuthorize(c, run); err != nil {
		return err
	}
	if level == bulk.LevelGroup {
		if err := s.bulkGroupMembers(c, run); err != nil {
			return err
		}
	}
	return s.bulkSubmit(c, run)
}

// bulkParse reads the parameters, refusing unknown ones and bad values by
// name.
func (s *Server) bulkParse(c echo.Context, run *bulkRun, vals url.Values) error {
	var unknown []string
	for k := range vals {
		if !bulkParams[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return httpErr(400, "not-supported", "$export does not take the parameter(s) "+strings.Join(unknown, ", ")+" (it takes _type, _since, _outputFormat, _typeFilter)")
	}
	if f := vals.Get("_outputFormat"); f != "" && !bulkOutputFormats[f] {
		return &HTTPError{Status: 400, Code: "not-supported", Path: "_outputFormat",
			Msg: fmt.Sprintf("_outputFormat=%q is not supported (application/fhir+ndjson, application/ndjson or ndjson)", f)}
	}
	if since := vals.Get("_since"); since != "" {
		if _, err := time.Parse(time.RFC3339Nano, since); err != nil {
			return &HTTPError{Status: 400, Code: "invalid", Path: "_since", Msg: fmt.Sprintf("_since=%q: want an instant with a time zone, e.g. 2024-01-31T00:00:00Z", since)}
		}
		run.since = since
	}
	if err := s.bulkTypes(c, run, strings.Join(vals["_type"], ",")); err != nil {
		return err
	}
	return s.bulkFilters(run, vals["_typeFilter"])
}

// bulkCandidates are the types a level can export: every type served now
// (system), or Patient and the served types of the patient compartment.
func (s *Server) bulkCandidates(c echo.Context, level string) []string {
	types := s.cfg.Catalog.Types()
	if level != bulk.LevelSystem {
		types = s.compartmentTypes()
	}
	routes := s.routes(c)
	var out []string
	for _, t := range types {
		if routes.BackendFor(t) != nil {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// bulkTypes reads _type (every candidate when absent).
func (s *Server) bulkTypes(c echo.Context, run *bulkRun, raw string) error {
	cands := s.bulkCandidates(c, run.level)
	if raw == "" {
		run.types = cands
		return nil
	}
	run.explicit = true
	seen := map[string]bool{}
	for _, t := range strings.Split(raw, ",") {
		t = strings.TrimSpace(t)
		if i := sort.SearchStrings(cands, t); i == len(cands) || cands[i] != t {
			what := "served here"
			if run.level != bulk.LevelSystem {
				what = "of the patient compartment served here"
			}
			return &HTTPError{Status: 400, Code: "not-supported", Path: "_type", Msg: fmt.Sprintf("_type: %q is not a type %s (see /fhir/metadata)", t, what)}
		}
		if !seen[t] {
			seen[t] = true
			run.types = append(run.types, t)
		}
	}
	sort.Strings(run.types)
	return nil
}

// bulkFilters reads _typeFilter: Type?query, a search this facade serves
// for that type (its parameters, no paging or shaping ones), one per type.
func (s *Server) bulkFilters(run *bulkRun, raw []string) error {
	run.filters = map[string]string{}
	for _, f := range raw {
		typ, qs, ok := strings.Cut(f, "?")
		bad := func(msg string) error {
			return &HTTPError{Status: 400, Code: "not-supported", Path: "_typeFilter", Msg: fmt.Sprintf("_typeFilter=%q: %s", f, msg)}
		}
		if !ok || qs == "" {
			return bad("want Type?search, e.g. Observation?status=final")
		}
		if !containsStr(run.types, typ) {
			return bad(typ + " is not a type of this export")
		}
		if _, dup := run.filters[typ]; dup {
			return bad("one _typeFilter per type is supported")
		}
		vals, err := url.ParseQuery(qs)
		if err != nil {
			return bad("the search is malformed")
		}
		for k := range vals {
			if base, _, _ := strings.Cut(k, ":"); bulkFilterRefused[base] {
				return bad(k + " is not a filter")
			}
		}
		q, err := search.ParseQuery(vals)
		if err != nil {
			return bad(err.Error())
		}
		if err := s.knownParams(typ, q); err != nil {
			return bad(err.(*HTTPError).Msg)
		}
		run.filters[typ] = vals.Encode()
	}
	return nil
}

// bulkReadLetters are what a bulk export of a type needs: reading and
// searching it (SMART v1 .read, v2 .rs).
var bulkReadLetters = []byte{auth.Read, auth.Search}

// bulkAuthorize checks the token (auth off: everything allowed). A system
// export needs system/ scopes granting every type it exports, unfiltered
// (system/*.read or per-type scopes); one type short refuses it. A patient
// or Group export takes user/ or system/ scopes: types the token cannot
// read unfiltered are left out (and said so in the manifest's error file)
// — unless the client named them in _type, which is refused — because a
// patient-level export asks for "what I may see of these patients", and
// a filtered or patient/ grant cannot be applied to a whole-population
// export without widening or silently narrowing it.
func (s *Server) bulkAuthorize(c echo.Context, run *bulkRun) error {
	if s.cfg.Auth == nil {
		return nil
	}
	p := principal(c)
	if p == nil {
		return httpErr(401, "login", "a bearer token is required")
	}
	contexts := map[string]bool{"system": true}
	if run.level != bulk.LevelSystem {
		contexts["user"] = true
	}
	var grants []auth.Grant
	for _, g := range p.Grants {
		if contexts[g.Context] {
			grants = append(grants, g)
		}
	}
	var kept []string
	for _, t := range run.types {
		ok := true
		for _, l := range bulkReadLetters {
			d := auth.Decide(grants, t, l)
			ok = ok && d.Allowed && !filtered(d)
		}
		switch {
		case ok:
			kept = append(kept, t)
		case run.level == bulk.LevelSystem || run.explicit:
			reqOf(c).setDetail("bulk export of " + t + " without an unfiltered system/ or user/ read scope")
			return httpErr(403, "forbidden", fmt.Sprintf("the token's scopes do not allow a bulk export of %s (a %s export needs %s/%s.read or %s/*.read)", t, run.level, scopeContext(run.level), t, scopeContext(run.level)))
		default:
			run.left = append(run.left, t)
		}
	}
	if len(kept) == 0 {
		return httpErr(403, "forbidden", "the token's scopes allow a bulk export of none of the types")
	}
	run.types = kept
	return nil
}

func scopeContext(level string) string {
	if level == bulk.LevelSystem {
		return "system"
	}
	return "system or user"
}

// bulkOwner is who may poll, cancel and download a job: a digest of the
// token's issuer, client, user and scopes — a refreshed token with the
// same scopes reaches its job, one of the same client with other scopes
// does not (its scopes might not cover the job's types). With auth off
// every caller is the one loopback principal.
func bulkOwner(c echo.Context) string {
	h := sha256.New()
	if p := principal(c); p != nil {
		grants := make([]string, 0, len(p.Grants))
		for _, g := range p.Grants {
			grants = append(grants, g.Raw)
		}
		sort.Strings(grants)
		for _, v := range []string{p.Issuer, p.ClientID, p.Subject, p.OID, strings.Join(grants, " ")} {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(v)))
			h.Write(n[:])
			h.Write([]byte(v))
		}
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// bulkSubmit turns the run into parts and queues the job.
func (s *Server) bulkSubmit(c echo.Context, run *bulkRun) error {
	parts := s.bulkParts(run)
	format := c.QueryParam("_outputFormat")
	if format == "" {
		format = "application/fhir+ndjson"
	}
	spec := bulk.Spec{Level: run.level, Group: run.group, Since: run.since, Format: format, Left: run.left}
	id, err := s.cfg.Bulk.Submit(c.Request().Context(), bulkOwner(c), s.baseURL+strings.TrimPrefix(c.Request().URL.RequestURI(), "/fhir"), spec, parts)
	if errors.Is(err, bulk.ErrBusy) {
		c.Response().Header().Set("Retry-After", "60")
		return httpErr(429, "throttled", fmt.Sprintf("the server runs the most bulk export jobs it allows (%d); retry later", s.cfg.Bulk.MaxJobs()))
	}
	if err != nil {
		return err
	}
	reqOf(c).setDetail("bulk export job " + id)
	c.Response().Header().Set("Content-Location", s.baseURL+"/$export-status/"+id)
	return writeJSON(c, 202, newOutcome("information", "informational", "$export job accepted: poll the URL in Content-Location"))
}

// bulkParts are the job's files: one per type with its filter; a Group's
// types are narrowed to its members, in chunks of bulkGroupChunk patients.
func (s *Server) bulkParts(run *bulkRun) []bulk.Part {
	var parts []bulk.Part
	for _, t := range run.types {
		if run.level != bulk.LevelGroup {
			parts = append(parts, bulk.Part{Type: t, Query: run.filters[t]})
			continue
		}
		parts = append(parts, s.groupParts(run, t)...)
	}
	return parts
}

// bulkGroupChunk is how many Group members one part's search names.
const bulkGroupChunk = 100

// bulkGroupMembers reads the Group (from the backend its route names) and
// its Patient members.
func (s *Server) bulkGroupMembers(c echo.Context, run *bulkRun) error {
	be := s.routes(c).BackendFor("Group")
	if _, ok := s.typeInfo("Group"); !ok || be == nil {
		return httpErr(404, "not-supported", "Group is not served here (no mapping for it and not on the FHIR server), so Group/"+run.group+"/$export cannot be")
	}
	d, ok := s.grantFor(c, "Group", auth.Read)
	if !ok {
		return httpErr(403, "forbidden", "the token's scopes do not allow reading Group")
	}
	reqOf(c).backend = be.Name()
	// read as a read of it would be: a Group the token's grant does not
	// reach (user/Group.r?identifier=…) is the 404 of a missing one, not a
	// list of members to export
	g, err := s.readInGrant(c, be, "Group", run.group, d)
	if err != nil {
		return err
	}
	var body struct {
		Member []struct {
			Entity struct {
				Reference string `json:"reference"`
			} `json:"entity"`
		} `json:"member"`
	}
	if err := json.Unmarshal(g.JSON, &body); err != nil {
		return fmt.Errorf("%w: Group/%s is not JSON", backend.ErrUnavailable, run.group)
	}
	run.members = map[string][]string{}
	for _, m := range body.Member {
		if id, ok := strings.CutPrefix(m.Entity.Reference, "Patient/"); ok && id != "" && !strings.Contains(id, "/") {
			run.members["Patient"] = append(run.members["Patient"], id)
		}
	}
	sort.Strings(run.members["Patient"])
	return nil
}

// groupParts are a type's parts for the Group's members: Patient by _id,
// another type by its patient compartment parameter (patient or subject
// first), each naming at most bulkGroupChunk members.
func (s *Server) groupParts(run *bulkRun, typ string) []bulk.Part {
	param := "_id"
	if typ != "Patient" {
		params := patientParams(s, typ)
		param = params[0]
		for _, p := range []string{"subject", "patient"} {
			if containsStr(params, p) {
				param = p
			}
		}
	}
	ids := run.members["Patient"]
	var parts []bulk.Part
	for lo := 0; lo < len(ids); lo += bulkGroupChunk {
		var vs []string
		for _, id := range ids[lo:min(lo+bulkGroupChunk, len(ids))] {
			if param != "_id" {
				id = "Patient/" + id
			}
			vs = append(vs, escape(id))
		}
		q := url.Values{param: {strings.Join(vs, ",")}}.Encode()
		if f := run.filters[typ]; f != "" {
			q = f + "&" + q
		}
		parts = append(parts, bulk.Part{Type: typ, Query: q})
	}
	return parts
}

// preferAsync reports whether the request carries Prefer: respond-async
// (a bare token, which prefer cannot tell from its absence).
func preferAsync(c echo.Context) bool {
	for _, h := range c.Request().Header.Values("Prefer") {
		for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ';' }) {
			if strings.EqualFold(strings.TrimSpace(part), "respond-async") {
				return true
			}
		}
	}
	return false
}
