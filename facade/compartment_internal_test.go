package facade

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestCompartmentTable checks the patient-compartment parameters against
// the shared copy of R4 CompartmentDefinition/patient.
func TestCompartmentTable(t *testing.T) {
	raw, err := os.ReadFile(testutil.Shared(t, "fhir-r4/compartmentdefinition-patient.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Resource []struct {
			Code  string   `json:"code"`
			Param []string `json:"param"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, r := range def.Resource {
		want[r.Code] = r.Param
	}
	for typ, params := range patientCompartment {
		if !reflect.DeepEqual(params, want[typ]) {
			t.Errorf("%s: table has %v, R4 has %v", typ, params, want[typ])
		}
	}
}
