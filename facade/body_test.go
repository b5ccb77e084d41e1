package facade

import "testing"

// TestCheckNUL: a NUL escaped anywhere in a string is refused; the text
// "\u0000" written with an escaped backslash, and other escapes, are not.
func TestCheckNUL(t *testing.T) {
	cases := []struct {
		name, raw string
		refused   bool
	}{
		{"NUL in a name", `{"name":[{"family":"Smi\u0000th"}]}`, true},
		{"NUL at the end", `{"a":"\u0000"}`, true},
		{"upper-case hex", `{"a":"x\U0000"}`, false}, // not a JSON escape at all: \U is invalid JSON, the decoder refuses it
		{"escaped backslash before u0000", `{"a":"\\u0000"}`, false},
		{"escaped backslash, then NUL", `{"a":"\\\u0000"}`, true},
		{"other control escapes", `{"a":"\u0001\t\n\u001f"}`, false},
		{"no escapes", `{"a":"plain"}`, false},
		{"short escape at the end", `{"a":"\u00`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := checkNUL([]byte(c.raw)); (err != nil) != c.refused {
				t.Fatalf("checkNUL(%s) = %v, refused want %v", c.raw, err, c.refused)
			}
		})
	}
}
