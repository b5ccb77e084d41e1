package mappings

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// intTransform maps a whole-number column as a JSON number; written values
// must be non-negative whole numbers (keys).
func intTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "int", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			n, ok, err := asInt(v[0])
			if !ok || err != nil {
				return b, "", false, err
			}
			return strconv.AppendInt(b, n, 10), "", true, nil
		},
		text: func(v []any) (string, bool, error) {
			n, ok, err := asInt(v[0])
			if !ok || err != nil {
				return "", false, err
			}
			return strconv.FormatInt(n, 10), true, nil
		},
		dec: func(_ string, v any) ([]any, error) {
			var str string
			switch x := v.(type) {
			case string:
				str = x
			case json.Number:
				str = x.String()
			default:
				return nil, errors.New("want a whole number")
			}
			n, err := strconv.ParseInt(str, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%q is not an id this legacy table has", str)
			}
			return []any{n}, nil
		}}, nil
}
