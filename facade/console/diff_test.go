package console

import (
	"strings"
	"testing"
)

// TestDiffMarks: exactly the lines of the differing elements (and what is
// inside them) are marked, and each differing path's values are picked
// from both sides.
func TestDiffMarks(t *testing.T) {
	legacy := []byte(`{"resourceType":"Patient","id":"1","name":[{"family":"Ng","given":["Al"]}],"telecom":[{"value":"1"}],"gender":"male"}`)
	for _, c := range []struct {
		paths  []string
		marked []string // substrings of the marked lines, in order
	}{
		{[]string{"name[0].family"}, []string{`"family": "Ng"`}},
		{[]string{"gender"}, []string{`"gender": "male"`}},
		{[]string{"telecom"}, []string{`"telecom": [`, `{`, `"value": "1"`, `}`, `]`}},
		{[]string{"name[0].given[0]"}, []string{`"Al"`}},
		{nil, nil},
	} {
		var got []string
		for _, l := range diffLines(legacy, c.paths) {
			if l.Diff {
				got = append(got, strings.TrimSpace(l.Text))
			}
		}
		if len(got) != len(c.marked) {
			t.Errorf("%v: marked %q, want %q", c.paths, got, c.marked)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.marked[i]) {
				t.Errorf("%v: line %d marked %q, want %q", c.paths, i, got[i], c.marked[i])
			}
		}
	}
	fhir := []byte(`{"resourceType":"Patient","id":"1","name":[{"family":"Nguyen","given":["Al"]}]}`)
	for _, c := range []struct{ path, legacy, fhir string }{
		{"name[0].family", `"Ng"`, `"Nguyen"`},
		{"gender", `"male"`, ""},
		{"name[3].family", "", ""},
		{"name[0]", `{"family":"Ng","given":["Al"]}`, `{"family":"Nguyen","given":["Al"]}`},
	} {
		d := elementDiffs(legacy, fhir, []string{c.path})[0]
		if d.Legacy != c.legacy || d.FHIR != c.fhir {
			t.Errorf("%s: %q / %q, want %q / %q", c.path, d.Legacy, d.FHIR, c.legacy, c.fhir)
		}
	}
}

// TestSafeNext: after sign-in the browser goes back only to a console page.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		Base + "/move/Patient?to=fhir": Base + "/move/Patient?to=fhir",
		"https://evil.example/":        Base,
		"//evil.example" + Base:        Base,
		Base + "//evil.example":        Base,
		Base + "\\evil":                Base,
		"/fhir/Patient":                Base,
		"":                             Base,
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
