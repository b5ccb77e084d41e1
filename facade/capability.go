package facade

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/backend"
)

type capRest struct {
	Mode     string        `json:"mode"`
	Resource []capResource `json:"resource"`
	// Interaction are the whole-system interactions (POST to the base).
	Interaction []map[string]any `json:"interaction,omitempty"`
	// Operation are the whole-system operations ($export).
	Operation []map[string]any `json:"operation,omitempty"`
}

// systemInteractions are served by POST [base] (transaction.go).
var systemInteractions = []map[string]any{{"code": "transaction"}, {"code": "batch"}}

type capResource struct {
	Type              string           `json:"type"`
	Profile           string           `json:"profile,omitempty"`
	Interaction       []map[string]any `json:"interaction"`
	Versioning        string           `json:"versioning"`
	ReadHistory       bool             `json:"readHistory"`
	UpdateCreate      bool             `json:"updateCreate"`
	ConditionalCreate bool             `json:"conditionalCreate"`
	ConditionalUpdate bool             `json:"conditionalUpdate"`
	ConditionalDelete string           `json:"conditionalDelete"`
	SearchInclude     []string         `json:"searchInclude,omitempty"`
	SearchRevInclude  []string         `json:"searchRevInclude,omitempty"`
	SearchParam       []map[string]any `json:"searchParam,omitempty"`
	Operation         []map[string]any `json:"operation,omitempty"`
	Extension         []map[string]any `json:"extension,omitempty"`
}

// metadata is the CapabilityStatement, generated from the mapping specs and
// the current routes: only what is really served is listed.
func (s *Server) metadata(c echo.Context) error {
	reqOf(c).interaction = "capabilities"
	cat := s.cfg.Catalog
	routes := s.routes(c)
	var res []capResource
	revIncludes := revIncludesOf(cat)
	for _, typ := range cat.Types() {
		be := routes.BackendFor(typ)
		if be == nil {
			continue
		}
		sp, _ := cat.Type(typ)
		cr := interactions(typ, sp, backend.PolicyOf(be))
		for _, p := range sp.SearchParams() {
			cr.SearchParam = append(cr.SearchParam, map[string]any{"name": p, "type": sp.ParamType(p)})
			if _, _, ok := sp.IncludePath(p); ok {
				cr.SearchInclude = append(cr.SearchInclude, typ+":"+p)
			}
		}
		cr.SearchRevInclude = revIncludes[typ]
		cr.Operation = append(append([]map[string]any(nil), typeOperations[typ]...), s.bulkTypeOperations(typ)...)
		// which backend answers the type right now (the route)
		cr.Extension = []map[string]any{{"url": "https://fhirfacade.dev/StructureDefinition/route-backend", "valueCode": be.Name()}}
		res = append(res, cr)
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         s.started.UTC().Format(time.RFC3339),
		"publisher":    "fhirfacade",
		"kind":         "instance",
		"software":     map[string]any{"name": "fhirfacade", "version": s.cfg.Version},
		"implementation": map[string]any{
			"description": "FHIR R4 facade over a legacy clinical database",
			"url":         s.base(c),
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "json"},
		"rest":        []capRest{{Mode: "server", Resource: res, Interaction: systemInteractions, Operation: s.bulkSystemOperations()}},
	}
	return writeJSON(c, 200, cs)
}

// interactions is a type's entry without its search parameters: the
// interactions its mapping and its backend serve. Versioning is
// "versioned" on every backend (meta.versionId is kept and If-Match is
// honoured, not required: that would be versioned-update); readHistory
// only where past versions are kept (a FHIR server — legacy serves the
// current version only).
func interactions(typ string, sp TypeInfo, policy backend.HistoryPolicy) capResource {
	cr := capResource{Type: typ, Profile: "http://hl7.org/fhir/StructureDefinition/" + typ,
		Versioning: "versioned", ReadHistory: policy == backend.AllVersions, UpdateCreate: sp.UpdateAsCreate,
		ConditionalCreate: sp.Create, ConditionalUpdate: sp.Update, ConditionalDelete: "not-supported"}
	if sp.Delete {
		cr.ConditionalDelete = "single"
	}
	cr.Interaction = append(cr.Interaction, map[string]any{"code": "read"})
	for _, x := range []struct {
		on   bool
		code string
	}{{policy != backend.NoHistory, "vread"}, {policy != backend.NoHistory, "history-instance"}, {true, "search-type"},
		{sp.Create, "create"}, {sp.Update, "update"}, {sp.Delete, "delete"}} {
		if x.on {
			cr.Interaction = append(cr.Interaction, map[string]any{"code": x.code})
		}
	}
	return cr
}

// typeOperations are the operations the facade serves per type
// (everything.go).
var typeOperations = map[string][]map[string]any{
	"Patient": {{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}},
}

// revIncludesOf lists, by target type, the "Type:param" reference
// parameters that point at it: one pass over the catalog (asking each type
// of every other type's parameters made /metadata quadratic in the number
// of types, 75–170 ms with an upstream's 137).
func revIncludesOf(cat Catalog) map[string][]string {
	out := map[string][]string{}
	for _, other := range cat.Types() {
		os, _ := cat.Type(other)
		for _, p := range os.SearchParams() {
			if _, target, ok := os.IncludePath(p); ok {
				out[target] = append(out[target], other+":"+p)
			}
		}
	}
	return out
}
