package catalog

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:generate go run ./internal/gensearchparams ../../shared/reference/fhir-r4/search-parameters.json r4-search-parameters.tsv

//go:embed r4-search-parameters.tsv
var r4TSV string

// r4Param is one R4 search parameter on one base type.
type r4Param struct {
	Type string
	// Targets of a reference parameter ("*": any resource type).
	Targets []string
	// Path is the element the parameter reads, when its FHIRPath
	// expression for this base is a plain path ("" otherwise).
	Path string
}

// r4Params is the generated table, by base type and name.
var r4Params = mustR4(r4TSV)

func mustR4(tsv string) map[string]map[string]r4Param {
	out := map[string]map[string]r4Param{}
	for i, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			panic(fmt.Sprintf("catalog: r4-search-parameters.tsv line %d: %d fields", i+1, len(f)))
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]r4Param{}
		}
		p := r4Param{Type: f[2], Path: f[4]}
		if f[3] != "" {
			p.Targets = strings.Split(f[3], ",")
		}
		out[f[0]][f[1]] = p
	}
	return out
}

// r4Lookup is R4's definition of parameter name on typ, including those
// every resource has (_id, _lastUpdated, ...).
func r4Lookup(typ, name string) (r4Param, bool) {
	for _, base := range []string{typ, "DomainResource", "Resource"} {
		if p, ok := r4Params[base][name]; ok {
			return p, true
		}
	}
	return r4Param{}, false
}
