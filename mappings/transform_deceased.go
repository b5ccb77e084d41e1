package mappings

import (
	"errors"
	"fmt"
	"time"
)

// deceasedTransform maps a Y/N flag and a date-time column as
// deceasedBoolean or deceasedDateTime.
func deceasedTransform(s *Spec, _ string) (*transform, error) {
	return &transform{name: "deceased", arity: 2, choice: true,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			if t, ok, err := asTime(v[1]); err != nil {
				return b, "", false, err
			} else if ok {
				b = append(b, '"')
				b = inZone(t, s.loc).AppendFormat(b, time.RFC3339)
				return append(b, '"'), "DateTime", true, nil
			}
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			switch str {
			case "Y":
				return append(b, "true"...), "Boolean", true, nil
			case "N":
				return append(b, "false"...), "Boolean", true, nil
			}
			return b, "", false, fmt.Errorf("deceased flag %q is neither Y nor N", str)
		},
		dec: func(suffix string, v any) ([]any, error) {
			switch suffix {
			case "Boolean":
				bv, ok := v.(bool)
				if !ok {
					return nil, errors.New("want true or false")
				}
				return []any{map[bool]string{true: "Y", false: "N"}[bv], nil}, nil
			case "DateTime":
				t, err := parseDateTime(v, s.loc)
				if err != nil {
					return nil, err
				}
				return []any{"Y", t}, nil
			}
			return nil, fmt.Errorf("deceased%s cannot be stored (Boolean or DateTime only)", suffix)
		}}, nil
}
