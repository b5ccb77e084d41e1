package mappings

import (
	"errors"
	"fmt"
)

// codeTransform maps a legacy code translated through the spec's code map
// named by the argument (code:gender).
func codeTransform(s *Spec, arg string) (*transform, error) {
	m := s.maps[arg]
	if m == nil {
		return nil, fmt.Errorf("code map %q is not defined in codeMaps", arg)
	}
	return &transform{name: "code:" + arg, arity: 1,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			c, ok := m.fwd[str]
			if !ok {
				if m.def == "" {
					return b, "", false, fmt.Errorf("legacy code %q is not in code map %s", str, arg)
				}
				c = m.def
			}
			return appendJSONString(b, c), "", true, nil
		},
		text: func(v []any) (string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return "", false, nil
			}
			c, ok := m.fwd[str]
			if !ok {
				return "", false, fmt.Errorf("legacy code %q is not in code map %s", str, arg)
			}
			return c, true, nil
		},
		dec: func(_ string, v any) ([]any, error) {
			str, ok := v.(string)
			if !ok {
				return nil, errors.New("want a code")
			}
			lc, ok := m.rev[str]
			if !ok {
				return nil, fmt.Errorf("%q has no legacy code (code map %s)", str, arg)
			}
			return []any{lc}, nil
		}}, nil
}
