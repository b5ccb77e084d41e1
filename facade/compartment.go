package facade

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/jsonscan"
)

// The patient compartment: which patients a resource belongs to, and the
// checks that keep a patient/ scope's answers and writes inside its
// patient's compartment.

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

// patientsIn is patientsOf remembered for the request when remember is
// set: under a patient/ scope the compartment check and then the audit note
// both need the patients of every resource of the answer, and the scan is
// the costly part. Without a compartment check nothing is remembered (the
// note is the only reader).
func (s *Server) patientsIn(c echo.Context, r *backend.Resource, remember bool) []string {
	rq := reqOf(c)
	if ps, ok := rq.patients[r]; ok {
		return ps
	}
	ps := s.patientsOf(r)
	if remember {
		if rq.patients == nil {
			rq.patients = map[*backend.Resource][]string{}
		}
		rq.patients[r] = ps
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
			return s.refsInCompartment(c, typ, m)
		}
	}
	return &HTTPError{Status: 403, Code: "forbidden", Msg: "a patient/ scope can only write resources of the token's patient", Path: typ + "." + el}
}

// refsInCompartment checks every reference a patient-scoped write makes,
// wherever it is in the body: a Patient it names must be the token's (an
// Observation whose performer is another patient is in that patient's
// compartment), and a resource of a type that has a patient compartment
// must be in the token's patient's (an observation hung on another
// patient's encounter shows in that encounter). A reference is read by its
// Type/id tail, whatever comes before it, as the backends read it; a
// missing resource gets the answer of another patient's, so the check
// tells nothing about other patients' ids. Types outside the compartment
// (Practitioner, Organization, Medication) may be named freely.
func (s *Server) refsInCompartment(c echo.Context, typ string, m map[string]any) error {
	own := principal(c).Patient
	grant := auth.Decision{Allowed: true, Filter: auth.Filter{Compartment: true}}
	for _, r := range referencesIn(typ, m) {
		rt, id, _ := strings.Cut(resourceTail(r.ref), "/")
		id, _, _ = strings.Cut(id, "/")
		if id == "" || (rt == "Patient" && id == own) {
			continue
		}
		refused := &HTTPError{Status: 403, Code: "forbidden", Path: r.path,
			Msg: fmt.Sprintf("%s refers to %s/%s, which is not a resource of the token's patient (or does not exist); a patient/ scope writes references inside its patient's compartment only", r.path, rt, id)}
		if rt == "Patient" {
			return refused
		}
		be := s.routes(c).BackendFor(rt)
		if _, err := s.compartmentParam(rt); be == nil || err != nil {
			continue // not a type of the compartment (or not served here)
		}
		// the reference in the backend's own query, under the compartment
		// only: the token's scopes for rt do not matter, it learns nothing
		// outside its own compartment
		if _, err := s.findInGrant(c, be, rt, id, grant); err != nil {
			if he := classify(err); he.Status == 404 || he.Status == 410 {
				return refused
			}
			return err
		}
	}
	return nil
}

// bodyRef is one reference string of a body and the element path holding
// it.
type bodyRef struct{ path, ref string }

// referencesIn lists every Reference.reference string in a resource body
// (contained resources' and local "#id" references excepted).
func referencesIn(typ string, m map[string]any) []bodyRef {
	var out []bodyRef
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["reference"].(string); ok && !strings.HasPrefix(r, "#") {
				out = append(out, bodyRef{path: path, ref: r})
			}
			for k, y := range x {
				if k != "contained" {
					walk(path+"."+k, y)
				}
			}
		case []any:
			for _, y := range x {
				walk(path, y)
			}
		}
	}
	walk(typ, m)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
