package backendtest

import (
	"encoding/json"
	"net/url"
	"strconv"
)

func parseValues(q string) (url.Values, error) { return url.ParseQuery(q) }

// patient is a Patient the demo legacy schema can hold (US Core shape).
func patient(family, given, gender, birth, phone, mark string) map[string]any {
	p := map[string]any{
		"resourceType": "Patient",
		"identifier": []any{map[string]any{
			"use":    "usual",
			"type":   map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}},
			"system": "urn:oid:2.16.840.1.113883.3.7777.1",
			"value":  mark + "-MRN-" + family[len(family)-1:],
		}},
		"name":      []any{map[string]any{"use": "official", "family": family, "given": []any{given}}},
		"gender":    gender,
		"birthDate": birth,
	}
	if phone != "" {
		p["telecom"] = []any{map[string]any{"system": "phone", "use": "home", "value": phone}}
	}
	return p
}

func encounter(pat, start, end string) map[string]any {
	return map[string]any{
		"resourceType": "Encounter",
		"status":       "finished",
		"class":        map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
		"subject":      map[string]any{"reference": "Patient/" + pat},
		"period":       map[string]any{"start": start, "end": end},
	}
}

func observation(pat, enc, accession, loinc, local string, value float64, when string) map[string]any {
	o := map[string]any{
		"resourceType": "Observation",
		"identifier":   []any{map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.2", "value": accession}},
		"status":       "final",
		"category": []any{map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory"}}}},
		"code": map[string]any{"coding": []any{
			map[string]any{"system": "http://loinc.org", "code": loinc},
			map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.3", "code": local},
		}},
		"subject":           map[string]any{"reference": "Patient/" + pat},
		"effectiveDateTime": when,
		"valueQuantity": map[string]any{"value": jsonNumber(value), "unit": "mg/dL",
			"system": "http://unitsofmeasure.org", "code": "mg/dL"},
	}
	if enc != "" {
		o["encounter"] = map[string]any{"reference": "Encounter/" + enc}
	}
	return o
}

// jsonNumber keeps a value a number the way a decoded request body holds
// it (the facade decodes bodies with UseNumber).
func jsonNumber(v float64) any {
	return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
}
