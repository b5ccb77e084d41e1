package testutil

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schemaC    *jsonschema.Compiler
	schemaErr  error
	schemaMu   sync.Mutex
	schemas    = map[string]*jsonschema.Schema{}
)

const schemaURL = "http://hl7.org/fhir/json-schema/4.0"

// ValidateFHIR checks one resource's JSON against the shared R4 JSON schema
// (../shared/reference/fhir-r4/fhir.schema.json), by its resourceType.
func ValidateFHIR(t testing.TB, typ string, raw []byte) error {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(Shared(t, "fhir-r4/fhir.schema.json"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		schemaC = jsonschema.NewCompiler()
		schemaErr = schemaC.AddResource(schemaURL, doc)
	})
	if schemaErr != nil {
		t.Fatalf("FHIR schema: %v", schemaErr)
	}
	schemaMu.Lock()
	sch, ok := schemas[typ]
	if !ok {
		var err error
		sch, err = schemaC.Compile(schemaURL + "#/definitions/" + typ)
		if err != nil {
			schemaMu.Unlock()
			t.Fatalf("FHIR schema for %s: %v", typ, err)
		}
		schemas[typ] = sch
	}
	schemaMu.Unlock()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s fails the R4 schema: %v", typ, err)
	}
	return nil
}
