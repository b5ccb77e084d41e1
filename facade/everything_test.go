package facade_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// walk follows an answer's next links and returns every entry's resource
// as "mode Type/id", in order, and the pages it took.
func (e *env) walk(path string, hdr ...string) (keys []string, pages int) {
	e.t.Helper()
	for path != "" {
		r := e.get(path, hdr...)
		e.wantStatus(r, 200, path)
		pages++
		es, _ := r.body["entry"].([]any)
		for _, x := range es {
			en := x.(map[string]any)
			res := en["resource"].(map[string]any)
			keys = append(keys, fmt.Sprintf("%s %s/%s", en["search"].(map[string]any)["mode"], res["resourceType"], res["id"]))
		}
		path = link(r, "next")
		if pages > 200 {
			e.t.Fatal("paging does not end")
		}
	}
	return keys, pages
}

// expected is the patient's compartment found with per-type searches,
// independently of the facade's own walk: the Patient, then, type by type
// in name order, every resource that a search by one of the type's
// parameters in the shared R4 CompartmentDefinition finds for the patient
// (each once, under its first parameter) — for every type the
// CapabilityStatement lists.
func (e *env) expected(patient string) []string {
	e.t.Helper()
	out := []string{"match Patient/" + patient}
	seen := map[string]bool{}
	comp := compartmentParams(e.t)
	served := servedParams(e)
	for _, typ := range sortedKeys(served) {
		if typ == "Patient" {
			continue
		}
		for _, p := range comp[typ] {
			if !served[typ][p] {
				continue
			}
			keys, _ := e.walk("/fhir/"+typ+"?"+p+"=Patient/"+patient+"&_count=1000", "Prefer", "handling=strict")
			for _, k := range keys {
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// servedParams are the search parameters /fhir/metadata lists per type.
func servedParams(e *env) map[string]map[string]bool {
	r := e.get("/fhir/metadata")
	out := map[string]map[string]bool{}
	for _, x := range r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		res := x.(map[string]any)
		ps := map[string]bool{}
		for _, sp := range res["searchParam"].([]any) {
			ps[sp.(map[string]any)["name"].(string)] = true
		}
		out[res["type"].(string)] = ps
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compartmentParams reads the shared R4 Patient CompartmentDefinition:
// the parameters that put each type in a patient's compartment.
func compartmentParams(t *testing.T) map[string][]string {
	raw, err := os.ReadFile(testutil.Shared(t, "fhir-r4/compartmentdefinition-patient.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cd struct {
		Resource []struct {
			Code  string   `json:"code"`
			Param []string `json:"param"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(raw, &cd); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range cd.Resource {
		out[r.Code] = r.Param
	}
	return out
}

// matchesOnly keeps the "match" entries of keys and checks that every
// other one is an include of a type outside the patient compartment.
func matchesOnly(t *testing.T, keys []string) []string {
	comp := compartmentParams(t)
	var out []string
	for _, k := range keys {
		mode, ref, _ := strings.Cut(k, " ")
		typ, _, _ := strings.Cut(ref, "/")
		switch {
		case mode == "match":
			out = append(out, k)
		case mode != "include" || len(comp[typ]) > 0 || typ == "Patient":
			t.Fatalf("%s: only resources outside the compartment may come as includes", k)
		}
	}
	return out
}

// TestEverything: $everything on legacy (every dialect) is the patient and
// its compartment, in any page size, without repeats; _type and _since
// narrow it; every bad parameter is a 400 naming it.
func TestEverything(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		want := e.expected("3")
		if len(want) < 30 {
			t.Fatalf("fixture: %d resources in the compartment, want more than 30", len(want))
		}
		for _, count := range []int{1, 5, 23, len(want), 1000} {
			all, pages := e.walk(fmt.Sprintf("/fhir/Patient/3/$everything?_count=%d", count))
			got := matchesOnly(t, all)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("_count=%d: got\n%s\nwant\n%s", count, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if wantPages := (len(want) + count - 1) / count; pages != wantPages && pages != wantPages+1 {
				t.Fatalf("_count=%d: %d pages, want %d", count, pages, wantPages)
			}
		}
		got, _ := e.walk("/fhir/Patient/3/$everything?_type=Observation,Patient&_count=7")
		if len(got) != 21 || got[0] != "match Patient/3" || !strings.HasPrefix(got[20], "match Observation/") {
			t.Fatalf("_type=Observation,Patient: %v", got)
		}
		if got, _ := e.walk("/fhir/Patient/3/$everything?_since=2100-01-01T00:00:00Z"); len(got) != 0 {
			t.Fatalf("_since in the future: %v", got)
		}
		if got, _ := e.walk("/fhir/Patient/3/$everything?_since=1900-01-01T00:00:00%2B01:00&_count=1000"); len(matchesOnly(t, got)) != len(want) {
			t.Fatalf("_since in the past: %d resources", len(got))
		}
		for _, c := range []struct{ path, status, names string }{
			{"/fhir/Patient/3/$everything?_since=2024-01-01", "400", "_since"},
			{"/fhir/Patient/3/$everything?_type=Medication", "400", "Medication"},
			{"/fhir/Patient/3/$everything?start=2020-01-01", "400", "start"},
			{"/fhir/Patient/3/$everything?_count=0", "400", "_count"},
			{"/fhir/Patient/3/$everything?_count=x", "400", "_count"},
			{"/fhir/Patient/3/$everything?_summary=count", "400", "_summary"},
			{"/fhir/Patient/3/$everything?_summary=yes", "400", "yes"},
			{"/fhir/Patient/3/$everything?_elements=nosuch", "400", "nosuch"},
			{"/fhir/Patient/3/$everything?_page=forged", "400", "token"},
			{"/fhir/Patient/99999/$everything", "404", "99999"},
			{"/fhir/Patient/1'--/$everything", "404", "not found"},
			{"/fhir/Patient/3/$everything?_type=,", "400", "_type"},
			{"/fhir/Patient/3/$everything?_elements=%00", "400", "_elements"},
			{"/fhir/Observation/1/$everything", "404", "Patient only"},
		} {
			r := e.get(c.path)
			e.wantStatus(r, map[string]int{"400": 400, "404": 404}[c.status], c.path)
			if !strings.Contains(outcomeText(r), c.names) {
				t.Errorf("%s: the OperationOutcome does not name %q: %s", c.path, c.names, outcomeText(r))
			}
		}
	})
}

// TestEverythingPost: the POST form takes a Parameters resource.
func TestEverythingPost(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	r := e.do("POST", "/fhir/Patient/2/$everything", `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Encounter"},{"name":"_count","valueInteger":2}]}`)
	e.wantStatus(r, 200, "POST $everything")
	if n := len(entries(r, "match")); n != 2 || link(r, "next") == "" {
		t.Fatalf("POST $everything: %d matches, next %q", n, link(r, "next"))
	}
	e.wantStatus(e.do("POST", "/fhir/Patient/2/$everything", `{"resourceType":"Patient"}`), 400, "not Parameters")
}

// TestEverythingGolden: one $everything page, byte for byte (with the
// server's address replaced).
func TestEverythingGolden(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	r := e.get("/fhir/Patient/1/$everything?_count=100&_elements=status,subject,effective,value,birthDate")
	e.wantStatus(r, 200, "$everything")
	got := bytes.ReplaceAll(r.raw, []byte(e.srv.URL), []byte("http://facade.test"))
	golden := filepath.Join("testdata", "everything.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("$everything differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

// TestEverythingInCapabilityStatement: the operation is declared on Patient.
func TestEverythingInCapabilityStatement(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	r := e.get("/fhir/metadata")
	var ops []string
	for _, x := range r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		res := x.(map[string]any)
		os, _ := res["operation"].([]any)
		for _, o := range os {
			ops = append(ops, res["type"].(string)+"/"+o.(map[string]any)["name"].(string))
		}
	}
	sort.Strings(ops)
	if strings.Join(ops, ",") != "Patient/everything" {
		t.Fatalf("operations: %v", ops)
	}
}

// TestEverythingMixedRoutes: with Patient on the FHIR server and
// Encounter and Observation on legacy (and every other mix), $everything
// answers the same resources as on one backend.
func TestEverythingMixedRoutes(t *testing.T) {
	base := newRoutedEnv(t, map[string]string{"Patient": "legacy", "Encounter": "legacy", "Observation": "legacy"})
	want, _ := base.walk("/fhir/Patient/2/$everything?_count=4")
	if len(want) != 24 {
		t.Fatalf("fixture: %d resources", len(want))
	}
	for _, routes := range []map[string]string{
		{"Patient": "fhir", "Encounter": "legacy", "Observation": "legacy"},
		{"Patient": "legacy", "Encounter": "fhir", "Observation": "legacy"},
		{"Patient": "fhir", "Encounter": "fhir", "Observation": "fhir"},
	} {
		e := newRoutedEnv(t, routes)
		got, _ := e.walk("/fhir/Patient/2/$everything?_count=4")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%v: got\n%s\nwant\n%s", routes, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		e.wantStatus(e.get("/fhir/Patient/404404/$everything"), 404, "unknown patient on "+routes["Patient"])
	}
}
