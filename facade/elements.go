package facade

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// checkElements walks a written resource once, naming by its path (from
// path, the resource type) the first element it refuses, in key order so
// that the same body always names the same one:
//   - a string value that is empty or only whitespace (400): an R4
//     primitive's value is absent or "present with at least one character
//     of non-whitespace content" (formats.html; datatypes.html, string).
//     Legacy stored "" and "   " as given (pat_master.last_nm is NOT
//     NULL) and the read left them out: the element gone behind a 201.
//   - a Period whose start comes after its end (422, per-1; checkPeriod).
//
// checkRaw's byte scan cannot name an element (it keeps no path), so the
// check lives in this walk of the decoded body, which the period check
// already made: both checks share one walk (the structure validation and,
// for patient-scoped writes, the reference check walk the body too).
func checkElements(v any, path string) error {
	switch t := v.(type) {
	case string:
		return checkString(t, path)
	case map[string]any:
		if err := checkPeriod(t, path); err != nil {
			return err
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the first fault named is always the same one
		for _, k := range keys {
			if err := checkElements(t[k], path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range t {
			if err := checkElements(x, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// xmlSpace is what FHIR (XML Schema's \s) counts as whitespace: a
// no-break space is content.
const xmlSpace = " \t\r\n"

// checkString refuses a string value that is empty or only whitespace.
func checkString(v, path string) error {
	if strings.Trim(v, xmlSpace) != "" {
		return nil
	}
	what := "empty"
	if v != "" {
		what = "only whitespace"
	}
	return &HTTPError{Status: 400, Code: "value", Path: path,
		Msg: fmt.Sprintf("%s: the value is %s; a FHIR value is either absent or holds at least one non-whitespace character (leave the element out instead)", path, what)}
}
