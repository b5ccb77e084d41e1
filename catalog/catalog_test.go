package catalog_test

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
)

// TestCompartmentMatchesShared: the embedded CompartmentDefinition is the
// shared reference copy.
func TestCompartmentMatchesShared(t *testing.T) {
	shared, err := os.ReadFile(testutil.Shared(t, "fhir-r4/compartmentdefinition-patient.json"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile("compartmentdefinition-patient.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, own) {
		t.Fatal("catalog/compartmentdefinition-patient.json differs from the shared copy")
	}
	for typ, want := range map[string][]string{
		"Encounter":          {"subject"},
		"Observation":        {"subject", "performer"},
		"AllergyIntolerance": {"patient", "recorder", "asserter"},
	} {
		if got := catalog.PatientCompartment[typ]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", typ, got, want)
		}
	}
}

// TestFromSpecs: the demo specs' types, parameters, include paths, write
// interactions and compartment parameters.
func TestFromSpecs(t *testing.T) {
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.FromSpecs(reg)
	// every spec's type, the first three among them
	if got := cat.Types(); !reflect.DeepEqual(got, reg.Types()) || !slices.Contains(got, "Encounter") || !slices.Contains(got, "Observation") || !slices.Contains(got, "Patient") {
		t.Fatalf("types %v, want %v", got, reg.Types())
	}
	obs, ok := cat.Type("Observation")
	if !ok || !obs.Create || !obs.Update || !obs.Delete {
		t.Fatalf("Observation: %+v", obs)
	}
	cases := []struct {
		param string
		want  facade.ParamInfo
	}{
		{"subject", facade.ParamInfo{Type: "reference", Target: "Patient", Path: "subject"}},
		{"encounter", facade.ParamInfo{Type: "reference", Target: "Encounter", Path: "encounter"}},
		{"code", facade.ParamInfo{Type: "token"}},
		{"date", facade.ParamInfo{Type: "date"}},
		{"value-quantity", facade.ParamInfo{Type: "quantity"}},
	}
	for _, c := range cases {
		if got := obs.Params[c.param]; got != c.want {
			t.Errorf("Observation %s: %+v, want %+v", c.param, got, c.want)
		}
	}
	if !reflect.DeepEqual(obs.Compartment, []string{"subject", "performer"}) {
		t.Errorf("Observation compartment %v", obs.Compartment)
	}
	if _, ok := cat.Type("Medication"); ok {
		t.Error("an unmapped type is in the catalog")
	}
}

// TestElements: every served type carries R4's top-level elements with
// their summary, mandatory and modifier flags (from the generated table).
func TestElements(t *testing.T) {
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.FromSpecs(reg)
	for _, c := range []struct {
		typ, el string
		want    facade.ElementInfo
		known   bool
	}{
		{"Patient", "birthDate", facade.ElementInfo{Summary: true}, true},
		{"Patient", "contact", facade.ElementInfo{}, true},
		{"Patient", "deceased[x]", facade.ElementInfo{Summary: true, Modifier: true}, true},
		{"Observation", "status", facade.ElementInfo{Summary: true, Mandatory: true, Modifier: true}, true},
		{"Observation", "code", facade.ElementInfo{Summary: true, Mandatory: true}, true},
		{"Observation", "referenceRange", facade.ElementInfo{}, true},
		{"Observation", "text", facade.ElementInfo{}, true},
		{"Encounter", "class", facade.ElementInfo{Summary: true, Mandatory: true}, true},
		{"Encounter", "birthDate", facade.ElementInfo{}, false},
	} {
		info, ok := cat.Type(c.typ)
		if !ok {
			t.Fatalf("%s not served", c.typ)
		}
		got, known := info.Elements[c.el]
		if known != c.known || got != c.want {
			t.Errorf("%s.%s: %+v %v, want %+v %v", c.typ, c.el, got, known, c.want, c.known)
		}
	}
}
