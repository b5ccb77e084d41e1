package testutil

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/fhirfacade/fhirfacade/fhirschema"
)

var (
	schemaOnce sync.Once
	schemaV    *fhirschema.Validator
	schemaErr  error
)

// FHIRValidator is the shared R4 JSON schema
// (../shared/reference/fhir-r4/fhir.schema.json), loaded once per test binary.
func FHIRValidator(t testing.TB) *fhirschema.Validator {
	t.Helper()
	schemaOnce.Do(func() { schemaV, schemaErr = fhirschema.Load(Shared(t, "fhir-r4/fhir.schema.json")) })
	if schemaErr != nil {
		t.Fatalf("FHIR schema: %v", schemaErr)
	}
	return schemaV
}

// ValidateFHIR checks one resource's JSON against the shared R4 JSON schema,
// by its resourceType.
func ValidateFHIR(t testing.TB, typ string, raw []byte) error {
	t.Helper()
	fs, err := FHIRValidator(t).Validate(typ, raw)
	if err != nil {
		if strings.HasPrefix(err.Error(), "not JSON") {
			return err
		}
		t.Fatalf("FHIR schema for %s: %v", typ, err)
	}
	if len(fs) > 0 {
		msgs := make([]string, len(fs))
		for i, f := range fs {
			msgs[i] = f.String()
		}
		return fmt.Errorf("%s fails the R4 schema: %s", typ, strings.Join(msgs, "; "))
	}
	return nil
}
