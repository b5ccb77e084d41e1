package mappings

import (
	"errors"
)

// stringTransform maps text as a JSON string (the default when a template
// names no transform).
func stringTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "string", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			return appendJSONString(b, str), "", true, nil
		},
		text: func(v []any) (string, bool, error) { s, ok := asString(v[0]); return s, ok, nil },
		dec: func(_ string, v any) ([]any, error) {
			str, ok := v.(string)
			if !ok {
				return nil, errors.New("want a string")
			}
			return []any{str}, nil
		}}, nil
}
