package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestCommittedTableIsRegenerated: the committed table is what the
// generator makes of the shared R4 SearchParameter Bundle.
func TestCommittedTableIsRegenerated(t *testing.T) {
	raw, err := os.ReadFile(testutil.Shared(t, "fhir-r4/search-parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := generate(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "r4-search-parameters.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("catalog/r4-search-parameters.tsv is stale: run go generate ./catalog")
	}
}

// TestPathFor: which FHIRPath expressions give an element path and a
// narrowed target.
func TestPathFor(t *testing.T) {
	cases := []struct {
		expr, base, path, target string
	}{
		{"Observation.subject", "Observation", "subject", ""},
		{"Person.link.target", "Person", "link.target", ""},
		{"AllergyIntolerance.patient | Condition.subject.where(resolve() is Patient)", "Condition", "subject", "Patient"},
		{"AllergyIntolerance.patient | Condition.subject.where(resolve() is Patient)", "AllergyIntolerance", "patient", ""},
		{"(MedicationRequest.medication as Reference)", "MedicationRequest", "medicationReference", ""},
		{"(DeviceRequest.code.ofType(Reference))", "DeviceRequest", "codeReference", ""},
		// several parts for one base: no single path
		{"ImagingStudy.endpoint | ImagingStudy.series.endpoint", "ImagingStudy", "", ""},
		{"AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)", "AuditEvent", "", ""},
		// not a plain path
		{"Bundle.entry[0].resource", "Bundle", "", ""},
		{"ActivityDefinition.relatedArtifact.where(type='composed-of').resource", "ActivityDefinition", "", ""},
		{"Task.for.where(resolve() is Patient)", "Task", "for", "Patient"},
		// another type's part is not taken
		{"Encounter.subject", "EncounterDefinition", "", ""},
		{"", "Patient", "", ""},
	}
	for _, c := range cases {
		path, target := pathFor(c.expr, c.base)
		if path != c.path || target != c.target {
			t.Errorf("%s on %s: (%q, %q), want (%q, %q)", c.expr, c.base, path, target, c.path, c.target)
		}
	}
}
