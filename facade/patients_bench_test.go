package facade

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
)

// BenchmarkPatientsOf: the per-resource cost the audit trail adds to every
// search answer (finding the patients a resource belongs to).
func BenchmarkPatientsOf(b *testing.B) {
	s := &Server{cfg: Config{Catalog: oneType{"Observation": {
		Params:      map[string]ParamInfo{"subject": {Type: "reference", Target: "Patient", Path: "subject"}, "performer": {Type: "reference", Target: "Practitioner", Path: "performer"}},
		Compartment: []string{"subject", "performer"},
	}}}}
	r := &backend.Resource{Type: "Observation", ID: "1", JSON: []byte(`{"resourceType":"Observation","id":"1","meta":{"versionId":"1722956290375","lastUpdated":"2024-08-06T10:58:10.375-04:00"},"identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.2","value":"ACC00000001"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose [Mass/volume] in Serum or Plasma"},{"system":"urn:oid:2.16.840.1.113883.3.7777.3","code":"GLU"}],"text":"Glucose [Mass/volume] in Serum or Plasma"},"subject":{"reference":"Patient/1"},"encounter":{"reference":"Encounter/1"},"effectiveDateTime":"2023-03-01T08:30:00-05:00","valueQuantity":{"value":5.40,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"N"}]}],"referenceRange":[{"text":"3.9-6.1"}]}`)}
	b.ReportAllocs()
	for b.Loop() {
		if p := s.patientsOf(r); len(p) != 1 || p[0] != "Patient/1" {
			b.Fatal(p)
		}
	}
}

// oneType is a Catalog for facade's own tests (package catalog imports
// facade, so they cannot use it).
type oneType map[string]TypeInfo

func (c oneType) Types() []string { return nil }
func (c oneType) Type(n string) (TypeInfo, bool) {
	t, ok := c[n]
	return t, ok
}
