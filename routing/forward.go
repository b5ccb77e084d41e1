package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/events"
)

var _ backend.BundleSender = routed{}

// txBundle is what the router reads of a transaction Bundle.
type txBundle struct {
	Entry []struct {
		FullURL  string         `json:"fullUrl"`
		Resource map[string]any `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

// txResponse is what the router reads of a transaction-response.
type txResponse struct {
	Entry []struct {
		Response struct {
			Status   string `json:"status"`
			Location string `json:"location"`
			Etag     string `json:"etag"`
		} `json:"response"`
	} `json:"entry"`
}

// SendTransaction implements backend.BundleSender for a transaction whose
// mapped types all write to the FHIR server (fhir and fhir-only routes;
// upstream-only types pass unfenced): every mapped type's fence is held
// while the FHIR server runs the Bundle, each written resource is checked
// as reversible first where the route asks for it, and the reverse-mirror
// row of each written resource is queued in the fence's transaction.
func (x routed) SendTransaction(ctx context.Context, types []string, bundle []byte) ([]byte, error) {
	sender, ok := x.r.fhir.(backend.BundleSender)
	if !ok {
		return nil, fmt.Errorf("%w: the FHIR backend does not take transaction Bundles", backend.ErrNotSupported)
	}
	var b txBundle
	dec := json.NewDecoder(bytes.NewReader(bundle))
	dec.UseNumber() // numbers as written: the legacy check reads them so
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: the transaction is not a Bundle", backend.ErrInvalid)
	}
	var mapped []string
	for _, t := range types {
		if x.r.types[t] {
			mapped = append(mapped, t)
		}
	}
	var out []byte
	var sendErr error
	err := x.r.fenceAll(ctx, mapped, func(states map[string]State, q Enqueuer) error {
		for _, t := range sortedSet(mapped) {
			if w := States[states[t]].Writes; w != SideFHIR {
				return fmt.Errorf("%w: %s is now routed %s (writes go to %s); send the transaction again", backend.ErrConflict, t, states[t], w)
			}
		}
		marks, err := x.checkEntries(ctx, &b, states)
		if err != nil {
			return err
		}
		removed := x.removedVersions(ctx, &b)
		if out, sendErr = sender.SendTransaction(ctx, types, bundle); sendErr != nil {
			// A FHIR server need not run a transaction atomically (the test
			// server does not): some entries may have been stored before it
			// failed. A row copies the current state, so queueing one for
			// every entry that names its resource is harmless when nothing
			// changed and keeps legacy in step when something did; the
			// fence's transaction must then commit, so the send's error is
			// returned after it. Created resources' ids are unknown: parity
			// (or the next reverse sync) catches those.
			return x.queueNamed(ctx, q, &b, states, marks)
		}
		// DANGER: the FHIR server has committed. The reverse-mirror rows go
		// into the fence's control transaction, committed when this
		// returns: a crash in between leaves the writes on FHIR without
		// their rows (legacy catches up with the next reverse sync) — the
		// window a single write on the fhir route has too.
		return x.queueWritten(ctx, q, &b, out, states, marks, removed)
	})
	if err == nil {
		err = sendErr
	}
	return out, err
}

// queueNamed queues the mirror row of every PUT and DELETE entry that names
// its resource (Type/id, not a conditional URL) on a route that mirrors.
func (x routed) queueNamed(ctx context.Context, q Enqueuer, b *txBundle, states map[string]State, marks map[int]string) error {
	for i, e := range b.Entry {
		if (e.Request.Method != http.MethodPut && e.Request.Method != http.MethodDelete) || strings.Contains(e.Request.URL, "?") {
			continue
		}
		typ, id, ok := typeAndID(e.Request.URL)
		st, known := states[typ]
		if !ok || !known || States[st].Mirror == "" {
			continue
		}
		if err := enqueue(ctx, q, string(States[st].Mirror), typ, id, marks[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkEntries checks each written resource of a type whose route must
// stay reversible, as a single write would be (a DELETE entry, conditional
// or not, by its type); the marks are the unmirrorable reasons of lenient
// writes, by entry.
func (x routed) checkEntries(ctx context.Context, b *txBundle, states map[string]State) (map[int]string, error) {
	urnTypes := map[string]string{}
	for _, e := range b.Entry {
		if t, _ := e.Resource["resourceType"].(string); strings.HasPrefix(e.FullURL, "urn:uuid:") && t != "" {
			urnTypes[e.FullURL] = t
		}
	}
	marks := map[int]string{}
	for i, e := range b.Entry {
		t, _ := e.Resource["resourceType"].(string)
		var body map[string]any
		if e.Request.Method == http.MethodDelete {
			t = deleteType(e.Request.URL)
		} else if e.Resource != nil {
			body = pendingRefs(e.Resource, urnTypes).(map[string]any)
		}
		st, ok := states[t]
		if !ok || (body == nil && e.Request.Method != http.MethodDelete) || !States[st].CheckWrites {
			continue
		}
		id := ""
		if e.Request.Method == http.MethodPut && !strings.Contains(e.Request.URL, "?") {
			_, id, _ = typeAndID(e.Request.URL)
		}
		mark, err := x.r.reversible(ctx, t, id, body)
		if err != nil {
			return nil, fmt.Errorf("Bundle.entry[%d]: %w", i, err)
		}
		marks[i] = mark
	}
	return marks, nil
}

// deleteType is the type a DELETE entry's URL names: Type/id, or Type?query
// (a conditional delete), either perhaps absolute.
func deleteType(url string) string {
	if t, _, ok := typeAndID(url); ok && !strings.Contains(url, "?") {
		return t
	}
	path := strings.Trim(strings.SplitN(url, "?", 2)[0], "/")
	return path[strings.LastIndex(path, "/")+1:]
}

// pendingRefs is a copy of v whose urn:uuid references name their type and
// an id no legacy key produces: the check then treats them as resources
// created on FHIR whose legacy rows the mirror inserts first.
func pendingRefs(v any, urnTypes map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" && urnTypes[s] != "" {
				m[k] = urnTypes[s] + "/pending-" + strings.TrimPrefix(s, "urn:uuid:")
				continue
			}
			m[k] = pendingRefs(e, urnTypes)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = pendingRefs(e, urnTypes)
		}
		return s
	}
	return v
}

// removedVersions reads, before the transaction runs (under the fence),
// the current version of every resource a DELETE entry names (Type/id),
// by entry: a delete's change event names the version it removed, as a
// single delete's does, and a FHIR server's transaction-response need not
// say it (Medplum's answers a DELETE with a bare status). Nothing is read
// when events are off; a resource that cannot be read has no entry.
func (x routed) removedVersions(ctx context.Context, b *txBundle) map[int]string {
	if x.r.events == nil {
		return nil
	}
	out := map[int]string{}
	for i, e := range b.Entry {
		if e.Request.Method != http.MethodDelete || strings.Contains(e.Request.URL, "?") {
			continue
		}
		typ, id, ok := typeAndID(e.Request.URL)
		if !ok {
			continue
		}
		if cur, err := x.r.fhir.Read(ctx, typ, id); err == nil && cur.VersionID != "" {
			out[i] = cur.VersionID
		}
	}
	return out
}

// queueWritten queues the mirror row of every resource the transaction
// wrote on a route that mirrors (its Location, or a DELETE's URL), and
// the change event of each; removed are the versions DELETE entries
// removed (removedVersions).
func (x routed) queueWritten(ctx context.Context, q Enqueuer, b *txBundle, resp []byte, states map[string]State, marks map[int]string, removed map[int]string) error {
	var r txResponse
	if err := json.Unmarshal(resp, &r); err != nil || len(r.Entry) != len(b.Entry) {
		return fmt.Errorf("%w: the FHIR server's transaction-response does not answer every entry (the transaction ran; its reverse mirror rows were not queued)", backend.ErrUnavailable)
	}
	for i, e := range r.Entry {
		method := b.Entry[i].Request.Method
		if method == http.MethodGet || !strings.HasPrefix(e.Response.Status, "2") {
			continue
		}
		ref := e.Response.Location
		if method == http.MethodDelete {
			ref = b.Entry[i].Request.URL
		}
		typ, id, ok := typeAndID(ref)
		if ok {
			// one change event per written entry, in the fence's transaction
			c := entryChange(method, e.Response.Status, id, e.Response.Location, e.Response.Etag)
			if v, ok := removed[i]; ok {
				// the removed version, not a delete's own ETag (a server
				// that versions deletes answers the tombstone's)
				c.version = v
			}
			if err := x.r.queueChange(ctx, q, typ, c); err != nil {
				return err
			}
		}
		st, known := states[typ]
		if !ok || !known || States[st].Mirror == "" {
			continue
		}
		mark := marks[i]
		if method == http.MethodPost && mark == "" && States[st].CheckWrites {
			mark = x.r.assignedMark(ctx, typ, id)
		}
		if err := enqueue(ctx, q, string(States[st].Mirror), typ, id, mark); err != nil {
			return err
		}
	}
	return nil
}

// entryKinds is the change a transaction entry made, by method (a PUT
// answered 201 created its resource).
var entryKinds = map[string]events.Kind{http.MethodPost: events.Created, http.MethodPut: events.Updated, http.MethodPatch: events.Updated, http.MethodDelete: events.Deleted}

// entryChange is the change of one written entry: its version comes from
// the response's Location (…/_history/v), else its ETag (W/"v"). A POST
// answered 200 found its If-None-Exist match and changed nothing.
func entryChange(method, status, id, location, etag string) written {
	kind := entryKinds[method]
	switch {
	case kind == events.Updated && strings.HasPrefix(status, "201"):
		kind = events.Created
	case method == http.MethodPost && !strings.HasPrefix(status, "201"):
		kind = ""
	}
	version := strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	if _, v, ok := strings.Cut(location, "/_history/"); ok {
		version = strings.SplitN(v, "/", 2)[0]
	}
	return written{id: id, version: version, kind: kind}
}

// typeAndID reads Type/id from a location ([base/]Type/id[/_history/v]).
func typeAndID(loc string) (string, string, bool) {
	loc = strings.SplitN(loc, "?", 2)[0]
	parts := strings.Split(strings.Trim(loc, "/"), "/")
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		parts = parts[:n-2]
	}
	if n := len(parts); n >= 2 {
		return parts[n-2], parts[n-1], true
	}
	return "", "", false
}
