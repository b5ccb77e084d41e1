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
		// R4 allows one type of a choice element; the JSON schema alone
		// accepts both (how an EHR Observation with a text result and the
		// view's default unit once carried valueQuantity and valueString)
		{"two choices", `{"resourceType":"Patient","deceasedBoolean":false,"deceasedDateTime":"2020-01-01"}`,
			[]string{"Patient.deceasedBoolean: deceasedBoolean and deceasedDateTime are two types of the choice element deceased[x]"}},
		{"two choices nested", `{"resourceType":"Patient","extension":[{"url":"http://e","valueString":"a","valueCode":"b"}]}`,
			[]string{"Patient.extension[0].valueCode: valueCode and valueString are two types of the choice element value[x]"}},
		{"one choice each", `{"resourceType":"Patient","deceasedBoolean":false,"multipleBirthInteger":2,"extension":[{"url":"http://e","valueString":"a"}]}`, nil},
	}
	for _, c := range cases {
		typ, _, _ := strings.Cut(strings.TrimPrefix(c.json, `{"resourceType":"`), `"`)
		fs, err := v.Validate(typ, []byte(c.json))
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
	// the case that escaped: an Observation with a text result whose view
	// filled the unit (valueQuantity without a value, and valueString)
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"CRP"},"valueQuantity":{"unit":"mg/L"},"valueString":"<0.5"}`
	if fs, err := v.Validate("Observation", []byte(obs)); err != nil || len(fs) != 1 || !strings.Contains(fs[0].Msg, "valueQuantity and valueString") {
		t.Errorf("Observation with valueQuantity and valueString: %v %v", fs, err)
	}
	if _, err := v.Validate("NoSuchType", []byte(`{}`)); err == nil {
		t.Error("unknown type validated")
	}
	if _, err := Load(""); err == nil {
		t.Error("no path: no error")
	}
}
