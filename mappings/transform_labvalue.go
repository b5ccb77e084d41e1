package mappings

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
)

// labvalueTransform maps a lab result text and unit as valueQuantity
// (numeric text, with a comparator) or valueString.
func labvalueTransform(_ *Spec, _ string) (*transform, error) {
	return &transform{name: "labvalue", arity: 2, choice: true,
		enc: func(b []byte, v []any) ([]byte, string, bool, error) {
			str, ok := asString(v[0])
			if !ok {
				return b, "", false, nil
			}
			unit, hasUnit := asString(v[1])
			cmp, num := splitComparator(str)
			if !decimalRE.MatchString(num) {
				return appendJSONString(b, str), "String", true, nil
			}
			b = append(b, `{"value":`...)
			b = append(b, num...) // the legacy text is a valid JSON number: precision kept
			if cmp != "" {
				b = append(b, `,"comparator":`...)
				b = appendJSONString(b, cmp)
			}
			if hasUnit {
				b = append(b, `,"unit":`...)
				b = appendJSONString(b, unit)
				b = append(b, `,"system":"http://unitsofmeasure.org","code":`...)
				b = appendJSONString(b, unit)
			}
			return append(b, '}'), "Quantity", true, nil
		},
		dec: func(suffix string, v any) ([]any, error) {
			switch suffix {
			case "String":
				str, ok := v.(string)
				if !ok {
					return nil, errors.New("want a string")
				}
				return []any{str, nil}, nil
			case "Quantity":
				return decodeQuantity(v)
			}
			return nil, fmt.Errorf("value%s cannot be stored (Quantity or String only)", suffix)
		}}, nil
}

// decodeQuantity reads a written valueQuantity into the result text (with
// its comparator) and unit columns.
func decodeQuantity(v any) ([]any, error) {
	q, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("want a Quantity")
	}
	for k := range q {
		switch k {
		case "value", "comparator", "unit", "system", "code":
		default:
			return nil, &backend.ElementError{Path: "." + k, Msg: "the legacy result has no place for it"}
		}
	}
	num, ok := q["value"].(json.Number)
	if !ok {
		return nil, errors.New("valueQuantity.value is required")
	}
	if !decimalRE.MatchString(num.String()) {
		// the legacy text would not read back as this number (1e999, 400
		// digits): it would come back as a valueString, so it is refused,
		// not stored
		return nil, &backend.ElementError{Path: ".value", Msg: "legacy keeps a plain decimal of at most 18 integer and 17 fraction digits, without exponent"}
	}
	cmp, _ := q["comparator"].(string)
	if cmp != "" && cmp != "<" && cmp != "<=" && cmp != ">" && cmp != ">=" {
		return nil, fmt.Errorf("comparator %q is not one of < <= > >=", cmp)
	}
	if sys, ok := q["system"].(string); ok && sys != "http://unitsofmeasure.org" {
		return nil, fmt.Errorf("unit system %q cannot be stored (UCUM only)", sys)
	}
	unit, _ := q["unit"].(string)
	code, _ := q["code"].(string)
	if unit != "" && code != "" && unit != code {
		return nil, errors.New("unit and code differ; the legacy result holds one unit")
	}
	if unit == "" {
		unit = code
	}
	var u any
	if unit != "" {
		u = unit
	}
	return []any{cmp + num.String(), u}, nil
}
