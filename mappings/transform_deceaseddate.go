package mappings

import (
	"errors"
	"fmt"
)

// deceasedDateTransform maps one death date or date-time column (no Y/N
// flag, as many schemas have it) as deceasedDateTime; NULL leaves the
// element out (alive, or not known to be dead). Written back, a
// deceasedBoolean false clears it; true cannot be stored without a date.
func deceasedDateTransform(s *Spec, _ string) (*transform, error) {
	return &transform{name: "deceasedDate", arity: 1, choice: true,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			b, ok, err := appendDateTime(b, v[0], s.loc)
			if !ok || err != nil {
				return b, "", false, err
			}
			return b, "DateTime", true, nil
		},
		dec: func(suffix string, v any) ([]any, error) {
			switch suffix {
			case "Boolean":
				if bv, ok := v.(bool); ok && !bv {
					return []any{nil}, nil
				}
				return nil, errors.New("the legacy table keeps a date of death only: send deceasedDateTime")
			case "DateTime":
				t, err := parseDateTime(v, s.loc)
				if err != nil {
					return nil, err
				}
				return []any{t}, nil
			}
			return nil, fmt.Errorf("deceased%s cannot be stored (DateTime only)", suffix)
		}}, nil
}
