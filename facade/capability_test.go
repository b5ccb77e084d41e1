package facade_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestCapabilityMatchesR4: every search parameter the CapabilityStatement
// offers exists in the R4 SearchParameter bundle for that type with the same
// type, so clients get the standard meaning; every include names a
// reference parameter.
func TestCapabilityMatchesR4(t *testing.T) {
	raw, err := os.ReadFile(testutil.Shared(t, "fhir-r4/search-parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				Code string   `json:"code"`
				Base []string `json:"base"`
				Type string   `json:"type"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		t.Fatal(err)
	}
	std := map[string]string{} // "Type.code" -> type
	for _, e := range bundle.Entry {
		for _, b := range e.Resource.Base {
			std[b+"."+e.Resource.Code] = e.Resource.Type
		}
	}
	e := newEnv(t, testutil.SQLite)
	cs := e.get("/fhir/metadata")
	for _, r := range cs.body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		res := r.(map[string]any)
		typ := res["type"].(string)
		for _, p := range res["searchParam"].([]any) {
			sp := p.(map[string]any)
			name, ptype := sp["name"].(string), sp["type"].(string)
			want, ok := std[typ+"."+name]
			if !ok {
				want, ok = std["Resource."+name]
			}
			if !ok || want != ptype {
				t.Errorf("%s?%s: facade says %q, R4 says %q (defined: %v)", typ, name, ptype, want, ok)
			}
		}
		incs, _ := res["searchInclude"].([]any)
		for _, inc := range incs {
			parts := strings.Split(inc.(string), ":")
			if std[parts[0]+"."+parts[1]] != "reference" {
				t.Errorf("searchInclude %s is not a reference parameter in R4", inc)
			}
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	e.get("/fhir/Patient/1")
	e.get("/fhir/Patient/424242")
	e.get("/fhir/Nope/1")
	res, err := http.Get(e.ops.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`fhirfacade_requests_total{backend="legacy",interaction="read",status="200",type="Patient"} 1`,
		`fhirfacade_requests_total{backend="legacy",interaction="read",status="404",type="Patient"} 1`,
		`fhirfacade_requests_total{backend="-",interaction="read",status="404",type="-"} 1`,
		`fhirfacade_request_duration_seconds_bucket{backend="legacy",interaction="read",type="Patient"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
