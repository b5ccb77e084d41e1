package mappings

import (
	"errors"
	"time"
)

// dateTransform maps a DATE column as a FHIR date (YYYY-MM-DD).
func dateTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "date", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			t, ok, err := asTime(v[0])
			if !ok || err != nil {
				return b, "", false, err
			}
			b = append(b, '"')
			b = t.AppendFormat(b, "2006-01-02")
			return append(b, '"'), "", true, nil
		},
		dec: func(_ string, v any) ([]any, error) {
			str, _ := v.(string)
			t, err := time.Parse("2006-01-02", str)
			if err != nil {
				return nil, errors.New("the legacy column holds full dates only (YYYY-MM-DD)")
			}
			if err := legacyYear(t); err != nil {
				return nil, err
			}
			return []any{DateVal{t}}, nil
		}}, nil
}
