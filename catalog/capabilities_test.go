package catalog_test

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/mappings"
)

func fixture(t *testing.T) catalog.Static {
	t.Helper()
	raw, err := os.ReadFile("testdata/capabilitystatement.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.FromCapabilities(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

type params = map[string]facade.ParamInfo

var (
	ref = func(target, path string) facade.ParamInfo {
		return facade.ParamInfo{Type: "reference", Target: target, Path: path}
	}
	idParams = params{"_id": {Type: "token"}, "_lastUpdated": {Type: "date"}}
)

func with(extra params) params {
	out := params{}
	for k, v := range idParams {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestFromCapabilities: a fixture CapabilityStatement read type by type.
func TestFromCapabilities(t *testing.T) {
	cat := fixture(t)
	want := []string{"AuditEvent", "Condition", "MedicationRequest", "Organization", "Patient", "Person"}
	if got := cat.Types(); !reflect.DeepEqual(got, want) {
		// Practitioner (client mode), Basic (create only), Subscription
		// (not proxied), Project and Patient/../x (not R4) are left out
		t.Fatalf("types %v, want %v", got, want)
	}
	cases := []struct {
		typ  string
		want facade.TypeInfo
	}{
		{"Organization", facade.TypeInfo{Create: true, Update: true, Delete: true, UpdateAsCreate: true, Params: with(params{
			"name":   {Type: "string"},
			"partof": ref("Organization", "partOf"),
			// no type declared: R4's
			"endpoint": ref("Endpoint", "endpoint"),
			// "fancy" (no such type) and "a b" (no such name) are dropped
		})}},
		{"Condition", facade.TypeInfo{Create: true, Params: with(params{
			// patient is subject narrowed to Patient: one target, a path
			"patient": ref("Patient", "subject"),
			// several targets: no target, no include path
			"subject":  ref("", ""),
			"asserter": ref("", ""),
			"code":     {Type: "token"},
			// not an R4 parameter: the server's type only
			"_compartment": ref("", ""),
		}), Compartment: []string{"patient", "asserter"}}},
		// the compartment parameter's path is nested (link.target): the
		// facade cannot check it, so Person cannot be confined
		{"Person", facade.TypeInfo{Params: with(params{
			"patient": ref("Patient", "link.target"),
			"link":    ref("", ""),
		})}},
		// R4's patient is two paths: a target, no path, not confinable
		{"AuditEvent", facade.TypeInfo{Params: with(params{"patient": ref("Patient", "")})}},
		// the compartment's subject (Group or Patient) is confined through
		// patient (the same element, narrowed to Patient); medication[x]'s
		// Reference is the JSON element medicationReference
		{"MedicationRequest", facade.TypeInfo{Params: with(params{
			"medication": ref("Medication", "medicationReference"),
			"patient":    ref("Patient", "subject"),
		}), Compartment: []string{"patient"}}},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			got, ok := cat.Type(c.typ)
			if !ok {
				t.Fatal("missing")
			}
			// the R4 elements come from the generated table (TestElements)
			if got.Elements["id"] != (facade.ElementInfo{Summary: true}) {
				t.Errorf("no R4 elements: %v", got.Elements)
			}
			got.Elements = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestFromCapabilitiesRefuses: what is not a CapabilityStatement is an
// error (the test FHIR server once answered /metadata with a Bundle).
func TestFromCapabilitiesRefuses(t *testing.T) {
	for _, raw := range []string{
		``,
		`<CapabilityStatement/>`,
		`{"resourceType":"Bundle","type":"searchset","total":0}`,
		`{"resourceType":"CapabilityStatement","rest":"server"}`,
	} {
		if _, err := catalog.FromCapabilities([]byte(raw)); !errors.Is(err, catalog.ErrCapabilities) {
			t.Errorf("%q: %v, want ErrCapabilities", raw, err)
		}
	}
	cat, err := catalog.FromCapabilities([]byte(`{"resourceType":"CapabilityStatement"}`))
	if err != nil || len(cat) != 0 {
		t.Errorf("empty statement: %v %v", cat, err)
	}
}

// TestMerge: mapped types keep the specs' description, the others come
// from the server and are listed as upstream-only.
func TestMerge(t *testing.T) {
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	specs, up := catalog.FromSpecs(reg), fixture(t)
	merged, only := catalog.Merge(specs, up)
	// the server's types that no spec maps are upstream-only (which those
	// are follows the embedded specs; the fixture's Patient is mapped and
	// its Person and AuditEvent never are)
	var wantOnly []string
	union := map[string]bool{}
	for _, typ := range up.Types() {
		union[typ] = true
		if _, mapped := specs.Type(typ); !mapped {
			wantOnly = append(wantOnly, typ)
		}
	}
	for _, typ := range specs.Types() {
		union[typ] = true
	}
	if !slices.Contains(wantOnly, "Person") || slices.Contains(wantOnly, "Patient") {
		t.Fatalf("fixture or specs changed: upstream-only would be %v", wantOnly)
	}
	if !reflect.DeepEqual(only, wantOnly) {
		t.Errorf("upstream-only %v, want %v", only, wantOnly)
	}
	if got := merged.Types(); len(got) != len(union) || !sort.StringsAreSorted(got) {
		t.Errorf("merged %v, want the sorted union of %v and %v", got, specs.Types(), up.Types())
	}
	for _, typ := range specs.Types() {
		got, _ := merged.Type(typ)
		if want, _ := specs.Type(typ); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the specs' description was not kept", typ)
		}
	}
	if got, _ := merged.Type("Person"); !reflect.DeepEqual(got, up["Person"]) {
		t.Error("Person: not the server's description")
	}
	gaps := catalog.NotOffered(specs, up)
	for _, want := range []string{"Encounter", "Observation", "Patient?birthdate", "Patient?identifier"} {
		found := false
		for _, g := range gaps {
			found = found || g == want
		}
		if !found {
			t.Errorf("NotOffered lacks %s: %v", want, gaps)
		}
	}
	for _, g := range gaps {
		if g == "Patient?family" || g == "Patient?gender" {
			t.Errorf("NotOffered lists %s, which the server offers", g)
		}
	}
}
