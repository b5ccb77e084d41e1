package facade

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodedBodyEqualsDecode: a Bundle entry's handler takes the
// resource dispatch marshalled its body from instead of decoding that
// body (decodedBody). That is only right if decoding the body gives an
// equal object: numbers, escapes, HTML characters, invalid UTF-8 and
// nesting must all survive the Bundle's decode, resolveRefs and Marshal.
func TestDecodedBodyEqualsDecode(t *testing.T) {
	for _, tc := range []struct{ name, resource string }{
		{"plain", `{"resourceType":"Patient","gender":"male","birthDate":"1980-03-04"}`},
		{"numbers", `{"resourceType":"Observation","valueQuantity":{"value":5.40},"component":[{"valueInteger":-0},{"valueDecimal":1e3},{"valueDecimal":12345678901234567890.000001}]}`},
		{"escapes", `{"resourceType":"Patient","name":[{"text":"a \"quoted\" \\ name\n\t\u00e9\ud83d\ude00"}]}`},
		{"html", `{"resourceType":"Patient","name":[{"text":"<b>&amp;</b> \u2028 \u2029"}]}`},
		{"invalid utf-8", "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"bad \xff\xfe byte\"}]}"},
		{"nesting and literals", `{"resourceType":"Patient","active":true,"deceasedBoolean":false,"extension":[{"url":"x","extension":[{"url":"y","valueString":""}]}],"photo":[],"contact":[{}],"x":null}`},
		{"references", `{"resourceType":"Encounter","subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// the Bundle's own decode (body: UseNumber)
			dec := json.NewDecoder(bytes.NewReader([]byte(tc.resource)))
			dec.UseNumber()
			var entry map[string]any
			if err := dec.Decode(&entry); err != nil {
				t.Fatal(err)
			}
			var unresolved []string
			given := resolveRefs(entry, map[string]string{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a": "Patient/7"}, &unresolved)
			raw, err := json.Marshal(given)
			if err != nil {
				t.Fatal(err)
			}
			dec = json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var decoded map[string]any
			if err := dec.Decode(&decoded); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(given, decoded) {
				t.Errorf("the handler would see\n%#v\nbut decoding its body gives\n%#v", given, decoded)
			}
		})
	}
}
