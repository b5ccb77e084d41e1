package facade_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestEveryMappedType: for every type of the embedded specs of both demo
// schemas (not a list kept here), on SQLite and PostgreSQL: a search page and a read answer
// 200 with resources that pass the R4 schema, and every search parameter
// the spec declares answers 200 with a match for a real value, taken from
// the served resources through R4's definition of the parameter.
func TestEveryMappedType(t *testing.T) {
	defs := r4Params(t)
	type schema struct {
		name string
		seed func(testing.TB, *sqldb.DB, int) *mappings.Registry
	}
	for _, open := range []struct {
		name string
		db   func(testing.TB) *sqldb.DB
	}{{"sqlite", testutil.SQLite}, {"postgres", testutil.Postgres}} {
		for _, sc := range []schema{{"demo", testutil.Seed}, {"ehr", testutil.SeedEHR}} {
			t.Run(open.name+"/"+sc.name, func(t *testing.T) {
				db := open.db(t)
				reg := sc.seed(t, db, patients)
				everyType(t, newEnvOn(t, db, reg), reg, defs)
			})
		}
	}
}

// everyType checks every type of reg served by e.
func everyType(t *testing.T, e *env, reg *mappings.Registry, defs map[string]r4Param) {
	for _, typ := range reg.Types() {
		t.Run(typ, func(t *testing.T) {
			e.t = t
			page := e.do("GET", "/fhir/"+typ+"?_count=200", "")
			var res []map[string]any
			for _, raw := range entriesRaw(t, page) {
				if err := testutil.ValidateFHIR(t, typ, raw); err != nil {
					t.Errorf("%s", err)
				}
				res = append(res, decodeNum(t, raw))
			}
			if page.status != 200 || len(res) == 0 {
				t.Fatalf("search %s: %d, %d resources", typ, page.status, len(res))
			}
			id := fmt.Sprint(res[0]["id"])
			if r := e.do("GET", "/fhir/"+typ+"/"+url.PathEscape(id), ""); r.status != 200 {
				t.Fatalf("read %s/%s: %d %s", typ, id, r.status, r.raw)
			} else if err := testutil.ValidateFHIR(t, typ, r.raw); err != nil {
				t.Error(err)
			}
			for _, p := range reg.Spec(typ).SearchParams() {
				checkParam(t, e, typ, p, defs[typ+"?"+p], res)
			}
		})
	}
}

// checkParam searches typ by p with a value one of res holds (found by the
// parameter's R4 expression) and wants 200 and a match.
func checkParam(t *testing.T, e *env, typ, p string, def r4Param, res []map[string]any) {
	t.Helper()
	if strings.HasPrefix(p, "_") {
		return // _id and _lastUpdated are the engine's, tested on their own
	}
	if def.Type == "" {
		t.Errorf("%s?%s is not an R4 search parameter of %s", typ, p, typ)
		return
	}
	var value string
	for _, r := range res {
		if value = searchValue(def, r); value != "" {
			break
		}
	}
	if value == "" {
		t.Errorf("%s?%s: no served resource has a value at %s", typ, p, def.Expression)
		return
	}
	q := "/fhir/" + typ + "?" + url.QueryEscape(p) + "=" + url.QueryEscape(value) + "&_count=5"
	r := e.do("GET", q, "")
	if r.status != 200 {
		t.Errorf("%s: %d %s", q, r.status, r.raw)
		return
	}
	if len(entriesRaw(t, r)) == 0 {
		t.Errorf("%s: no match, though a served resource holds the value", q)
	}
}

type r4Param struct {
	Code, Type, Expression string
	Base                   []string
}

// r4Params reads R4's SearchParameter definitions, by "Type?code".
func r4Params(t *testing.T) map[string]r4Param {
	raw, err := os.ReadFile(testutil.Shared(t, "fhir-r4/search-parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct{ Entry []struct{ Resource r4Param } }
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string]r4Param{}
	for _, e := range b.Entry {
		for _, base := range e.Resource.Base {
			out[base+"?"+e.Resource.Code] = e.Resource
		}
	}
	return out
}

// entriesRaw is the JSON of a searchset's resources (OperationOutcome
// entries left out).
func entriesRaw(t *testing.T, r resp) [][]byte {
	var b struct {
		Entry []struct{ Resource json.RawMessage }
	}
	if err := json.Unmarshal(r.raw, &b); err != nil {
		t.Fatalf("not a Bundle: %.300s", r.raw)
	}
	var out [][]byte
	for _, e := range b.Entry {
		if !strings.Contains(string(e.Resource[:min(60, len(e.Resource))]), `"OperationOutcome"`) {
			out = append(out, e.Resource)
		}
	}
	return out
}

var (
	asCast   = regexp.MustCompile(`^\((.*) as (\w+)\)$`)
	asFunc   = regexp.MustCompile(`\.(?:as|ofType)\((\w+)\)`)
	whereSys = regexp.MustCompile(`\.where\((\w+)='([^']*)'\)`)
	whereIs  = regexp.MustCompile(`\.where\(resolve\(\) is (\w+)\)`)
)

// searchValue is a search value for def that r holds: the element at one
// of def's FHIRPath expressions for r's type (the simple forms R4 uses for
// these types: paths, `as`, where(system=...), where(resolve() is T)),
// rendered for the parameter's type. "" when r holds none.
func searchValue(def r4Param, r map[string]any) string {
	typ := fmt.Sprint(r["resourceType"])
	for _, ex := range strings.Split(def.Expression, " | ") {
		ex = strings.TrimSpace(ex)
		// Patient.deceased.exists() and Patient.deceased != false: a
		// boolean, true for a deceasedDateTime too
		ex, _, exists := strings.Cut(ex, ".exists()")
		if strings.HasPrefix(ex, "(") && strings.HasSuffix(ex, ")") && !asCast.MatchString(ex) {
			ex = ex[1 : len(ex)-1]
		}
		if m := asCast.FindStringSubmatch(ex); m != nil {
			ex = m[1] + strings.ToUpper(m[2][:1]) + m[2][1:]
		}
		ex = asFunc.ReplaceAllStringFunc(ex, func(s string) string {
			n := asFunc.FindStringSubmatch(s)[1]
			return strings.ToUpper(n[:1]) + n[1:]
		})
		var filter [2]string
		if m := whereSys.FindStringSubmatch(ex); m != nil {
			filter, ex = [2]string{m[1], m[2]}, whereSys.ReplaceAllString(ex, "")
		}
		refType := ""
		if m := whereIs.FindStringSubmatch(ex); m != nil {
			refType, ex = m[1], whereIs.ReplaceAllString(ex, "")
		}
		rest, ok := strings.CutPrefix(ex, typ+".")
		if !ok || strings.ContainsAny(rest, "()") {
			continue
		}
		for _, leaf := range at(r, strings.Split(rest, ".")) {
			if m, ok := leaf.(map[string]any); ok && filter[0] != "" && fmt.Sprint(m[filter[0]]) != filter[1] {
				continue
			}
			if exists {
				return fmt.Sprint(leaf != false)
			}
			if v := render(def.Type, leaf, refType); v != "" {
				return v
			}
		}
	}
	return ""
}

// at collects the values at a path, arrays flattened; a choice element
// (effective) is found by its typed name (effectiveDateTime).
func at(v any, path []string) []any {
	cur := []any{v}
	for _, step := range path {
		var next []any
		for _, x := range cur {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			y := m[step]
			for k, z := range m {
				if y == nil && len(k) > len(step) && strings.HasPrefix(k, step) && k[len(step)] >= 'A' && k[len(step)] <= 'Z' {
					y = z
				}
			}
			switch y := y.(type) {
			case nil:
			case []any:
				next = append(next, y...)
			default:
				next = append(next, y)
			}
		}
		cur = next
	}
	return cur
}

// render writes an element as a search value of a parameter type.
func render(kind string, v any, refType string) string {
	m, _ := v.(map[string]any)
	switch kind {
	case "reference":
		ref, _ := m["reference"].(string)
		if refType != "" && !strings.HasPrefix(ref, refType+"/") {
			return ""
		}
		return ref
	case "date":
		if m != nil {
			v = m["start"]
		}
		if s, ok := v.(string); ok && len(s) >= 10 {
			return "le" + s[:10] // starts before the end of its own day
		}
	case "quantity":
		if m != nil && m["value"] != nil && m["comparator"] == nil {
			return fmt.Sprint(m["value"])
		}
	case "string":
		s := firstString(v)
		if len(s) >= 3 {
			return s[:3]
		}
		return s
	case "token":
		return token(v)
	}
	return ""
}

func token(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return fmt.Sprint(x)
	case map[string]any:
		if cs, ok := x["coding"].([]any); ok && len(cs) > 0 {
			return token(cs[0])
		}
		sys, _ := x["system"].(string)
		val, _ := x["value"].(string)
		if code, ok := x["code"].(string); ok {
			val = code
		}
		if val == "" {
			return ""
		}
		if strings.Contains(sys, ":") { // an identifier's or coding's URI; a ContactPoint's system is a code
			return sys + "|" + val
		}
		return val
	}
	return ""
}

// firstString is v, or the first string inside it by sorted key (a
// HumanName's family, an Address's city).
func firstString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		for _, y := range x {
			if s := firstString(y); s != "" {
				return s
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if k != "use" && k != "type" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s := firstString(x[k]); s != "" {
				return s
			}
		}
	}
	return ""
}
