package facade

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// Patient/[id]/$everything (R4 OperationDefinition Patient-everything):
// the patient, every resource of its compartment and the resources those
// reference, as one searchset paged across types.
//
// The answer is a walk over "legs": the Patient itself, then each
// compartment type (from the catalog: TypeInfo.Compartment) once per
// reference parameter through which it points at a Patient. Each leg is a
// narrowed search on the backend the request's route snapshot names for
// its type, so a type on `fhir` and one on `legacy` mix in one Bundle. A
// page holds _count matches; its token (sealed, bound to the principal and
// the query like a search's) holds the legs, the leg reached and that
// leg's backend cursor.

// everythingOp names the operation in URLs, tokens and the audit trail.
const everythingOp = "$everything"

// everythingParams are the parameters $everything takes (besides the
// format ones); anything else is refused by name.
var everythingParams = map[string]bool{"_since": true, "_type": true, "_count": true, "_elements": true, "_summary": true}

// evLeg is one search of the walk: a type through one of its reference
// parameters to Patient ("_id" for the Patient itself).
type evLeg struct {
	Type  string `json:"t"`
	Param string `json:"p"`
}

// evPos is where a page of the walk starts: the legs (fixed on the first
// page, so later pages agree with it whatever the catalog does meanwhile),
// the leg reached, and that leg's backend and cursor.
type evPos struct {
	Legs    []evLeg `json:"l"`
	Leg     int     `json:"i"`
	Backend string  `json:"b,omitempty"`
	Cursor  string  `json:"c,omitempty"`
}

// everythingRun is one $everything request as it passes its stages.
type everythingRun struct {
	id       string
	vals     url.Values // the parameters as run (canonical in the token)
	q        *search.Query
	since    string
	types    map[string]bool // _type (nil: every type)
	count    int
	subset   subset
	pos      evPos
	first    bool
	strict   bool   // Prefer: handling=strict
	bind     string // this request's binding
	bound    string // the page token's binding
	matches  []*backend.Resource
	included []*backend.Resource
	seen     map[string]bool
	next     *evPos
	warnings []string
}

func (s *Server) everythingGET(c echo.Context) error {
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return httpErr(400, "invalid", "the query string is malformed")
	}
	return s.everything(c, vals)
}

func (s *Server) everythingPOST(c echo.Context) error {
	vals, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return httpErr(400, "invalid", "the query string is malformed")
	}
	if err := parametersBody(c, vals); err != nil {
		return err
	}
	return s.everything(c, vals)
}

// everything runs the operation: parse, check the patient, walk the legs,
// add the referenced resources, subset, and answer the Bundle.
func (s *Server) everything(c echo.Context, vals url.Values) error {
	run, err := s.parseEverything(c, vals)
	if err != nil {
		return err
	}
	if err := s.everythingLegs(c, run); err != nil {
		return err
	}
	if err := s.walkEverything(c, run); err != nil {
		return err
	}
	if err := s.referencedEverything(c, run); err != nil {
		return err
	}
	s.noteResources(c, run.matches...)
	s.noteResources(c, run.included...)
	if run.matches, err = s.applySubset(run.subset, run.matches); err != nil {
		return err
	}
	if run.included, err = s.applySubset(run.subset, run.included); err != nil {
		return err
	}
	return writeRaw(c, 200, s.everythingBundle(c, run))
}

// parseEverything reads the request: the patient, the page token if any,
// and the parameters (refusing unknown ones and malformed values by name).
func (s *Server) parseEverything(c echo.Context, vals url.Values) (*everythingRun, error) {
	rq := reqOf(c)
	rq.interaction, rq.typ = "operation", c.Param("type")
	if err := checkFormat(c); err != nil {
		return nil, err
	}
	if rq.typ != "Patient" {
		return nil, httpErr(404, "not-supported", everythingOp+" is served for Patient only")
	}
	if _, ok := s.typeInfo("Patient"); !ok || s.routes(c).BackendFor("Patient") == nil {
		return nil, httpErr(404, "not-supported", "Patient is not served here (see /fhir/metadata)")
	}
	run := &everythingRun{id: c.Param("id"), vals: vals, first: true, strict: strings.EqualFold(prefer(c, "handling"), "strict")}
	if tok := vals.Get("_page"); tok != "" {
		if err := s.openEverythingPage(run, tok); err != nil {
			return nil, err
		}
	}
	dropEnvelope(run.vals)
	// noted before the parameters are checked: a refused request's record
	// names what was asked too
	s.noteQuery(c, run.vals.Encode())
	if err := s.everythingParams(run); err != nil {
		return nil, err
	}
	return run, nil
}

// openEverythingPage continues the walk a page token describes.
func (s *Server) openEverythingPage(run *everythingRun, tok string) error {
	st, err := s.cfg.Sealer.Open(tok)
	if err != nil {
		return err
	}
	if st.Type != "Patient/"+run.id+"/"+everythingOp {
		return httpErr(400, "invalid", "this page token belongs to another search or patient")
	}
	if run.vals, err = url.ParseQuery(st.Query); err != nil {
		return httpErr(400, "invalid", "page token is malformed")
	}
	if json.Unmarshal([]byte(st.Pos), &run.pos) != nil {
		return httpErr(400, "invalid", "page token is malformed")
	}
	run.bound, run.first = st.Bind, false
	return nil
}

// everythingParams checks and reads _since, _type, _count, _elements and
// _summary.
func (s *Server) everythingParams(run *everythingRun) error {
	var names []string
	for k := range run.vals {
		if !everythingParams[k] {
			names = append(names, k)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return httpErr(400, "not-supported", fmt.Sprintf("%s does not take the parameter(s) %s (it takes _since, _type, _count, _elements, _summary)", everythingOp, strings.Join(names, ", ")))
	}
	if since := run.vals.Get("_since"); since != "" {
		if _, err := time.Parse(time.RFC3339Nano, since); err != nil {
			return &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("_since=%q: want an instant with a time zone, e.g. 2024-01-31T00:00:00Z", since), Path: "_since"}
		}
		run.since = since
	}
	if err := s.everythingTypes(run); err != nil {
		return err
	}
	rest := url.Values{}
	for _, k := range []string{"_count", "_elements", "_summary"} {
		if run.vals.Has(k) {
			rest[k] = run.vals[k]
		}
	}
	q, err := search.ParseQuery(rest)
	if err != nil {
		return err
	}
	run.q, run.count = q, s.cfg.DefaultCount
	if rest.Has("_count") {
		run.count = q.Count
	}
	if q.Summary == "count" {
		return httpErr(400, "not-supported", "_summary=count is not supported by "+everythingOp)
	}
	if run.count == 0 {
		return &HTTPError{Status: 400, Code: "invalid", Msg: "_count must be at least 1 for " + everythingOp, Path: "_count"}
	}
	types := s.compartmentTypes()
	if run.types != nil {
		types = types[:0]
		for t := range run.types {
			types = append(types, t)
		}
	}
	run.subset, err = s.newSubset(q, types...)
	return err
}

// everythingTypes reads _type: each must be a served compartment type or
// Patient.
func (s *Server) everythingTypes(run *everythingRun) error {
	raw := strings.Join(run.vals["_type"], ",")
	if raw == "" {
		return nil
	}
	served := map[string]bool{}
	for _, t := range s.compartmentTypes() {
		served[t] = true
	}
	run.types = map[string]bool{}
	for _, t := range strings.Split(raw, ",") {
		t = strings.TrimSpace(t)
		if !served[t] {
			return &HTTPError{Status: 400, Code: "invalid", Msg: fmt.Sprintf("_type: %q is not a type of the patient compartment served here", t), Path: "_type"}
		}
		run.types[t] = true
	}
	return nil
}

// compartmentTypes are Patient and the served types that reach a Patient
// through a reference parameter of their compartment.
func (s *Server) compartmentTypes() []string {
	out := []string{"Patient"}
	for _, typ := range s.cfg.Catalog.Types() {
		if typ != "Patient" && len(patientParams(s, typ)) > 0 {
			out = append(out, typ)
		}
	}
	return out
}

// patientParams are typ's compartment parameters that reference a Patient.
func patientParams(s *Server, typ string) []string {
	info, _ := s.typeInfo(typ)
	var out []string
	for _, p := range info.Compartment {
		if info.ReferenceTarget(p) == "Patient" {
			out = append(out, p)
		}
	}
	return out
}

// everythingLegs fixes the walk on the first page (the patient must exist
// and be this token's patient when a patient/ scope applies) and checks a
// later page's binding.
func (s *Server) everythingLegs(c echo.Context, run *everythingRun) error {
	run.bind = s.everythingBinding(c, run)
	if !run.first {
		if !hmac.Equal([]byte(run.bind), []byte(run.bound)) {
			reqOf(c).setDetail("page token of another principal or search")
			return httpErr(403, "forbidden", "this page token was issued to another client, user or set of scopes; run the operation again")
		}
		return nil
	}
	if p := principal(c); s.cfg.Auth != nil && p != nil && p.Patient != "" && p.Patient != run.id && s.patientScoped(c) {
		reqOf(c).setDetail("$everything of another patient than the token's")
		return httpErr(404, "not-found", "Patient/"+run.id+" is not known")
	}
	be := s.routes(c).BackendFor("Patient")
	reqOf(c).backend = be.Name()
	if err := s.everythingPatient(c, be, run.id); err != nil {
		return err
	}
	for _, typ := range s.compartmentTypes() {
		if run.types != nil && !run.types[typ] {
			continue
		}
		if _, ok := s.grantFor(c, typ, auth.Search); !ok {
			continue // the token's scopes leave the type out
		}
		params := []string{"_id"}
		if typ != "Patient" {
			params = patientParams(s, typ)
		}
		for _, p := range params {
			run.pos.Legs = append(run.pos.Legs, evLeg{Type: typ, Param: p})
		}
	}
	if len(run.pos.Legs) == 0 {
		return httpErr(403, "forbidden", "the token's scopes grant searching none of the patient compartment's types")
	}
	return nil
}

// everythingPatient checks that the operation's patient exists, as far as
// the token may know: under a restricted Patient grant as a read under it
// is (outside it: 404, as for a missing patient); with no Patient grant at
// all not at all, because the token could not read the patient either — a
// 404 would tell it which patient ids exist, where the searches of its
// granted types (the legs) answer an unknown patient with nothing.
func (s *Server) everythingPatient(c echo.Context, be backend.Backend, id string) error {
	d, ok := s.grantFor(c, "Patient", auth.Read, auth.Search)
	if !ok {
		return nil
	}
	_, err := s.readInGrant(c, be, "Patient", id, d)
	return err
}

// patientScoped reports whether a patient/ scope confines any type the
// token reaches.
func (s *Server) patientScoped(c echo.Context) bool {
	for _, typ := range s.compartmentTypes() {
		if d, ok := s.grantFor(c, typ, auth.Search); ok && d.Filter.Compartment {
			return true
		}
	}
	return false
}
