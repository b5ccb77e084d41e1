package catalog_test

import (
	"testing"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
)

// TestIDMapped: through the id map, a type legacy can create and update
// supports update-as-create; one it cannot create (or update) keeps what
// its spec says.
func TestIDMapped(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   facade.TypeInfo
		want bool
	}{
		{"create and update", facade.TypeInfo{Create: true, Update: true}, true},
		{"update only", facade.TypeInfo{Update: true}, false},
		{"create only", facade.TypeInfo{Create: true}, false},
		{"read only", facade.TypeInfo{}, false},
		{"spec already allows it", facade.TypeInfo{Create: true, Update: true, UpdateAsCreate: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := catalog.IDMapped(catalog.Static{"X": tc.in}).Type("X")
			if !ok || got.UpdateAsCreate != tc.want {
				t.Fatalf("UpdateAsCreate %v (found %v), want %v", got.UpdateAsCreate, ok, tc.want)
			}
			if got.Create != tc.in.Create || got.Update != tc.in.Update {
				t.Fatalf("IDMapped changed the write interactions: %+v", got)
			}
		})
	}
}
