package mappings

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// decimalTransform maps an exact number column (decimal, numeric, money,
// or text holding one) as a JSON number that keeps the column's precision:
// 5.4000 stays 5.4000, which FHIR's decimal distinguishes from 5.4.
func decimalTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "decimal", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			str = strings.TrimSpace(str)
			if !decimalRE.MatchString(str) {
				return b, "", false, fmt.Errorf("%q is not a decimal number", str)
			}
			return append(b, str...), "", true, nil
		},
		text: func(v []any) (string, bool, error) {
			str, ok := asString(v[0])
			if ok && !decimalRE.MatchString(strings.TrimSpace(str)) {
				return "", false, fmt.Errorf("%q is not a decimal number", str)
			}
			return strings.TrimSpace(str), ok, nil
		},
		dec: func(_ string, v any) ([]any, error) {
			n, ok := v.(json.Number)
			if !ok || !decimalRE.MatchString(n.String()) {
				return nil, errors.New("want a decimal number")
			}
			return []any{n.String()}, nil
		}}, nil
}
