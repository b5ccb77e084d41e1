package facade

import "testing"

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

// TestCheckPeriods: a Period whose start is wholly after its end is
// refused naming its path; equal bounds, bounds of other precisions that
// overlap, a missing bound and non-dates pass (non-dates are the
// structure check's to name).
func TestCheckPeriods(t *testing.T) {
	cases := []struct {
		name, path string
		res        map[string]any
	}{
		{"reversed", "Encounter.period", map[string]any{"period": map[string]any{"start": "2024-05-10T10:00:00Z", "end": "2024-05-10T09:00:00Z"}}},
		{"reversed in a list", "Encounter.location[1].period", map[string]any{"location": []any{
			map[string]any{"period": map[string]any{"start": "2024-01-01", "end": "2024-02-01"}},
			map[string]any{"period": map[string]any{"start": "2024-03", "end": "2024-02-28"}},
		}}},
		{"reversed across zones", "Encounter.period", map[string]any{"period": map[string]any{"start": "2024-05-10T10:00:00+02:00", "end": "2024-05-10T07:59:59Z"}}},
		{"equal", "", map[string]any{"period": map[string]any{"start": "2024-05-10T10:00:00Z", "end": "2024-05-10T10:00:00Z"}}},
		{"month holding the day", "", map[string]any{"period": map[string]any{"start": "2024-05-20", "end": "2024-05"}}},
		{"same instant in two zones", "", map[string]any{"period": map[string]any{"start": "2024-05-10T12:00:00+02:00", "end": "2024-05-10T10:00:00Z"}}},
		{"open end", "", map[string]any{"period": map[string]any{"start": "2024-05-10"}}},
		{"not dates", "", map[string]any{"period": map[string]any{"start": "soon", "end": "later"}}},
		{"numbers", "", map[string]any{"start": 10, "end": 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkPeriods(c.res, "Encounter")
			if c.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			he, ok := err.(*HTTPError)
			if !ok || he.Status != 422 || he.Path != c.path {
				t.Fatalf("got %#v, want a 422 at %s", err, c.path)
			}
		})
	}
}
