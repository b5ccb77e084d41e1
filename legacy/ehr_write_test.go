package legacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestEHRWriteBack: Patient write-back on the EHR-style schema — a key the
// database generates (uuid), an instant stamp that may be NULL, a spaced
// column, a decimal, a default for a NOT NULL column the spec ignores —
// on SQLite, PostgreSQL and MariaDB.
func TestEHRWriteBack(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		be := legacy.New(db, testutil.SeedEHR(t, db, 10))
		ctx := context.Background()
		body := func(family, prefix string) map[string]any {
			var m map[string]any
			src := `{"resourceType":"Patient","identifier":[{"use":"usual","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:oid:2.16.840.1.113883.3.7777.2","value":"99000001"}],
				"name":[{"use":"official","family":"` + family + `","given":["Ann"],"prefix":["` + prefix + `"]}],"gender":"female","birthDate":"1980-02-03",
				"deceasedDateTime":"2024-11-04T01:30:00-05:00",
				"address":[{"use":"home","city":"Albany","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/geolocation","extension":[{"url":"latitude","valueDecimal":42.652580},{"url":"longitude","valueDecimal":-73.756230}]}]}]}`
			dec := json.NewDecoder(strings.NewReader(src))
			dec.UseNumber()
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		res, created, err := be.Create(ctx, "Patient", body("Nguyen", "Dr."), nil)
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		got := string(res.JSON)
		for _, want := range []string{`"family":"Nguyen"`, `"prefix":["Dr."]`, `"deceasedDateTime":"2024-11-04T01:30:00-05:00"`, `"valueDecimal":42.65258`} {
			if !strings.Contains(got, want) {
				t.Errorf("created %s lacks %s", got, want)
			}
		}
		var site string
		if err := db.QueryRowContext(ctx, "SELECT "+seed.EHRColumn(db.Dialect, "SiteCode")+" FROM "+seed.EHRTable(db.Dialect, "PatientMaster")+" WHERE "+seed.EHRColumn(db.Dialect, "MRN")+" = '99000001'").Scan(&site); err != nil || site != "NORTH" {
			t.Errorf("SiteCode %q %v: want the default NORTH", site, err)
		}
		upd, _, err := be.Update(ctx, "Patient", res.ID, body("Nguyen-Tran", "Dr."), res.VersionID)
		if err != nil {
			t.Fatalf("update with If-Match: %v", err)
		}
		if !strings.Contains(string(upd.JSON), `"family":"Nguyen-Tran"`) {
			t.Fatalf("updated: %s", upd.JSON)
		}
		if _, _, err := be.Update(ctx, "Patient", res.ID, body("Stale", "Dr."), res.VersionID); !errors.Is(err, backend.ErrPreconditionFailed) {
			t.Errorf("update with a stale If-Match: %v, want 412", err)
		}
		// a seeded row with a NULL ModifiedAt (patient 5) can be updated,
		// and gets a stamp; its SiteCode (SOUTH) is left as it was
		p := seed.EHRPatientData(5)
		old, err := be.Read(ctx, "Patient", p.GUID)
		if err != nil {
			t.Fatal(err)
		}
		b5 := body(p.Last, "Mr.")
		b5["identifier"].([]any)[0].(map[string]any)["value"] = p.MRN
		if upd, _, err = be.Update(ctx, "Patient", p.GUID, b5, old.VersionID); err != nil || upd.LastUpdated.IsZero() {
			t.Fatalf("update of an unstamped row: %v", err)
		}
		if err := db.QueryRowContext(ctx, "SELECT "+seed.EHRColumn(db.Dialect, "SiteCode")+" FROM "+seed.EHRTable(db.Dialect, "PatientMaster")+" WHERE "+seed.EHRColumn(db.Dialect, "MRN")+" = '"+p.MRN+"'").Scan(&site); err != nil || site != p.Site {
			t.Errorf("update changed SiteCode to %q (%v), want %s kept", site, err, p.Site)
		}
		// If-Match on a row without a stamp: the ETag a read served
		p10 := seed.EHRPatientData(10) // ModifiedAt NULL
		r10, err := be.Read(ctx, "Patient", p10.GUID)
		if err != nil {
			t.Fatal(err)
		}
		// (its visits refer to it: the If-Match passes, the database refuses)
		if err := be.Delete(ctx, "Patient", p10.GUID, r10.VersionID); !errors.Is(err, backend.ErrConflict) {
			t.Errorf("delete of an unstamped row with its ETag: %v, want 409 (not 412)", err)
		}
		if err := be.Delete(ctx, "Patient", res.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := be.Read(ctx, "Patient", res.ID); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("read after delete: %v", err)
		}
	})
}

// TestUpdateAsCreateUnderGivenKeys: a uuid key may be given, so an update
// of a uuid legacy has no row for inserts the row under that very key (the
// reverse mirror of a resource the FHIR server created keeps its id);
// another update of it updates that row; If-Match on it is 412; an id
// other than a canonical uuid names no row and is refused. Integer keys
// come from a sequence: an update of an unknown one is still refused.
// Before, every update-as-create was refused.
func TestUpdateAsCreateUnderGivenKeys(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		ctx := context.Background()
		ehrDB, demoDB := open(t), open(t)
		ehr := legacy.New(ehrDB, testutil.SeedEHR(t, ehrDB, 3))
		demo := legacy.New(demoDB, testutil.Seed(t, demoDB, 3))
		patient := func(be *legacy.Backend, id, family string) map[string]any {
			var seedID string
			if be == ehr {
				seedID = seed.EHRPatientData(1).GUID
			} else {
				seedID = "1"
			}
			r, err := be.Read(ctx, "Patient", seedID)
			if err != nil {
				t.Fatal(err)
			}
			m := bodyOf(t, r.JSON)
			delete(m, "extension") // a new EHR Patient's race is legacy's to derive
			m["id"] = id
			m["name"].([]any)[0].(map[string]any)["family"] = family
			m["identifier"].([]any)[0].(map[string]any)["value"] = "MRN-" + family
			return m
		}
		const fresh = "6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"
		for _, c := range []struct {
			name, id, family, ifMatch string
			be                        *legacy.Backend
			created                   bool
			err                       error // nil: accepted
		}{
			{name: "a new uuid is created under it", be: ehr, id: fresh, family: "Givenkey", created: true},
			{name: "the same uuid again updates that row", be: ehr, id: fresh, family: "Givenkey", created: false},
			{name: "If-Match on a uuid with no row", be: ehr, id: "6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e70", family: "Ifmatch", ifMatch: "h1", err: backend.ErrPreconditionFailed},
			{name: "an upper-case uuid is another id", be: ehr, id: strings.ToUpper(fresh), family: "Upper", err: backend.ErrNotSupported},
			{name: "an unknown integer key", be: demo, id: "987654", family: "Intkey", err: backend.ErrNotSupported},
		} {
			t.Run(c.name, func(t *testing.T) {
				r, created, err := c.be.Update(ctx, "Patient", c.id, patient(c.be, c.id, c.family), c.ifMatch)
				if c.err != nil {
					if !errors.Is(err, c.err) {
						t.Fatalf("got %v, want %v", err, c.err)
					}
					return
				}
				if err != nil || created != c.created || r.ID != c.id {
					t.Fatalf("got %v created=%v %+v, want %s created=%v", err, created, r, c.id, c.created)
				}
				var n int
				q := "SELECT COUNT(*) FROM " + seed.EHRTable(ehrDB.Dialect, "PatientMaster") + " WHERE " + seed.EHRColumn(ehrDB.Dialect, "PatientGUID") + " = " + ehrDB.Dialect.Placeholder(1)
				if err := ehrDB.QueryRowContext(ctx, q, c.id).Scan(&n); err != nil || n != 1 {
					t.Fatalf("rows keyed %s: %d %v", c.id, n, err)
				}
			})
		}
	})
}
