package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestEHRClinicalWriteBack: the EHR schema's clinical lists (migration
// 000004) round-trip through write-back on SQLite, PostgreSQL and MariaDB:
// the fullest of a type's first seeded resources, created again without
// its id, reads back the same (codes found again through the lookup joins,
// instants, decimals, references to the patient, visit and provider), is
// updated with If-Match (a stale one is 412) and deleted.
func TestEHRClinicalWriteBack(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		w := ehrWorld{t: t, be: legacy.New(db, testutil.SeedEHR(t, db, 20))}
		for _, typ := range []string{"Condition", "AllergyIntolerance", "MedicationRequest", "Immunization", "Procedure"} {
			t.Run(typ, func(t *testing.T) { w.t = t; ehrRoundTrip(t, w.be, typ, fullest(w.search(typ, "", 40))) })
		}
	})
}

// fullest is the resource of res with the longest JSON.
func fullest(res *backend.SearchResult) []byte {
	var best []byte
	for _, r := range res.Resources {
		if len(r.JSON) > len(best) {
			best = r.JSON
		}
	}
	return best
}

// bodyOf decodes js (numbers kept as written) without id and meta.
func bodyOf(t *testing.T, js []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	delete(m, "id")
	delete(m, "meta")
	return m
}

func ehrRoundTrip(t *testing.T, be *legacy.Backend, typ string, seeded []byte) {
	ctx := context.Background()
	if seeded == nil {
		t.Fatalf("no seeded %s", typ)
	}
	res, created, err := be.Create(ctx, typ, bodyOf(t, seeded), nil)
	if err != nil || !created {
		t.Fatalf("create %s: %v %v", seeded, created, err)
	}
	same := func(what string, got []byte) {
		a, _ := json.Marshal(bodyOf(t, seeded))
		b, _ := json.Marshal(bodyOf(t, got))
		if diff := compare.Diff(a, b); len(diff) > 0 {
			t.Errorf("%s differs from the seeded resource at %v:\n%s\n%s", what, diff, a, b)
		}
	}
	same("created", res.JSON)
	read, err := be.Read(ctx, typ, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	same("read back", read.JSON)
	upd, _, err := be.Update(ctx, typ, res.ID, bodyOf(t, seeded), read.VersionID)
	if err != nil {
		t.Fatalf("update with If-Match: %v", err)
	}
	same("updated", upd.JSON)
	if _, _, err := be.Update(ctx, typ, res.ID, bodyOf(t, seeded), "1"); !errors.Is(err, backend.ErrPreconditionFailed) {
		t.Errorf("update with a stale If-Match: %v, want 412", err)
	}
	if err := be.Delete(ctx, typ, res.ID, upd.VersionID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := be.Read(ctx, typ, res.ID); !errors.Is(err, backend.ErrNotFound) && !errors.Is(err, backend.ErrGone) {
		t.Errorf("read after delete: %v, want 404 or 410", err)
	}
}
