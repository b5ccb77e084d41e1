package mappings

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

// TestSeveralExpressions: one string may hold several {{...}}; a NULL in
// any leaves the whole string out (R2RML's rule), and written back the
// string is split at the literals between them.
func TestSeveralExpressions(t *testing.T) {
	src := `resourceType: Patient
table: p
key: id
id: "{{id | int}}"
lastUpdated: u
template:
  resourceType: Patient
  name:
    - text: "{{[Name Prefix]}} {{first}} {{last}}"
      family: "{{last}}"
  address:
    - text: "{{city}}, {{state}}"
writeBack: {create: true}
`
	reg, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	s := reg.Spec("Patient")
	row := func(prefix, first, last, city, state any) Row {
		r := make(Row, s.NumCols())
		vals := map[string]any{"t.id": int64(1), "t.u": "2024-01-02 03:04:05", "t.Name Prefix": prefix, "t.first": first, "t.last": last, "t.city": city, "t.state": state}
		for i, c := range s.cols {
			r[i] = vals[c]
		}
		return r
	}
	for _, c := range []struct {
		name string
		row  Row
		want []string
		not  []string
	}{
		{"all present", row("Dr.", "Ann", "Lee", "Albany", "NY"), []string{`"text":"Dr. Ann Lee"`, `"text":"Albany, NY"`}, nil},
		{"one NULL leaves the text out", row(nil, "Ann", "Lee", nil, "NY"), []string{`"family":"Lee"`}, []string{`"text"`, "address"}},
	} {
		js, _, err := s.Encode(nil, c.row)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(js), w) {
				t.Errorf("%s: %s lacks %s", c.name, js, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(js), w) {
				t.Errorf("%s: %s has %s", c.name, js, w)
			}
		}
	}
	var res map[string]any
	_ = json.Unmarshal([]byte(`{"resourceType":"Patient","name":[{"text":"Dr. Ann Lee","family":"Lee"}],"address":[{"text":"Albany, NY"}]}`), &res)
	v, err := s.Decode(res)
	if err != nil {
		t.Fatal(err)
	}
	if v["t.Name Prefix"] != "Dr." || v["t.first"] != "Ann" || v["t.city"] != "Albany" || v["t.state"] != "NY" {
		t.Errorf("decoded %v", v)
	}
	bad := strings.Replace(src, `"{{city}}, {{state}}"`, `"{{city}}{{state}}"`, 1)
	if _, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(bad)}}); err == nil || !strings.Contains(err.Error(), "cannot be split") {
		t.Errorf("adjacent expressions: %v", err)
	}
}
