package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/facade"
)

// ErrCapabilities is a CapabilityStatement this package cannot read.
var ErrCapabilities = errors.New("unusable CapabilityStatement")

// notProxied are R4 types a FHIR server may offer that the facade does not
// serve on its behalf, mapped or not: they are the server's own
// configuration or description, not clinical data, and writing them would
// change how the server behaves for every client (a Subscription makes the
// server call out to a URL the writer chose; a SearchParameter changes its
// indexes), or they are not stored at all.
var notProxied = map[string]bool{
	"CapabilityStatement": true, "CompartmentDefinition": true, "ImplementationGuide": true,
	"OperationDefinition": true, "SearchParameter": true, "StructureDefinition": true,
	"Subscription": true, "OperationOutcome": true,
}

// searchParamTypes are R4's search parameter types.
var searchParamTypes = map[string]bool{
	"number": true, "date": true, "string": true, "token": true, "reference": true,
	"composite": true, "quantity": true, "uri": true, "special": true,
}

// paramName is a search parameter name the facade passes on.
var paramName = regexp.MustCompile(`^_?[A-Za-z][A-Za-z0-9_-]*$`)

// capabilityStatement is what is read of an R4 CapabilityStatement.
type capabilityStatement struct {
	ResourceType string `json:"resourceType"`
	Rest         []struct {
		Mode        string        `json:"mode"`
		Resource    []capResource `json:"resource"`
		SearchParam []capParam    `json:"searchParam"` // every type's
	} `json:"rest"`
}

type capResource struct {
	Type        string `json:"type"`
	Interaction []struct {
		Code string `json:"code"`
	} `json:"interaction"`
	UpdateCreate bool       `json:"updateCreate"`
	SearchParam  []capParam `json:"searchParam"`
}

type capParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// FromCapabilities describes the types a FHIR server offers, from its
// CapabilityStatement (GET [base]/metadata): the write interactions and
// updateCreate it declares, and its search parameters with their types.
// What a CapabilityStatement does not say is taken from R4: a reference
// parameter's target and element path (for _include and the compartment
// check) from the R4 SearchParameter definitions, compartment membership
// from CompartmentDefinition/patient.
//
// Only R4 resource types the server can read or search are described,
// and never those in notProxied. A reference parameter gets a target and a
// path only when R4 gives it exactly one target type and a plain element
// path: the facade's ParamInfo holds one target.
func FromCapabilities(raw []byte) (Static, error) {
	var cs capabilityStatement
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCapabilities, err)
	}
	if cs.ResourceType != "CapabilityStatement" {
		return nil, fmt.Errorf("%w: the FHIR server's metadata is not a CapabilityStatement (resourceType %q)", ErrCapabilities, cs.ResourceType)
	}
	out := Static{}
	for _, rest := range cs.Rest {
		if rest.Mode != "server" {
			continue
		}
		for _, r := range rest.Resource {
			if info, ok := describe(r, rest.SearchParam); ok {
				out[r.Type] = info
			}
		}
	}
	return out, nil
}

// describe is one type of the CapabilityStatement (ok false: not served).
func describe(r capResource, common []capParam) (facade.TypeInfo, bool) {
	if !r4Types[r.Type] || notProxied[r.Type] {
		return facade.TypeInfo{}, false
	}
	codes := map[string]bool{}
	for _, x := range r.Interaction {
		codes[x.Code] = true
	}
	if !codes["read"] && !codes["search-type"] {
		return facade.TypeInfo{}, false
	}
	info := facade.TypeInfo{
		Params: map[string]facade.ParamInfo{},
		Create: codes["create"], Update: codes["update"], Delete: codes["delete"],
		UpdateAsCreate: codes["update"] && r.UpdateCreate,
	}
	for _, sp := range append(append([]capParam(nil), common...), r.SearchParam...) {
		if p, ok := param(r.Type, sp); ok {
			info.Params[sp.Name] = p
		}
	}
	info.Compartment = compartment(r.Type, info)
	info.Elements = r4Elements[r.Type]
	return info, true
}

// param is one declared search parameter; its type is the server's (R4's
// when the server gives none), its target and path R4's.
func param(typ string, sp capParam) (facade.ParamInfo, bool) {
	if !paramName.MatchString(sp.Name) {
		return facade.ParamInfo{}, false
	}
	def, known := r4Lookup(typ, sp.Name)
	p := facade.ParamInfo{Type: sp.Type}
	if p.Type == "" {
		p.Type = def.Type
	}
	if !searchParamTypes[p.Type] {
		return facade.ParamInfo{}, false
	}
	if p.Type == "reference" && known && def.Type == "reference" && len(def.Targets) == 1 && def.Targets[0] != "*" {
		p.Target, p.Path = def.Targets[0], def.Path
	}
	return p, true
}

// compartment is the parameters through which the facade can place a
// resource of typ in a patient's compartment, from CompartmentDefinition/
// patient. The facade narrows a search by the first one whose target is
// Patient, and reads membership from the one top-level element each leads
// to (its include path, else its name). So:
//   - a parameter whose R4 path is nested or ambiguous is left out (the
//     facade could neither check nor trust it);
//   - a parameter with several targets (subject: Group or Patient) is
//     replaced by the type's parameter on the same element narrowed to
//     Patient, when the server offers one (MedicationRequest's subject by
//     patient = subject.where(resolve() is Patient): the same membership);
//   - otherwise it is kept if the element it leads to is the one R4 names.
//
// A type left with no Patient-target parameter cannot be confined, and
// patient/ scopes are refused on it.
func compartment(typ string, info facade.TypeInfo) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range PatientCompartment[typ] {
		def, _ := r4Lookup(typ, p)
		el := def.Path
		if el == "" || strings.Contains(el, ".") {
			continue
		}
		if info.ReferenceTarget(p) == "Patient" {
			add(p)
		} else if q := patientParamOn(info, el); q != "" {
			add(q)
		} else if facadeElement(info, p) == el {
			add(p)
		}
	}
	return out
}

// patientParamOn is a parameter of info on element el whose only target
// is Patient ("" if none; the first by name if several).
func patientParamOn(info facade.TypeInfo, el string) string {
	for _, q := range info.SearchParams() {
		if path, target, ok := info.IncludePath(q); ok && path == el && target == "Patient" {
			return q
		}
	}
	return ""
}

// facadeElement is the element the facade reads for compartment parameter
// p of info (as facade's elementOf does).
func facadeElement(info facade.TypeInfo, p string) string {
	if path, _, ok := info.IncludePath(p); ok {
		return strings.SplitN(path, ".", 2)[0]
	}
	return p
}

// Merge is the catalog served when a FHIR server is configured: each type
// the mapping specs map keeps the specs' description, and the types only
// the FHIR server offers are added with its description. upstreamOnly
// lists the latter, sorted: they have no legacy side, no route, and are
// always served by the FHIR server.
//
// A mapped type is not narrowed to what both sides can do, nor widened to
// the server's: its route can move back to legacy at any time (and writes
// on `fhir` are mirrored back), so what the facade promises for it must be
// what legacy can keep; one description per type also keeps the
// facade's CapabilityStatement from changing with each flip. NotOffered
// lists where the server falls short of a spec.
func Merge(specs, upstream Static) (merged Static, upstreamOnly []string) {
	merged = Static{}
	for t, info := range upstream {
		if _, mapped := specs[t]; !mapped {
			merged[t] = info
			upstreamOnly = append(upstreamOnly, t)
		}
	}
	for t, info := range specs {
		merged[t] = info
	}
	sort.Strings(upstreamOnly)
	return merged, upstreamOnly
}

// NotOffered lists what the specs serve that the FHIR server does not
// declare ("Type" for a whole type, "Type?param" for a search parameter):
// each stops working once its type is routed to the FHIR server.
func NotOffered(specs, upstream Static) []string {
	var out []string
	for _, t := range specs.Types() {
		up, ok := upstream[t]
		if !ok {
			out = append(out, t)
			continue
		}
		for _, p := range specs[t].SearchParams() {
			if _, ok := up.Params[p]; !ok {
				out = append(out, t+"?"+p)
			}
		}
	}
	return out
}
