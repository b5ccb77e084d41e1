package mappings

import (
	"errors"
	"fmt"
)

// ynTransform maps a Y/N flag column as a JSON boolean.
func ynTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "yn", arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			switch str {
			case "Y":
				return append(b, "true"...), "", true, nil
			case "N":
				return append(b, "false"...), "", true, nil
			}
			return b, "", false, fmt.Errorf("flag %q is neither Y nor N", str)
		},
		dec: func(_ string, v any) ([]any, error) {
			bv, ok := v.(bool)
			if !ok {
				return nil, errors.New("want true or false")
			}
			return []any{map[bool]string{true: "Y", false: "N"}[bv]}, nil
		}}, nil
}
