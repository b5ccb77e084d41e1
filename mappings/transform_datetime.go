package mappings

import (
	"time"
)

// datetimeTransform maps a zone-less date-time column, read as a wall clock
// in the spec's timezone, as a FHIR dateTime.
func datetimeTransform(s *Spec, _ string) (*transform, error) {
	return &transform{name: "datetime", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			t, ok, err := asTime(v[0])
			if !ok || err != nil {
				return b, "", false, err
			}
			b = append(b, '"')
			b = inZone(t, s.loc).AppendFormat(b, time.RFC3339)
			return append(b, '"'), "", true, nil
		},
		dec: func(_ string, v any) ([]any, error) {
			t, err := parseDateTime(v, s.loc)
			if err != nil {
				return nil, err
			}
			return []any{t}, nil
		}}, nil
}
