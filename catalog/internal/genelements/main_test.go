package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// source is the pinned R4 StructureDefinitions the table is derived from
// (installed by npm ci in testdata/fhirserver, as CI does).
var source = filepath.Join("..", "..", "..", "testdata", "fhirserver", "node_modules", "@medplum", "definitions", "dist", "fhir", "r4", "profiles-resources.json")

// TestCommittedTableIsRegenerated: the committed table is what the
// generator makes of the pinned R4 StructureDefinitions.
func TestCommittedTableIsRegenerated(t *testing.T) {
	raw, err := os.ReadFile(source)
	if os.IsNotExist(err) && os.Getenv("CI") == "" {
		t.Skip("run npm ci in testdata/fhirserver first")
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := generate(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "r4-elements.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("catalog/r4-elements.tsv is stale: run go generate ./catalog")
	}
}

// TestRowsOf: which definitions and elements become rows, and their flags.
func TestRowsOf(t *testing.T) {
	sd := func(url, typ, kind string, abstract bool, els ...element) structureDefinition {
		s := structureDefinition{ResourceType: "StructureDefinition", URL: url, Type: typ, Kind: kind, Abstract: abstract, Derivation: "specialization"}
		s.Snapshot.Element = els
		return s
	}
	els := []element{{Path: "Observation"}, {Path: "Observation.id", IsSummary: true},
		{Path: "Observation.status", Min: 1, IsSummary: true, IsModifier: true},
		{Path: "Observation.value[x]", IsSummary: true}, {Path: "Observation.note"},
		{Path: "Observation.component.code", Min: 1, IsSummary: true}}
	cases := []struct {
		name string
		sd   structureDefinition
		want string
	}{
		{"resource", sd(baseURL+"Observation", "Observation", "resource", false, els...),
			"Observation\tid\tS|Observation\tstatus\tSMX|Observation\tvalue[x]\tS|Observation\tnote\t"},
		{"abstract", sd(baseURL+"DomainResource", "DomainResource", "resource", true, els...), ""},
		{"datatype", sd(baseURL+"HumanName", "HumanName", "complex-type", false, els...), ""},
		{"profile", sd("http://example.org/StructureDefinition/x", "Observation", "resource", false, els...), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(rowsOf(c.sd), "|"); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
