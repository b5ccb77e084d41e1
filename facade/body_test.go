package facade

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckRawNUL: a NUL escaped anywhere in a string is refused; the text
// "\u0000" written with an escaped backslash, and other escapes, are not.
func TestCheckRawNUL(t *testing.T) {
	cases := []struct {
		name, raw string
		refused   bool
	}{
		{"NUL in a name", `{"name":[{"family":"Smi\u0000th"}]}`, true},
		{"NUL at the end", `{"a":"\u0000"}`, true},
		{"NUL spelled in upper case", `{"a":"x\U0000"}`, false}, // not a JSON escape: the decoder refuses \U
		{"escaped backslash before u0000", `{"a":"\\u0000"}`, false},
		{"escaped backslash, then NUL", `{"a":"\\\u0000"}`, true},
		{"other control escapes", `{"a":"\u0001\t\n\u001f"}`, false},
		{"no escapes", `{"a":"plain"}`, false},
		{"short escape at the end", `{"a":"\u00`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := checkRaw([]byte(c.raw)); (err != nil) != c.refused {
				t.Fatalf("checkRaw(%s) = %v, refused want %v", c.raw, err, c.refused)
			}
		})
	}
}

// TestCheckElements: the one walk of a written body names the first
// element it refuses, in key order:
//   - a Period whose start is wholly after its end (422, per-1); equal
//     bounds, bounds of other precisions that overlap, a missing bound and
//     non-dates pass (non-dates are the structure check's to name);
//   - a string value that is empty or only (XML) whitespace (400),
//     wherever it is (a list, an extension); a value with content, padded
//     or not, and a no-break space pass.
func TestCheckElements(t *testing.T) {
	period := func(start, end string) map[string]any {
		return map[string]any{"period": map[string]any{"start": start, "end": end}}
	}
	cases := []struct {
		name, path string // path "": accepted
		status     int
		res        map[string]any
	}{
		{"reversed", "Encounter.period", 422, period("2024-05-10T10:00:00Z", "2024-05-10T09:00:00Z")},
		{"reversed in a list", "Encounter.location[1].period", 422, map[string]any{"location": []any{
			period("2024-01-01", "2024-02-01"), period("2024-03", "2024-02-28"),
		}}},
		{"reversed across zones", "Encounter.period", 422, period("2024-05-10T10:00:00+02:00", "2024-05-10T07:59:59Z")},
		{"equal", "", 0, period("2024-05-10T10:00:00Z", "2024-05-10T10:00:00Z")},
		{"month holding the day", "", 0, period("2024-05-20", "2024-05")},
		{"same instant in two zones", "", 0, period("2024-05-10T12:00:00+02:00", "2024-05-10T10:00:00Z")},
		{"open end", "", 0, map[string]any{"period": map[string]any{"start": "2024-05-10"}}},
		{"not dates", "", 0, period("soon", "later")},
		{"numbers", "", 0, map[string]any{"start": 10, "end": 2}},
		{"empty family", "Patient.name[0].family", 400, map[string]any{"name": []any{map[string]any{"family": ""}}}},
		{"whitespace family", "Patient.name[0].family", 400, map[string]any{"name": []any{map[string]any{"family": " \t\r\n "}}}},
		{"empty given in a list", "Patient.name[0].given[1]", 400, map[string]any{"name": []any{map[string]any{"given": []any{"Ann", ""}}}}},
		{"empty extension value", "Patient.extension[0].valueString", 400, map[string]any{"extension": []any{map[string]any{"url": "http://x.example/e", "valueString": ""}}}},
		{"empty code", "Patient.gender", 400, map[string]any{"gender": ""}},
		{"first in key order", "Patient.birthDate", 400, map[string]any{"gender": "", "birthDate": " "}},
		{"empty start of a period", "Encounter.period.start", 400, period("", "2024-05-10")},
		{"padded value", "", 0, map[string]any{"name": []any{map[string]any{"family": " Smith "}}}},
		{"no-break space", "", 0, map[string]any{"name": []any{map[string]any{"family": "\u00a0"}}}},
		{"other primitives", "", 0, map[string]any{"active": false, "multipleBirthInteger": json.Number("0"), "photo": []any{}, "x": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := "Patient"
			if r, _, ok := strings.Cut(c.path, "."); ok {
				root = r
			}
			err := checkElements(c.res, root)
			if c.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			he, ok := err.(*HTTPError)
			if !ok || he.Status != c.status || he.Path != c.path || !strings.Contains(he.Msg, c.path) {
				t.Fatalf("got %#v, want a %d at %s", err, c.status, c.path)
			}
		})
	}
}
