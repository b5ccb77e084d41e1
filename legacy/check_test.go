package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestCheckWriteAgreesWithCreate: the pure write check (what a `fhir` route
// asks before a write goes upstream) refuses exactly what a real legacy
// create refuses, with the same element, except what only the database can
// tell (an unknown lookup code): it cannot drift from the reverse mirror.
func TestCheckWriteAgreesWithCreate(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		reg := testutil.Seed(t, db, 3)
		b := legacy.New(db, reg)
		ctx := context.Background()
		read := func(typ, id string) map[string]any {
			r, err := b.Read(ctx, typ, id)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(r.JSON))
			dec.UseNumber() // as the facade decodes bodies
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			delete(m, "id")
			delete(m, "meta")
			return m
		}
		obsCode := func(m map[string]any) []any { return m["code"].(map[string]any)["coding"].([]any) }
		n := 0
		cases := []struct {
			name, typ, from string
			edit            func(m map[string]any)
			path            string // "": both accept
			dbOnly          bool   // only the database refuses it
		}{
			{"a Patient as read", "Patient", "1", func(m map[string]any) {}, "", false},
			{"Patient without the MRN", "Patient", "1", func(m map[string]any) { delete(m, "identifier") }, "Patient.identifier[0].value", false},
			{"Patient with an element legacy lacks", "Patient", "1", func(m map[string]any) { m["maritalStatus"] = map[string]any{"text": "M"} }, "Patient.maritalStatus", false},
			{"Patient with a second name", "Patient", "1", func(m map[string]any) { m["name"] = append(m["name"].([]any), map[string]any{"family": "B"}) }, "Patient.name[1]", false},
			{"an Observation as read", "Observation", "1", func(m map[string]any) {}, "", false},
			{"Observation by LOINC only", "Observation", "1", func(m map[string]any) { m["code"].(map[string]any)["coding"] = obsCode(m)[:1] }, "", false},
			{"Observation without a status", "Observation", "1", func(m map[string]any) { delete(m, "status") }, "Observation.status", false},
			{"Observation with an unknown LOINC code", "Observation", "1", func(m map[string]any) {
				c := obsCode(m)[:1]
				c[0].(map[string]any)["code"] = "0000-0"
				m["code"].(map[string]any)["coding"] = c
			}, "Observation.code.coding[0].code", true},
			{"Encounter without a class", "Encounter", "1", func(m map[string]any) { delete(m, "class") }, "Encounter.class.code", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body := read(c.typ, c.from)
				c.edit(body)
				if ids, ok := body["identifier"].([]any); ok { // unique business keys
					n++
					ids[0].(map[string]any)["value"] = fmt.Sprintf("CHK%d", n)
				}
				checkErr := b.CheckWrite(ctx, c.typ, body)
				_, _, createErr := b.Create(ctx, c.typ, body, nil)
				for what, err := range map[string]error{"check": checkErr, "create": createErr} {
					if what == "check" && c.dbOnly {
						if err != nil {
							t.Fatalf("check refused what only the database can tell: %v", err)
						}
						continue
					}
					if c.path == "" {
						if err != nil {
							t.Fatalf("%s refused: %v", what, err)
						}
						continue
					}
					var ee *backend.ElementError
					if !errors.Is(err, backend.ErrUnprocessable) || !errors.As(err, &ee) || ee.Path != c.path {
						t.Fatalf("%s: got %v, want 422 at %s", what, err, c.path)
					}
				}
			})
		}
	})
}
