package jsonscan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestTopLevel: the byte scanner finds exactly the top-level element, not a
// nested one of the same name, through strings holding braces and quotes.
func TestTopLevel(t *testing.T) {
	cases := []struct {
		raw, name, want string
	}{
		{`{"subject":{"reference":"Patient/1"}}`, "subject", `{"reference":"Patient/1"}`},
		{`{"a":{"subject":{"reference":"Patient/9"}},"subject":{"reference":"Patient/1"}}`, "subject", `{"reference":"Patient/1"}`},
		{`{"note":"x \"subject\": {", "subject" : [ {"reference":"Patient/2"} ] }`, "subject", `[ {"reference":"Patient/2"} ]`},
		{`{"contained":[{"subject":{"reference":"Patient/3"}}]}`, "subject", ``},
		{`{"text":"subject","id":"1"}`, "subject", ``},
		{`{"id":"1","performer":"Patient/4"}`, "performer", `"Patient/4"`},
		{`{"id":1,"subject":7}`, "subject", `7`},
		{`not json`, "subject", ``},
		{`{"subject":`, "subject", ``},
	}
	for _, c := range cases {
		if got := string(TopLevel([]byte(c.raw), c.name)[0]); got != c.want {
			t.Errorf("%s in %s: got %q want %q", c.name, c.raw, got, c.want)
		}
	}
}

// FuzzTopLevel: the scanner never panics; what it finds in valid JSON is
// valid JSON, and equal to what a decoder finds when the key is written
// once and plainly.
func FuzzTopLevel(f *testing.F) {
	f.Add(`{"subject":{"reference":"Patient/1"},"a":[1,{"subject":2}]}`, "subject")
	f.Add(`{"s":"\\\"","subject":[]}`, "subject")
	f.Add(`{"id":1,"subject":7 }`, "subject")
	f.Fuzz(func(t *testing.T, raw, name string) {
		got := TopLevel([]byte(raw), name)[0]
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &m) != nil {
			return
		}
		if got != nil && !json.Valid(got) {
			t.Fatalf("%q in %q: %q is not JSON", name, raw, got)
		}
		key, _ := json.Marshal(name)
		want, ok := m[name]
		if !ok || strings.Count(raw, string(key)) != 1 || strings.ContainsRune(name, '\\') {
			return
		}
		var a, b any
		_ = json.Unmarshal(want, &b)
		if got == nil || json.Unmarshal(got, &a) != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q in %q: scanner %q, decoder %q", name, raw, got, want)
		}
	})
}

func TestString(t *testing.T) {
	cases := []struct {
		raw, want string
		ok        bool
	}{
		{`"Patient"`, "Patient", true},
		{`"a\"b"`, `a"b`, true},
		{`"\u00e9"`, "é", true},
		{`""`, "", true},
		{`7`, "", false},
		{`"`, "", false},
		{`null`, "", false},
		{`{"a":"b"}`, "", false},
		{`"bad \x"`, "", false},
	}
	for _, c := range cases {
		got, ok := String(json.RawMessage(c.raw))
		if got != c.want || ok != c.ok {
			t.Errorf("String(%s) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}
