package mappings

import (
	"time"
)

// datetimeTransform maps a zone-less date-time column, read as a wall clock
// in the spec's timezone, as a FHIR dateTime.
func datetimeTransform(s *Spec, _ string) (*transform, error) {
	return &transform{name: "datetime", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			b, ok, err := appendDateTime(b, v[0], s.loc)
			return b, "", ok, err
		},
		dec: func(_ string, v any) ([]any, error) {
			t, err := parseDateTime(v, s.loc)
			if err != nil {
				return nil, err
			}
			return []any{t}, nil
		}}, nil
}

// appendDateTime appends a date-time column's value as a FHIR dateTime in
// loc (ok false for NULL).
func appendDateTime(b []byte, v any, loc *time.Location) ([]byte, bool, error) {
	t, ok, err := asTime(v)
	if !ok || err != nil {
		return b, false, err
	}
	b = append(b, '"')
	b = inZone(t, loc).AppendFormat(b, time.RFC3339)
	return append(b, '"'), true, nil
}
