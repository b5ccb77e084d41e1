package routing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/routing"
)

// TestTombstonesAcrossMoves: a resource deleted on legacy still answers
// 410 once its type is on fhir; one created and deleted on fhir answers 410
// on legacy after the move back (the reverse mirror deleted its legacy row,
// and the shared tombstone says it is gone).
func TestTombstonesAcrossMoves(t *testing.T) {
	stores(t, func(t *testing.T, ctl *control.Store) {
		ctx := context.Background()
		b, store := routedWorld(t, ctl, routing.Legacy)
		move := func(to routing.State, side string) {
			t.Helper()
			if _, err := store.Set(ctx, routing.Move{Type: "Patient", To: to, Actor: "test", Reason: "tombstones across moves", Force: true}); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); b.be("Patient").Name() != side; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the route did not reach %s", to)
				}
			}
		}
		gone := func(id, when string) {
			t.Helper()
			if _, err := b.Read(ctx, "Patient", id); !errors.Is(err, backend.ErrGone) {
				t.Fatalf("%s: read of deleted Patient/%s: %v, want ErrGone", when, id, err)
			}
		}
		body := func(family string) map[string]any {
			return map[string]any{"resourceType": "Patient", "gender": "female", "birthDate": "1970-01-01",
				"name":       []any{map[string]any{"family": family, "given": []any{"Ida"}}},
				"identifier": []any{map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.1", "value": "MRN-" + family}}}
		}
		onLegacy, _, err := b.Create(ctx, "Patient", body("Leg"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "Patient", onLegacy.ID, ""); err != nil {
			t.Fatal(err)
		}
		gone(onLegacy.ID, "on legacy")
		move(routing.Shadow, "legacy")
		move(routing.FHIR, "fhir")
		gone(onLegacy.ID, "on fhir")

		onFHIR, _, err := b.Create(ctx, "Patient", body("Fhi"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "Patient", onFHIR.ID, ""); err != nil {
			t.Fatal(err)
		}
		gone(onFHIR.ID, "on fhir")
		move(routing.Shadow, "legacy") // waits for the reverse mirror to drain
		gone(onFHIR.ID, "back on shadow")
		gone(onLegacy.ID, "back on shadow")
	})
}
