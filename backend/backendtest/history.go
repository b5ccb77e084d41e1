package backendtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TestServerForgetsDeletes is the test FHIR server's answer to a read of a
// deleted resource: it drops the resource and answers 404, not 410. The
// facade's tombstone wrapper turns that into 410 for deletes made through
// it; the bare upstream backend passes the 404 on.
var TestServerForgetsDeletes = Deviation{Query: goneAfterDelete, Reason: "the test server forgets a deleted resource (404, not 410 Gone)"}

// goneAfterDelete names the check that a versioned backend answers a read
// of a deleted resource with ErrGone.
const goneAfterDelete = "(read after delete is gone)"

// deviates reports, for a check that is not a search, whether a known
// deviation covers it (and fails if the deviation no longer holds).
func (w *world) deviates(t *testing.T, check string, conforms bool) bool {
	t.Helper()
	for _, d := range w.known {
		if d.Query == check {
			if conforms {
				t.Fatalf("known deviation %q (%s) no longer holds: remove it", d.Query, d.Reason)
			}
			t.Logf("known deviation: %s", d.Reason)
			return true
		}
	}
	return false
}

// testHistory: a backend offering backend.Versioned serves the current
// version by vread and in its history (newest first), refuses a version
// it does not have, and (keeping past versions) lists the update that
// testUpdate made.
func (w *world) testHistory(t *testing.T) {
	v, ok := w.be.(backend.Versioned)
	if !ok || v.HistoryPolicy() == backend.NoHistory {
		t.Skip("the backend offers no history")
	}
	id := w.pats[1] // updated by testUpdate
	cur, err := w.be.Read(w.ctx, "Patient", id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VRead(w.ctx, "Patient", id, cur.VersionID)
	if err != nil || got.ID != id || got.VersionID != cur.VersionID || !strings.Contains(string(got.JSON), `"id":"`+id+`"`) {
		t.Fatalf("vread of the current version %s: %+v %v", cur.VersionID, got, err)
	}
	if _, err := v.VRead(w.ctx, "Patient", id, "999999999"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("vread of an unknown version: %v, want ErrNotFound", err)
	}
	if _, err := v.VRead(w.ctx, "Patient", "999999999", cur.VersionID); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("vread of an unknown resource: %v, want ErrNotFound", err)
	}
	h, err := v.History(w.ctx, "Patient", id, backend.HistoryOptions{Count: 10})
	if err != nil || len(h.Entries) == 0 {
		t.Fatalf("history: %+v %v", h, err)
	}
	first := h.Entries[0]
	if first.Resource == nil || first.VersionID != cur.VersionID || first.Resource.ID != id || first.Method == "" || first.Status == "" {
		t.Fatalf("history's newest entry: %+v, want the current version %s", first, cur.VersionID)
	}
	want := map[backend.HistoryPolicy]int{backend.CurrentOnly: 1, backend.AllVersions: 2}[v.HistoryPolicy()]
	if n := len(h.Entries); (v.HistoryPolicy() == backend.CurrentOnly && n != want) || n < want {
		t.Fatalf("history has %d entries; policy %d wants %d (after one update)", n, v.HistoryPolicy(), want)
	}
	if _, err := v.History(w.ctx, "Patient", "999999999", backend.HistoryOptions{Count: 10}); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("history of an unknown resource: %v, want ErrNotFound", err)
	}
}

// testGone: a versioned backend answers a read, vread and history of a
// resource deleted through it as gone (410), not as never known.
func (w *world) testGone(t *testing.T) {
	v, ok := w.be.(backend.Versioned)
	if !ok || v.HistoryPolicy() == backend.NoHistory {
		t.Skip("the backend offers no history")
	}
	body := patient(w.mark+"-gone", "Gus", "male", "1990-01-01", "", w.mark)
	id := w.create(t, "Patient", body)
	cur, err := w.be.Read(w.ctx, "Patient", id)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.be.Delete(w.ctx, "Patient", id, ""); err != nil {
		t.Fatal(err)
	}
	_, err = w.be.Read(w.ctx, "Patient", id)
	if w.deviates(t, goneAfterDelete, errors.Is(err, backend.ErrGone)) {
		return
	}
	if !errors.Is(err, backend.ErrGone) {
		t.Fatalf("read after delete: %v, want ErrGone", err)
	}
	if _, err := v.VRead(w.ctx, "Patient", id, cur.VersionID); !errors.Is(err, backend.ErrGone) && !(v.HistoryPolicy() == backend.AllVersions && err == nil) {
		t.Fatalf("vread of the deleted version: %v, want ErrGone (or the old version, for a backend keeping every version)", err)
	}
	h, err := v.History(w.ctx, "Patient", id, backend.HistoryOptions{Count: 10})
	if err != nil || len(h.Entries) == 0 || h.Entries[0].Method != "DELETE" || h.Entries[0].Resource != nil {
		t.Fatalf("history after delete: %+v %v, want a DELETE entry first", h, err)
	}
}
