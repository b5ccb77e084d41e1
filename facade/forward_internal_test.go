package facade

import (
	"encoding/json"
	"testing"
)

// TestWithoutCreateIDs: a forwarded transaction carries no id in a POST
// entry's resource (a server that keeps it would replace that resource),
// keeps every other entry and field, and leaves the Bundle it was given as
// it was. The Medplum test server assigns its own ids inside a
// transaction, so only this unit test can see the difference.
func TestWithoutCreateIDs(t *testing.T) {
	in := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","id":"4","gender":"male"},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Patient","id":"5","gender":"female"},"request":{"method":"PUT","url":"Patient/5"}},
		{"resource":{"resourceType":"Observation","status":"final"},"request":{"method":"post","url":"Observation"}},
		{"request":{"method":"GET","url":"Patient/6"}}]}`
	want := `{"entry":[{"fullUrl":"urn:uuid:a","request":{"method":"POST","url":"Patient"},"resource":{"gender":"male","resourceType":"Patient"}},` +
		`{"request":{"method":"PUT","url":"Patient/5"},"resource":{"gender":"female","id":"5","resourceType":"Patient"}},` +
		`{"request":{"method":"post","url":"Observation"},"resource":{"resourceType":"Observation","status":"final"}},` +
		`{"request":{"method":"GET","url":"Patient/6"}}],"resourceType":"Bundle","type":"transaction"}`
	var b map[string]any
	if err := json.Unmarshal([]byte(in), &b); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(b)
	got, _ := json.Marshal(withoutCreateIDs(b))
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if after, _ := json.Marshal(b); string(after) != string(before) {
		t.Errorf("the Bundle given changed: %s", after)
	}
	if got, _ := json.Marshal(withoutCreateIDs(map[string]any{"resourceType": "Bundle"})); string(got) != `{"resourceType":"Bundle"}` {
		t.Errorf("a Bundle without entries: %s", got)
	}
}
