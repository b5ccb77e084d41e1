package tombstone_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/tombstone"
)

func patient(family string) map[string]any {
	return map[string]any{"resourceType": "Patient", "gender": "male", "birthDate": "1990-01-02",
		"name":       []any{map[string]any{"family": family, "given": []any{"Tom"}}},
		"identifier": []any{map[string]any{"system": "urn:oid:2.16.840.1.113883.3.7777.1", "value": "MRN-" + family}}}
}

// failingPut is the control store with its tombstone writes failing (the
// store down at the moment of a delete).
type failingPut struct{ *control.Store }

func (failingPut) PutTombstone(context.Context, control.Tombstone) error {
	return errors.New("control store unreachable")
}

// world is legacy SQLite with tombstones in a control store on dsn.
func world(t *testing.T, dsn string) (*tombstone.Backend, *control.Store) {
	db := testutil.SQLite(t)
	ctl := controlStore(t, dsn)
	return &tombstone.Backend{Inner: legacy.New(db, testutil.Seed(t, db, 2)), Store: ctl}, ctl
}

// TestCrashWindow: the tombstone is written before the resource is
// deleted. A crash between the two leaves a live resource beside its
// tombstone, which reads as live (a live resource wins) until deleted
// again; a tombstone that cannot be written refuses the delete, so no
// resource is ever deleted without one.
func TestCrashWindow(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		b, ctl := world(t, dsn)
		r, _, err := b.Create(ctx, "Patient", patient("Crash"), nil)
		if err != nil {
			t.Fatal(err)
		}

		// the store fails at the delete: refused, nothing deleted
		down := &tombstone.Backend{Inner: b.Inner, Store: failingPut{ctl}}
		if err := down.Delete(ctx, "Patient", r.ID, ""); !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("delete without a tombstone: %v, want ErrUnavailable", err)
		}
		if _, err := b.Read(ctx, "Patient", r.ID); err != nil {
			t.Fatalf("the resource was deleted although its tombstone was not written: %v", err)
		}

		// the process dies after the tombstone, before the delete
		if err := ctl.PutTombstone(ctx, control.Tombstone{Type: "Patient", ID: r.ID, VersionID: r.VersionID, DeletedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		restarted := &tombstone.Backend{Inner: b.Inner, Store: ctl}
		got, err := restarted.Read(ctx, "Patient", r.ID)
		if err != nil || got.VersionID != r.VersionID {
			t.Fatalf("a live resource beside its tombstone: %v %v, want it served", got, err)
		}
		h, err := restarted.History(ctx, "Patient", r.ID, backend.HistoryOptions{Count: 10})
		if err != nil || len(h.Entries) != 1 || h.Entries[0].Method != "PUT" {
			t.Fatalf("history of a live resource beside its tombstone: %+v %v", h, err)
		}
		// the client, which got no answer, deletes again
		if err := restarted.Delete(ctx, "Patient", r.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := restarted.Read(ctx, "Patient", r.ID); !errors.Is(err, backend.ErrGone) {
			t.Fatalf("read after the retried delete: %v, want ErrGone", err)
		}
	})
}

// TestTombstoneRules: a failed If-Match leaves no tombstone; deleting what
// never existed leaves none (404 stays 404); a create that gets a deleted
// id again clears it.
func TestTombstoneRules(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		b, ctl := world(t, dsn)
		r, _, err := b.Create(ctx, "Patient", patient("Rules"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "Patient", r.ID, "stale"); !errors.Is(err, backend.ErrPreconditionFailed) {
			t.Fatalf("delete with a stale If-Match: %v", err)
		}
		if _, found, _ := ctl.TombstoneOf(ctx, "Patient", r.ID); found {
			t.Fatal("a refused delete left a tombstone")
		}
		if err := b.Delete(ctx, "Patient", "999999", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Read(ctx, "Patient", "999999"); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("read of a never-existing resource after its delete: %v, want ErrNotFound", err)
		}
		// the next ids legacy will hand out carry tombstones (as after a
		// delete of the newest row, on a table that reuses keys)
		n, _ := strconv.Atoi(r.ID)
		for i := 1; i <= 3; i++ {
			if err := ctl.PutTombstone(ctx, control.Tombstone{Type: "Patient", ID: strconv.Itoa(n + i), VersionID: "1", DeletedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		nr, _, err := b.Create(ctx, "Patient", patient("Again"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, found, _ := ctl.TombstoneOf(ctx, "Patient", nr.ID); found {
			t.Fatalf("a create of %s left its old tombstone", nr.ID)
		}
		if err := b.Delete(ctx, "Patient", nr.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.VRead(ctx, "Patient", nr.ID, nr.VersionID); !errors.Is(err, backend.ErrGone) {
			t.Fatalf("vread after delete: %v, want ErrGone", err)
		}
	})
}

// TestTransactClearsAfterCommit: inside a unit, the creates' tombstone
// clears wait for the commit and then run together; a unit that rolls
// back clears nothing (the id answers 410 as before, not 404).
func TestTransactClearsAfterCommit(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		b, ctl := world(t, dsn)
		boom := errors.New("last entry fails")
		for _, tc := range []struct {
			name     string
			fail     error
			wantKept bool
		}{{"commit", nil, false}, {"rollback", boom, true}} {
			var ids []string
			err := b.Transact(ctx, []string{"Patient"}, func(ctx context.Context) error {
				ids = ids[:0]
				for i := range 3 {
					r, _, err := b.Create(ctx, "Patient", patient(tc.name+strconv.Itoa(i)), nil)
					if err != nil {
						return err
					}
					// the id had a tombstone (a delete long ago): the create must
					// clear it, but only once the unit has committed
					if err := ctl.PutTombstone(ctx, control.Tombstone{Type: "Patient", ID: r.ID, VersionID: "1", DeletedAt: time.Now()}); err != nil {
						return err
					}
					ids = append(ids, r.ID)
				}
				for _, id := range ids {
					if _, found, _ := ctl.TombstoneOf(ctx, "Patient", id); !found {
						t.Errorf("%s: Patient/%s's tombstone cleared before the unit ended", tc.name, id)
					}
				}
				return tc.fail
			})
			if !errors.Is(err, tc.fail) {
				t.Fatalf("%s: Transact: %v", tc.name, err)
			}
			for _, id := range ids {
				if _, found, err := ctl.TombstoneOf(ctx, "Patient", id); err != nil || found != tc.wantKept {
					t.Errorf("%s: Patient/%s tombstone kept %v (err %v), want %v", tc.name, id, found, err, tc.wantKept)
				}
			}
		}
	})
}
