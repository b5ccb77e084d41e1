package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TestHistoryPage: the server's history Bundle becomes entries newest
// first, with request and response filled in where the server left them
// out, versions of other resources dropped, and the next link sealed into a
// cursor bound to this resource's history.
func TestHistoryPage(t *testing.T) {
	raw := `{"resourceType":"Bundle","type":"history",
	  "link":[{"relation":"next","url":"http://fhir.test/fhir/Patient/p1/_history?_page=2"}],
	  "entry":[
	    {"request":{"method":"DELETE","url":"Patient/p1"},"response":{"status":"204"}},
	    {"resource":{"resourceType":"Patient","id":"p1","meta":{"versionId":"2","lastUpdated":"2024-01-02T00:00:00Z"}}},
	    {"resource":{"resourceType":"Patient","id":"p9","meta":{"versionId":"7"}}},
	    {"resource":{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}},"request":{"method":"POST","url":"Patient"},"response":{"status":"201"}}
	  ]}`
	var hb historyBundle
	if err := json.Unmarshal([]byte(raw), &hb); err != nil {
		t.Fatal(err)
	}
	page, err := historyPage(hb, "Patient", "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, status, vid string }{{"DELETE", "204", ""}, {"PUT", "200", "2"}, {"POST", "201", "1"}}
	if len(page.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(page.Entries), len(want), page.Entries)
	}
	for i, w := range want {
		e := page.Entries[i]
		if e.Method != w.method || e.Status != w.status || e.VersionID != w.vid || (e.Resource == nil) != (w.vid == "") {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	url, err := openCursor(page.Next, "Patient", historyKey("p1"))
	if err != nil || url != "http://fhir.test/fhir/Patient/p1/_history?_page=2" {
		t.Fatalf("cursor: %q %v", url, err)
	}
	if _, err := openCursor(page.Next, "Patient", historyKey("p2")); !errors.Is(err, ErrCursorMismatch) {
		t.Fatalf("the cursor opened for another resource's history: %v", err)
	}
	c, err := New(Config{BaseURL: "http://127.0.0.1:1/fhir"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBackend(c).History(context.Background(), "Patient", "p2", backend.HistoryOptions{Count: 5, Cursor: page.Next}); !errors.Is(err, ErrCursorMismatch) {
		t.Fatalf("History with another resource's cursor: %v", err)
	}
}
