package fhirschema

import (
	"strings"
	"testing"
)

// TestValidate: the shared R4 schema accepts a valid Patient and names
// each element of an invalid one as a FHIR path.
func TestValidate(t *testing.T) {
	p := DefaultPath()
	if p == "" {
		t.Fatal("shared schema not found (../shared/reference/fhir-r4/fhir.schema.json)")
	}
	v, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, json string
		want       []string
	}{
		{"valid", `{"resourceType":"Patient","id":"a","gender":"male","name":[{"family":"O'Brien","given":["Zoë"]}],"birthDate":"1978-11-09"}`, nil},
		{"bad values", `{"resourceType":"Patient","gender":"M","name":[{"family":5}],"birthDate":"11/09/1978"}`,
			[]string{"Patient.birthDate: ", "Patient.gender: ", "Patient.name[0].family: "}},
		{"unknown element", `{"resourceType":"Patient","sex":"male"}`, []string{"Patient: additional"}},
	}
	for _, c := range cases {
		fs, err := v.Validate("Patient", []byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(fs) != len(c.want) {
			t.Errorf("%s: %v, want %d failures", c.name, fs, len(c.want))
			continue
		}
		for i, f := range fs {
			if !strings.HasPrefix(f.String(), c.want[i]) {
				t.Errorf("%s: failure %d is %q, want it to start %q", c.name, i, f, c.want[i])
			}
		}
	}
	if _, err := v.Validate("NoSuchType", []byte(`{}`)); err == nil {
		t.Error("unknown type validated")
	}
	if _, err := Load(""); err == nil {
		t.Error("no path: no error")
	}
}
