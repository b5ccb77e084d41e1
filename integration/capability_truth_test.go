package integration

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// TestCapabilityStatementIsTrue reads /fhir/metadata from a running facade
// and holds it to its word with real requests: every listed interaction,
// search parameter, include and operation is served; every R4 interaction
// it does not list is refused; what it says of versioning and conditional
// writes is what happens. Everything comes from the statement itself, so
// the check follows as types, interactions and operations are added. Once
// all on legacy (SQLite), once with Patient on `fhir` (the test FHIR
// server answering).
func TestCapabilityStatementIsTrue(t *testing.T) {
	for _, v := range []struct {
		name   string
		onFHIR []string
	}{
		{"legacy", nil},
		{"Patient on fhir", []string{"Patient"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			w := newWorld(t, testutil.SQLite(t), "sqlite://"+t.TempDir()+"/control.db")
			for _, typ := range v.onFHIR {
				w.copyAll(typ)
				w.flip(typ, routing.Shadow, false)
				w.prove(typ)
				w.flip(typ, routing.FHIR, false)
			}
			cs := w.capabilities()
			if len(cs.Rest) != 1 || len(cs.Rest[0].Resource) == 0 {
				t.Fatalf("statement lists no server resources: %+v", cs)
			}
			var types []string
			for _, res := range cs.Rest[0].Resource {
				types = append(types, res.Type)
			}
			for _, res := range cs.Rest[0].Resource {
				t.Run(res.Type, func(t *testing.T) { w.checkType(t, res, types) })
			}
			w.checkSystem(t, cs.Rest[0])
		})
	}
}

// capStatement is the part of a CapabilityStatement the check reads.
type capStatement struct {
	Rest []capRest `json:"rest"`
}

type capRest struct {
	Resource    []capResource `json:"resource"`
	Interaction []capCode     `json:"interaction"`
	Operation   []capOp       `json:"operation"`
}

type capCode struct {
	Code string `json:"code"`
}

type capOp struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

type capResource struct {
	Type              string    `json:"type"`
	Interaction       []capCode `json:"interaction"`
	Versioning        string    `json:"versioning"`
	UpdateCreate      bool      `json:"updateCreate"`
	ConditionalCreate bool      `json:"conditionalCreate"`
	ConditionalUpdate bool      `json:"conditionalUpdate"`
	ConditionalDelete string    `json:"conditionalDelete"`
	SearchInclude     []string  `json:"searchInclude"`
	SearchRevInclude  []string  `json:"searchRevInclude"`
	SearchParam       []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"searchParam"`
	Operation []capOp `json:"operation"`
}

func (w *world) capabilities() capStatement {
	w.t.Helper()
	r := w.want(w.do("GET", "/fhir/metadata", ""), 200, "metadata")
	var cs capStatement
	if err := json.Unmarshal(r.raw, &cs); err != nil {
		w.t.Fatal(err)
	}
	return cs
}

func codes(cc []capCode) map[string]bool {
	out := map[string]bool{}
	for _, c := range cc {
		out[c.Code] = true
	}
	return out
}

// probe is one request that exercises a FHIR interaction.
type probe struct {
	method, path, body string
	hdr                []string
}

// sample is a stored resource of the type under test, and one the check
// may delete.
type sample struct {
	typ, id, version string
	body             map[string]any
	spare            string // id of a resource created for delete ("" = none)
}

// typeInteractions are R4's type-level interactions (CapabilityStatement
// rest.resource.interaction), each with the request that performs it.
var typeInteractions = []struct {
	code  string
	probe func(s *sample) probe
}{
	{"search-type", func(s *sample) probe { return probe{method: "GET", path: "/fhir/" + s.typ + "?_count=1"} }},
	{"read", func(s *sample) probe { return probe{method: "GET", path: "/fhir/" + s.typ + "/" + s.id} }},
	{"vread", func(s *sample) probe {
		return probe{method: "GET", path: "/fhir/" + s.typ + "/" + s.id + "/_history/" + s.version}
	}},
	{"history-instance", func(s *sample) probe { return probe{method: "GET", path: "/fhir/" + s.typ + "/" + s.id + "/_history"} }},
	{"history-type", func(s *sample) probe { return probe{method: "GET", path: "/fhir/" + s.typ + "/_history"} }},
	{"update", func(s *sample) probe {
		return probe{method: "PUT", path: "/fhir/" + s.typ + "/" + s.id, body: mustJSON(s.body)}
	}},
	{"patch", func(s *sample) probe {
		return probe{method: "PATCH", path: "/fhir/" + s.typ + "/" + s.id,
			body: `[{"op":"test","path":"/id","value":"` + s.id + `"}]`, hdr: []string{"Content-Type", "application/json-patch+json"}}
	}},
	{"create", func(s *sample) probe {
		return probe{method: "POST", path: "/fhir/" + s.typ, body: mustJSON(copyOf(s.body))}
	}},
	{"delete", func(s *sample) probe {
		id := s.spare
		if id == "" {
			id = s.id
		}
		return probe{method: "DELETE", path: "/fhir/" + s.typ + "/" + id}
	}},
}

// systemInteractions are R4's system-level interactions (rest.interaction).
var systemInteractions = []struct {
	code string
	p    probe
}{
	{"transaction", probe{method: "POST", path: "/fhir", body: `{"resourceType":"Bundle","type":"transaction","entry":[]}`}},
	{"batch", probe{method: "POST", path: "/fhir", body: `{"resourceType":"Bundle","type":"batch","entry":[]}`}},
	{"history-system", probe{method: "GET", path: "/fhir/_history"}},
	{"search-system", probe{method: "GET", path: "/fhir?_count=1"}},
}

// r4Operations are operations R4 defines on these types (and on every
// resource, "*"): one the statement does not list must be refused.
var r4Operations = map[string][]string{
	"*":           {"validate", "meta", "meta-add", "meta-delete"},
	"Patient":     {"everything", "match"},
	"Encounter":   {"everything"},
	"Observation": {"lastn", "stats"},
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// copyOf is a resource as a client would create it anew: no id, no meta,
// and its business identifiers made unique.
// copies numbers the copies copyOf makes.
var copies atomic.Int64

func copyOf(m map[string]any) map[string]any {
	n := copies.Add(1) // each copy's identifiers differ from every other's
	c := map[string]any{}
	for k, v := range m {
		if k != "id" && k != "meta" && k != "text" {
			c[k] = v
		}
	}
	if ids, ok := c["identifier"].([]any); ok {
		var fresh []any
		for i, x := range ids {
			id, _ := x.(map[string]any)
			cp := map[string]any{}
			for k, v := range id {
				cp[k] = v
			}
			cp["value"] = fmt.Sprintf("CAP%d-%d-%v", n, i, id["value"])
			fresh = append(fresh, cp)
		}
		c["identifier"] = fresh
	}
	return c
}

func (w *world) send(p probe) resp {
	return w.do(p.method, p.path, p.body, p.hdr...)
}

// served: the request was answered as a working interaction.
func served(r resp) bool { return r.status >= 200 && r.status < 300 }

// refused: the request was turned down as something this server does not
// do (never a 5xx, never success), with an OperationOutcome.
func refused(r resp) bool {
	return (r.status == 400 || r.status == 404 || r.status == 405) && r.body["resourceType"] == "OperationOutcome"
}

// plausible are search values of each R4 parameter type that any server
// answers (with matches or an empty Bundle), never "unknown parameter".
var plausible = map[string]string{
	"string":    "a",
	"token":     "x",
	"date":      "ge1900-01-01",
	"reference": "1",
	"number":    "1",
	"quantity":  "1",
	"uri":       "http://example.org/x",
}

func (w *world) sampleOf(t *testing.T, typ string) *sample {
	t.Helper()
	r := w.do("GET", "/fhir/"+typ+"?_count=1", "")
	entries, _ := r.body["entry"].([]any)
	if r.status != 200 || len(entries) == 0 {
		t.Fatalf("no %s to probe with: %d %s", typ, r.status, r.raw)
	}
	body := entries[0].(map[string]any)["resource"].(map[string]any)
	meta, _ := body["meta"].(map[string]any)
	version, _ := meta["versionId"].(string)
	return &sample{typ: typ, id: body["id"].(string), version: version, body: body}
}

// checkType holds one resource entry of the statement to its word.
func (w *world) checkType(t *testing.T, res capResource, types []string) {
	listed := codes(res.Interaction)
	s := w.sampleOf(t, res.Type)
	for _, in := range typeInteractions {
		r := w.send(in.probe(s))
		switch {
		case listed[in.code] && !served(r):
			t.Errorf("%s %s is listed but not served: %d %s", res.Type, in.code, r.status, r.raw)
		case !listed[in.code] && !refused(r):
			t.Errorf("%s %s is not listed but not refused: %d %s", res.Type, in.code, r.status, r.raw)
		case in.code == "create" && served(r):
			s.spare, _ = r.body["id"].(string)
		}
	}
	w.checkSearch(t, res, types)
	w.checkOperations(t, res, w.sampleOf(t, res.Type))
	w.checkConditional(t, res, w.sampleOf(t, res.Type), listed)
}

// checkSearch: every listed parameter, include and revinclude answers 200.
func (w *world) checkSearch(t *testing.T, res capResource, types []string) {
	for _, p := range res.SearchParam {
		v, ok := plausible[p.Type]
		if !ok {
			continue // composite, special: no value fits every parameter
		}
		// a reference may need its target type when it has several: a bare
		// id, else "T/1" for some served T, must be answered
		values := []string{v}
		if p.Type == "reference" {
			for _, typ := range types {
				values = append(values, typ+"/"+v)
			}
		}
		var last resp
		for _, v := range values {
			if last = w.do("GET", "/fhir/"+res.Type+"?"+url.Values{p.Name: {v}}.Encode(), ""); last.status == 200 {
				break
			}
		}
		if last.status != 200 {
			t.Errorf("listed search parameter %s?%s (%s) answers %d to each of %v: %s", res.Type, p.Name, p.Type, last.status, values, last.raw)
		}
	}
	for kind, list := range map[string][]string{"_include": res.SearchInclude, "_revinclude": res.SearchRevInclude} {
		for _, v := range list {
			q := "/fhir/" + res.Type + "?" + url.Values{kind: {v}, "_count": {"2"}}.Encode()
			if r := w.do("GET", q, ""); r.status != 200 {
				t.Errorf("listed %s %s: %d %s", kind, v, r.status, r.raw)
			}
		}
	}
	unknown := "/fhir/" + res.Type + "?no-such-parameter=x"
	if r := w.do("GET", unknown, "", "Prefer", "handling=strict"); r.status != 400 {
		t.Errorf("%s: an unlisted parameter is not refused under handling=strict: %d", unknown, r.status)
	}
}

// checkOperations: listed operations are served at the instance or the
// type level; the R4 operations of the type that are not listed are
// refused at both.
func (w *world) checkOperations(t *testing.T, res capResource, s *sample) {
	listed := map[string]bool{}
	for _, op := range res.Operation {
		listed[op.Name] = true
		var hdr []string
		if op.Name == "export" {
			hdr = []string{"Prefer", "respond-async"} // asynchronous: 202 Accepted is its "served"
		}
		inst := w.do("GET", "/fhir/"+res.Type+"/"+s.id+"/$"+op.Name, "", hdr...)
		typ := w.do("GET", "/fhir/"+res.Type+"/$"+op.Name, "", hdr...)
		if !served(inst) && !served(typ) {
			t.Errorf("listed operation %s $%s is not served: instance %d %s; type %d %s", res.Type, op.Name, inst.status, inst.raw, typ.status, typ.raw)
		}
	}
	for _, name := range append(append([]string{}, r4Operations["*"]...), r4Operations[res.Type]...) {
		if listed[name] {
			continue
		}
		for _, path := range []string{"/fhir/" + res.Type + "/" + s.id + "/$" + name, "/fhir/" + res.Type + "/$" + name} {
			if r := w.do("GET", path, ""); !refused(r) {
				t.Errorf("operation $%s is not listed but %s answers %d %s", name, path, r.status, r.raw)
			}
		}
	}
}

// checkConditional: versioning and the conditional flags say what happens.
func (w *world) checkConditional(t *testing.T, res capResource, s *sample, listed map[string]bool) {
	byID := url.Values{"_id": {s.id}}.Encode()
	if listed["update"] && res.Versioning == "versioned-update" {
		r := w.do("PUT", "/fhir/"+res.Type+"/"+s.id, mustJSON(s.body), "If-Match", `W/"0"`)
		if r.status != 412 {
			t.Errorf("versioning %s but a stale If-Match on %s answers %d %s", res.Versioning, res.Type, r.status, r.raw)
		}
	}
	if res.ConditionalCreate {
		r := w.do("POST", "/fhir/"+res.Type, mustJSON(copyOf(s.body)), "If-None-Exist", byID)
		if r.status != 200 || r.body["id"] != s.id {
			t.Errorf("conditionalCreate listed, but If-None-Exist %s answers %d %s", byID, r.status, r.raw)
		}
	}
	if listed["update"] {
		w.checkUpdateCreate(t, res, s)
	}
	put := w.do("PUT", "/fhir/"+res.Type+"?"+byID, mustJSON(s.body))
	if res.ConditionalUpdate != served(put) || (!res.ConditionalUpdate && !refused(put)) {
		t.Errorf("conditionalUpdate %v, but PUT %s?%s answers %d %s", res.ConditionalUpdate, res.Type, byID, put.status, put.raw)
	}
	switch res.ConditionalDelete {
	case "", "not-supported":
		if r := w.do("DELETE", "/fhir/"+res.Type+"?"+byID, ""); !refused(r) {
			t.Errorf("conditionalDelete %q, but DELETE %s?%s answers %d %s", res.ConditionalDelete, res.Type, byID, r.status, r.raw)
		}
	default:
		if !listed["create"] {
			return // nothing of its own to delete
		}
		c := w.do("POST", "/fhir/"+res.Type, mustJSON(copyOf(s.body)))
		id, _ := c.body["id"].(string)
		q := url.Values{"_id": {id}}.Encode()
		if r := w.do("DELETE", "/fhir/"+res.Type+"?"+q, ""); !served(r) {
			t.Errorf("conditionalDelete %q, but DELETE %s?%s answers %d %s", res.ConditionalDelete, res.Type, q, r.status, r.raw)
		}
	}
}

// checkUpdateCreate: an update of an id that does not exist (FHIR-shaped,
// so an id-mapped legacy could take it) creates it exactly when the
// statement says updateCreate.
func (w *world) checkUpdateCreate(t *testing.T, res capResource, s *sample) {
	fresh := "cap-new-" + strings.ToLower(res.Type)
	body := copyOf(s.body)
	body["id"] = fresh
	r := w.do("PUT", "/fhir/"+res.Type+"/"+fresh, mustJSON(body))
	switch {
	case res.UpdateCreate && !served(r):
		t.Errorf("updateCreate true, but PUT %s/%s answers %d %s", res.Type, fresh, r.status, r.raw)
	case !res.UpdateCreate && !refused(r):
		t.Errorf("updateCreate false, but PUT %s/%s answers %d %s", res.Type, fresh, r.status, r.raw)
	case served(r) && r.body["id"] != fresh:
		t.Errorf("PUT %s/%s created %v", res.Type, fresh, r.body["id"])
	}
}

// checkSystem: system interactions and operations are served exactly when
// listed.
func (w *world) checkSystem(t *testing.T, rest capRest) {
	listed := codes(rest.Interaction)
	for _, in := range systemInteractions {
		r := w.send(in.p)
		if listed[in.code] && !served(r) {
			t.Errorf("system %s is listed but not served: %d %s", in.code, r.status, r.raw)
		}
		if !listed[in.code] && !refused(r) {
			t.Errorf("system %s is not listed but not refused: %d %s", in.code, r.status, r.raw)
		}
	}
	for _, op := range rest.Operation {
		// $export is asynchronous: 202 Accepted is its "served"
		if r := w.do("GET", "/fhir/$"+op.Name, "", "Prefer", "respond-async"); !served(r) {
			t.Errorf("listed system operation $%s: %d %s", op.Name, r.status, r.raw)
		}
	}
}
