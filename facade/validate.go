package facade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// structures are the typed R4 models (samply/golang-fhir-models) a written
// resource must decode into: unknown elements, wrong JSON types and codes
// outside required value sets are refused before mapping.
var structures = map[string]func() any{
	"Patient": func() any {
		return &struct {
			fhir.Patient
			ResourceType string `json:"resourceType"`
		}{}
	},
	"Encounter": func() any {
		return &struct {
			fhir.Encounter
			ResourceType string `json:"resourceType"`
		}{}
	},
	"Observation": func() any {
		return &struct {
			fhir.Observation
			ResourceType string `json:"resourceType"`
		}{}
	},
}

func validateStructure(typ string, raw []byte) error {
	mk, ok := structures[typ]
	if !ok {
		return nil // no typed model: the mapping's own checks still apply
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(mk()); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return httpErr(400, "structure", fmt.Sprintf("not a valid R4 %s: %s", typ, msg))
	}
	return nil
}
