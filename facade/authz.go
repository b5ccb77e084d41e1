package facade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/logcap"
	"github.com/fhirfacade/fhirfacade/jsonscan"
	"github.com/fhirfacade/fhirfacade/search"
)

// Authenticator validates a bearer token (auth.Verifier in production).
type Authenticator interface {
	Verify(ctx context.Context, token string) (*auth.Principal, error)
}

const (
	keyPrincipal = "auth.principal"
	keyDecision  = "auth.decision"
	// keyDecisionSearch is the search decision a conditional create's
	// If-None-Exist is narrowed by
	keyDecisionSearch = "auth.decision.search"
)

// interactionLetter is the SMART v2 letter each interaction needs.
var interactionLetter = map[string]byte{
	"read": auth.Read, "search-type": auth.Search, "create": auth.Create,
	"conditional-create": auth.Create, "update": auth.Update, "delete": auth.Delete,
}

func principal(c echo.Context) *auth.Principal {
	p, _ := c.Get(keyPrincipal).(*auth.Principal)
	return p
}

// authenticate validates the bearer token and rate-limits by client. With
// no Authenticator configured (FHIRFACADE_AUTH=off, loopback only) every
// request passes as an anonymous principal.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Auth == nil {
			if !s.allow(c, "ip:"+remoteHost(c)) {
				return s.tooMany(c)
			}
			return next(c)
		}
		raw, ok := bearer(c.Request().Header.Get("Authorization"))
		var p *auth.Principal
		var err error
		if ok {
			p, err = s.cfg.Auth.Verify(c.Request().Context(), raw)
		}
		key := "ip:" + remoteHost(c)
		if p != nil {
			key = "client:" + p.ClientID
			// before the rate check: a throttled client's refusals are
			// counted under its client id, not only its address
			c.Set(keyPrincipal, p)
		}
		if !s.allow(c, key) {
			return s.tooMany(c)
		}
		switch {
		case !ok:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fhirfacade"`)
			return httpErr(401, "login", "a bearer token is required (Authorization: Bearer …)")
		case errors.Is(err, auth.ErrJWKS):
			return &HTTPError{Status: 503, Code: "transient", Msg: "the token issuer's keys cannot be fetched; retry later", Err: err}
		case err != nil:
			// one message for every reason: the log has the detail, the
			// client learns nothing about which check failed
			s.log.Info("token refused", slog.String("request_id", requestID(c)), logcap.Attr("reason", err.Error()))
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fhirfacade", error="invalid_token"`)
			c.Set(keyAuditDetail, "invalid token")
			return httpErr(401, "login", "the bearer token is not valid")
		}
		return next(c)
	}
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authorize checks the token's scopes for interaction on typ and keeps the
// decision for the handler's narrowing. Auth off allows everything.
func (s *Server) authorize(c echo.Context, typ, interaction string) error {
	if s.cfg.Auth == nil {
		return nil
	}
	d, err := s.decide(c, typ, interactionLetter[interaction])
	if err != nil {
		return err
	}
	if !d.Allowed {
		return httpErr(403, "forbidden", fmt.Sprintf("the token's scopes do not allow %s on %s", interaction, typ))
	}
	if interaction == "conditional-create" {
		// If-None-Exist is a search: it needs s too, and is narrowed like one
		sd, err := s.decide(c, typ, auth.Search)
		if err != nil {
			return err
		}
		if !sd.Allowed {
			return httpErr(403, "forbidden", fmt.Sprintf("If-None-Exist searches %s, which the token's scopes do not allow", typ))
		}
		c.Set(keyDecisionSearch, sd)
	}
	c.Set(keyDecision, d)
	return nil
}

func (s *Server) decide(c echo.Context, typ string, letter byte) (auth.Decision, error) {
	p := principal(c)
	if p == nil {
		return auth.Decision{}, httpErr(401, "login", "a bearer token is required")
	}
	d := auth.Decide(p.Grants, typ, letter)
	if d.Allowed && d.Filter.Compartment {
		if p.Patient == "" {
			return auth.Decision{}, httpErr(403, "forbidden", "a patient/ scope needs a patient in the token (patient or fhirUser claim)")
		}
		if _, err := s.compartmentParam(typ); err != nil {
			return auth.Decision{}, err
		}
	}
	return d, nil
}

func decision(c echo.Context, key string) auth.Decision {
	d, _ := c.Get(key).(auth.Decision)
	return d
}

func filtered(d auth.Decision) bool { return d.Filter.Compartment || len(d.Filter.Params) > 0 }

// compartmentParam is the search parameter that confines typ to a patient.
func (s *Server) compartmentParam(typ string) (string, error) {
	if typ == "Patient" {
		return "_id", nil
	}
	info, _ := s.typeInfo(typ)
	for _, p := range info.Compartment {
		if info.ReferenceTarget(p) == "Patient" {
			return p, nil
		}
	}
	return "", httpErr(403, "forbidden", fmt.Sprintf("%s cannot be confined to a patient compartment here, so patient/ scopes do not reach it", typ))
}

// narrow adds the decision's filter to q as parameters the backend must
// apply in its own query: the patient compartment and any ?param=value
// restrictions. Parameters are ANDed, so narrowing never widens. A
// restriction the type cannot search on is refused rather than ignored
// (ignoring it would widen the grant).
func (s *Server) narrow(c echo.Context, typ string, q *search.Query, d auth.Decision) error {
	if !filtered(d) {
		return nil
	}
	if d.Filter.Compartment {
		name, err := s.compartmentParam(typ)
		if err != nil {
			return err
		}
		v := principal(c).Patient
		if name != "_id" {
			v = "Patient/" + v
		}
		q.Params = append(q.Params, search.Param{Name: name, Values: []string{escape(v)}})
	}
	if len(d.Filter.Params) > 0 {
		info, _ := s.typeInfo(typ)
		for name := range d.Filter.Params {
			base, _, _ := strings.Cut(name, ":")
			if info.ParamType(base) == "" {
				return httpErr(403, "forbidden", fmt.Sprintf("the token's restriction on %s cannot be enforced for %s", base, typ))
			}
		}
		rq, err := search.ParseQuery(url.Values(d.Filter.Params))
		if err != nil || len(rq.Params) == 0 || len(rq.Include)+len(rq.RevInclude)+len(rq.Sort)+len(rq.Elements) > 0 || rq.Count != 0 || rq.Total != "" || rq.Summary != "" {
			// a control parameter (_count, _include, ...) restricts nothing:
			// honouring the rest would widen the grant the issuer meant
			return httpErr(403, "forbidden", "the token's scope restriction is not a search this server can enforce")
		}
		q.Params = append(q.Params, rq.Params...)
	}
	return nil
}

// findInGrant reads typ/id as a search of _id plus the narrowing
// parameters — the check the backend applies to searches, so reads and
// searches cannot disagree — and answers 404 when the resource is missing
// or outside the grant (the same answer, so a token cannot probe for other
// patients' ids; a deleted resource is a 404 too, as whose it was cannot be
// checked). One query: the search returns the resource itself.
func (s *Server) findInGrant(c echo.Context, be backend.Backend, typ, id string, d auth.Decision) (*backend.Resource, error) {
	q := &search.Query{Params: []search.Param{{Name: "_id", Values: []string{escape(id)}}}}
	if err := s.narrow(c, typ, q, d); err != nil {
		return nil, err
	}
	res, err := be.Search(c.Request().Context(), typ, q, backend.SearchOptions{Count: 1})
	if err != nil {
		return nil, err
	}
	for _, r := range s.keepInCompartment(c, res.Resources, d) {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, httpErr(404, "not-found", fmt.Sprintf("%s/%s is not known", typ, id))
}

// keepInCompartment is the last line of defence after a narrowed search: a
// resource outside the token's patient compartment is dropped and logged
// (it would mean a backend ignored the narrowing parameter).
func (s *Server) keepInCompartment(c echo.Context, rs []*backend.Resource, d auth.Decision) []*backend.Resource {
	if !d.Filter.Compartment {
		return rs
	}
	want := "Patient/" + principal(c).Patient
	out := rs[:0:0]
	for _, r := range rs {
		ok := false
		for _, p := range s.patientsIn(c, r, true) {
			ok = ok || p == want
		}
		if ok {
			out = append(out, r)
		} else {
			s.log.Error("backend returned a resource outside the narrowed compartment; dropped", slog.String("request_id", requestID(c)), slog.String("type", r.Type))
		}
	}
	return out
}

const keyPatients = "fhir.patients"

// patientsIn is patientsOf remembered for the request when remember is
// set: under a patient/ scope the compartment check and then the audit note
// both need the patients of every resource of the answer, and the scan is
// the costly part. Without a compartment check nothing is remembered (the
// note is the only reader).
func (s *Server) patientsIn(c echo.Context, r *backend.Resource, remember bool) []string {
	memo, _ := c.Get(keyPatients).(map[*backend.Resource][]string)
	if ps, ok := memo[r]; ok {
		return ps
	}
	ps := s.patientsOf(r)
	if remember {
		if memo == nil {
			memo = map[*backend.Resource][]string{}
			c.Set(keyPatients, memo)
		}
		memo[r] = ps
	}
	return ps
}

// patientsOf lists the patients whose compartment holds r ("Patient/id").
func (s *Server) patientsOf(r *backend.Resource) []string {
	if r.Type == "Patient" {
		return []string{"Patient/" + r.ID}
	}
	info, _ := s.typeInfo(r.Type)
	if len(info.Compartment) == 0 {
		return nil
	}
	els := make([]string, len(info.Compartment))
	for i, p := range info.Compartment {
		els[i] = elementOf(info, p)
	}
	var out []string
	for _, v := range jsonscan.TopLevel(r.JSON, els...) {
		for _, ref := range refsIn(v) {
			if strings.HasPrefix(ref, "Patient/") && !containsStr(out, ref) {
				out = append(out, ref)
			}
		}
	}
	return out
}

// elementOf is the top-level element a compartment parameter reads (its
// include path when it has one, else the parameter's name).
func elementOf(info TypeInfo, param string) string {
	if path, _, ok := info.IncludePath(param); ok {
		return strings.SplitN(path, ".", 2)[0]
	}
	return param
}

// refsIn reads the reference strings of an element holding a Reference or
// a list of them.
func refsIn(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	type ref struct {
		Reference string `json:"reference"`
	}
	if raw[0] == '[' {
		var list []ref
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		out := make([]string, 0, len(list))
		for _, r := range list {
			out = append(out, r.Reference)
		}
		return out
	}
	var one ref
	if json.Unmarshal(raw, &one) != nil {
		return nil
	}
	return []string{one.Reference}
}

// bodyInCompartment checks that a resource a patient-scoped token writes
// belongs to the token's patient.
func (s *Server) bodyInCompartment(c echo.Context, typ string, m map[string]any) error {
	if typ == "Patient" {
		return httpErr(403, "forbidden", "a patient/ scope cannot create or replace Patient resources")
	}
	param, err := s.compartmentParam(typ)
	if err != nil {
		return err
	}
	// only the narrowing element counts for writes: an Observation about
	// patient B that names A as performer is in A's compartment for reading,
	// but A's token must not write data about B
	info, _ := s.typeInfo(typ)
	el := elementOf(info, param)
	raw, _ := json.Marshal(m[el])
	want := "Patient/" + principal(c).Patient
	for _, ref := range refsIn(raw) {
		if ref == want {
			return nil
		}
	}
	return &HTTPError{Status: 403, Code: "forbidden", Msg: "a patient/ scope can only write resources of the token's patient", Path: typ + "." + el}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// grantFor is the first of letters the token holds on typ (auth off: all).
// A type a patient-scoped token cannot be confined on counts as not granted.
func (s *Server) grantFor(c echo.Context, typ string, letters ...byte) (auth.Decision, bool) {
	if s.cfg.Auth == nil {
		return auth.Decision{Allowed: true}, true
	}
	for _, l := range letters {
		if d, err := s.decide(c, typ, l); err == nil && d.Allowed {
			return d, true
		}
	}
	return auth.Decision{}, false
}
