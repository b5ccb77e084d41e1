package parity

import "testing"

func TestHashNormalises(t *testing.T) {
	base := `{"resourceType":"Observation","id":"1","meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z"},"valueQuantity":{"value":5.40,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`
	same := []string{
		`{"id":"1","resourceType":"Observation","valueQuantity":{"unit":"mg","value":5.4},"effectiveDateTime":"2024-01-05T12:30:00Z"}`,
		`{"resourceType":"Observation","id":"1","meta":{"versionId":"9","source":"#x"},"valueQuantity":{"value":5.400,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`,
	}
	differ := []string{
		`{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.41,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`,
		`{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.4,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:01-05:00"}`,
		`{"resourceType":"Observation","id":"1","meta":{"tag":[{"code":"x"}]},"valueQuantity":{"value":5.4,"unit":"mg"},"effectiveDateTime":"2024-01-05T07:30:00-05:00"}`,
		`{"resourceType":"Observation","id":"1","valueQuantity":{"value":5.4,"unit":"mg"}}`,
	}
	h := Hash([]byte(base))
	for _, s := range same {
		if Hash([]byte(s)) != h {
			t.Errorf("should hash alike: %s", s)
		}
	}
	for _, s := range differ {
		if Hash([]byte(s)) == h {
			t.Errorf("should hash differently: %s", s)
		}
	}
}
