package facade

import "sort"

// Catalog is what the facade knows of the resource types it serves: their
// search parameters, the interactions they support and their place in the
// patient compartment. The facade learns these only from its Catalog —
// never from mapping specs or SQL — so a type can be described by the
// legacy mappings, by the FHIR server's CapabilityStatement, or both
// (package catalog builds one).
type Catalog interface {
	// Types lists the served types, sorted.
	Types() []string
	// Type describes one type; ok is false for a type not served.
	Type(name string) (info TypeInfo, ok bool)
}

// TypeInfo describes one served type.
type TypeInfo struct {
	// Params are the search parameters by name.
	Params map[string]ParamInfo
	// Create, Update, Delete: the write interactions offered;
	// UpdateAsCreate: an update of an unknown id creates it.
	Create, Update, Delete, UpdateAsCreate bool
	// Compartment lists the search parameters through which a resource of
	// this type belongs to a patient's compartment (R4
	// CompartmentDefinition/patient); Patient itself belongs by its id.
	Compartment []string
	// Elements are the type's top-level R4 elements by name (a choice
	// element as "value[x]") with the flags _summary and _elements need;
	// nil when unknown (then neither can subset the type).
	Elements map[string]ElementInfo
}

// ElementInfo flags one top-level element as R4's StructureDefinition does.
type ElementInfo struct {
	// Summary: part of _summary=true (isSummary).
	Summary bool
	// Mandatory: min cardinality ≥ 1, kept by every subset.
	Mandatory bool
	// Modifier: changes the meaning of the resource (isModifier), kept by
	// _elements.
	Modifier bool
}

// ParamInfo describes one search parameter.
type ParamInfo struct {
	Type string // FHIR search parameter type: string, token, date, reference, quantity, ...
	// Target is a reference parameter's target type ("" otherwise).
	Target string
	// Path is the element a reference parameter follows, for _include
	// ("" when it cannot be included).
	Path string
}

// SearchParams lists the type's parameter names, sorted.
func (t TypeInfo) SearchParams() []string {
	out := make([]string, 0, len(t.Params))
	for n := range t.Params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParamType is a parameter's type ("" when the type has no such parameter).
func (t TypeInfo) ParamType(name string) string { return t.Params[name].Type }

// ReferenceTarget is a reference parameter's target type ("" otherwise).
func (t TypeInfo) ReferenceTarget(name string) string {
	if p := t.Params[name]; p.Type == "reference" {
		return p.Target
	}
	return ""
}

// IncludePath is the element path and target an _include of the parameter
// follows.
func (t TypeInfo) IncludePath(name string) (path, target string, ok bool) {
	p := t.Params[name]
	if p.Type != "reference" || p.Path == "" {
		return "", "", false
	}
	return p.Path, p.Target, true
}

// typeInfo is the catalog's description of typ (zero when not served).
func (s *Server) typeInfo(typ string) (TypeInfo, bool) { return s.cfg.Catalog.Type(typ) }
