// Package catalog builds the facade's Catalog of served resource types:
// search parameters, interactions and patient-compartment membership, from
// the mapping specs (the types legacy serves), from the FHIR server's
// CapabilityStatement (types that exist only there), R4's
// CompartmentDefinition/patient and a table derived from R4's
// SearchParameter definitions (both embedded). It is the one place where
// the facade's view of a type meets the mapping engine.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/mappings"
)

//go:embed compartmentdefinition-patient.json
var compartmentJSON []byte

// PatientCompartment is R4 CompartmentDefinition/patient: per resource
// type, the search parameters through which a resource belongs to a
// patient's compartment.
var PatientCompartment, r4Types = mustCompartment(compartmentJSON)

// mustCompartment reads the CompartmentDefinition: its parameters per type,
// and every R4 resource type (the definition lists them all, most with no
// parameter).
func mustCompartment(raw []byte) (map[string][]string, map[string]bool) {
	var def struct {
		Resource []struct {
			Code  string   `json:"code"`
			Param []string `json:"param"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		panic(fmt.Sprintf("catalog: embedded CompartmentDefinition: %v", err))
	}
	params, types := map[string][]string{}, map[string]bool{}
	for _, r := range def.Resource {
		types[r.Code] = true
		if len(r.Param) > 0 {
			params[r.Code] = r.Param
		}
	}
	return params, types
}

// Static is a Catalog over a fixed set of types.
type Static map[string]facade.TypeInfo

var _ facade.Catalog = Static(nil)

// Types implements facade.Catalog.
func (c Static) Types() []string {
	out := make([]string, 0, len(c))
	for t := range c {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Type implements facade.Catalog.
func (c Static) Type(name string) (facade.TypeInfo, bool) {
	t, ok := c[name]
	return t, ok
}

// FromSpecs describes every type the mapping specs serve.
func FromSpecs(reg *mappings.Registry) Static {
	out := Static{}
	for _, typ := range reg.Types() {
		sp := reg.Spec(typ)
		info := facade.TypeInfo{
			Params: map[string]facade.ParamInfo{},
			Create: sp.WriteBack.Create, Update: sp.WriteBack.Update, Delete: sp.WriteBack.Delete,
			UpdateAsCreate: sp.WriteBack.UpdateAsCreate,
			Compartment:    PatientCompartment[typ],
			Elements:       r4Elements[typ],
		}
		for _, name := range sp.SearchParams() {
			p := facade.ParamInfo{Type: sp.ParamType(name), Target: sp.ReferenceTarget(name)}
			if path, _, ok := sp.IncludePath(name); ok {
				p.Path = path
			}
			info.Params[name] = p
		}
		out[typ] = info
	}
	return out
}

// IDMapped describes the types as served through the id map
// (idmap.Backend, which serve always puts in front of legacy): an update of
// an id legacy cannot derive (a FHIR-style id such as "a1b2-c3") creates
// the resource and maps the id, so every type legacy can both create and
// update supports update-as-create — the CapabilityStatement's
// updateCreate says so. An id shaped like a legacy key that does not exist
// is still refused (legacy assigns those).
func IDMapped(c Static) Static {
	out := Static{}
	for typ, info := range c {
		if info.Create && info.Update {
			info.UpdateAsCreate = true
		}
		out[typ] = info
	}
	return out
}

// Live is a Catalog whose contents can be replaced while serving (the
// types only the FHIR server offers join once its CapabilityStatement is
// read). Each call sees one whole catalog.
type Live struct{ p atomic.Pointer[Static] }

var _ facade.Catalog = (*Live)(nil)

// NewLive serves c until Set.
func NewLive(c Static) *Live {
	l := &Live{}
	l.Set(c)
	return l
}

// Set replaces the catalog.
func (l *Live) Set(c Static) { l.p.Store(&c) }

// Types implements facade.Catalog.
func (l *Live) Types() []string { return l.p.Load().Types() }

// Type implements facade.Catalog.
func (l *Live) Type(name string) (facade.TypeInfo, bool) { return l.p.Load().Type(name) }
