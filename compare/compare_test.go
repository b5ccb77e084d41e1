package compare

import "testing"

// TestSameForBoth: Hash (parity) and Diff (shadow reads, parity samples)
// agree on every pair: alike exactly when Diff finds no path.
func TestSameForBoth(t *testing.T) {
	base := `{"resourceType":"Observation","id":"1","meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z"},"valueQuantity":{"value":5.40,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`
	cases := []struct {
		name, other string
		paths       []string // nil: the same resource
	}{
		{"keys reordered, number and instant respelled, no meta", `{"id":"1","resourceType":"Observation","valueQuantity":{"unit":"mg","value":5.4},"effectiveDateTime":"2024-01-05T12:30:00Z"}`, nil},
		{"server meta differs", `{"resourceType":"Observation","id":"1","meta":{"versionId":"9","source":"#x"},"valueQuantity":{"value":5.400,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`, nil},
		{"value", `{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.41,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`, []string{"valueQuantity.value"}},
		{"instant", `{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.4,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:01-05:00"}`, []string{"effectiveDateTime"}},
		{"a meta tag", `{"resourceType":"Observation","id":"1","meta":{"tag":[{"code":"x"}]},"valueQuantity":{"value":5.4,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`, []string{"meta.tag"}},
		{"missing element", `{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.4,"unit":"mg"}}`, []string{"effectiveDateTime"}},
		{"list length", `{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.4,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00","note":[{"text":"a"}]}`, []string{"note"}},
	}
	h := Hash([]byte(base))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Diff([]byte(base), []byte(c.other))
			if len(got) != len(c.paths) || (len(got) > 0 && got[0] != c.paths[0]) {
				t.Fatalf("Diff %v, want %v", got, c.paths)
			}
			if same := Hash([]byte(c.other)) == h; same != (c.paths == nil) {
				t.Fatalf("Hash says same=%v, Diff says %v", same, got)
			}
		})
	}
}
