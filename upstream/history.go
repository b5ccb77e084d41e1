package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fhirfacade/fhirfacade/backend"
)

var _ backend.Versioned = (*Backend)(nil)

// HistoryPolicy implements backend.Versioned: a FHIR server keeps every
// version.
func (b *Backend) HistoryPolicy() backend.HistoryPolicy { return backend.AllVersions }

// VRead implements backend.Versioned (GET Type/id/_history/vid).
func (b *Backend) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	if !backend.ValidID(id) || !backend.ValidID(vid) {
		return nil, fmt.Errorf("%w: %s/%s/_history/%s", backend.ErrNotFound, typ, id, vid)
	}
	res, err := b.c.Do(ctx, http.MethodGet, typ+"/"+id+"/_history/"+vid, nil, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		return nil, statusErr(res, typ+"/"+id+"/_history/"+vid)
	}
	return toResource(res.Body)
}

// historyKey binds a history cursor to the one resource whose history it
// continues (the server's next link carries that resource; a cursor
// presented for another would page through the wrong history).
func historyKey(id string) string { return "_history=" + id }

// historyBundle is the part of a history Bundle the facade reads.
type historyBundle struct {
	Type string `json:"type"`
	Link []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
		Request  struct {
			Method string `json:"method"`
		} `json:"request"`
		Response struct {
			Status string `json:"status"`
		} `json:"response"`
	} `json:"entry"`
}

// History implements backend.Versioned (GET Type/id/_history). The cursor
// is the server's own next link, sealed with the resource it belongs to;
// the facade seals it again into its own page token, so the server's URLs
// never reach a client.
func (b *Backend) History(ctx context.Context, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	if !backend.ValidID(id) {
		return nil, fmt.Errorf("%w: %s/%s", backend.ErrNotFound, typ, id)
	}
	path := typ + "/" + id + "/_history?_count=" + strconv.Itoa(max(opts.Count, 1))
	if opts.Cursor != "" {
		var err error
		if path, err = openCursor(opts.Cursor, typ, historyKey(id)); err != nil {
			return nil, err
		}
	}
	res, err := b.c.Do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		return nil, statusErr(res, "history of "+typ+"/"+id)
	}
	var hb historyBundle
	if err := json.Unmarshal(res.Body, &hb); err != nil || hb.Type != "history" {
		return nil, fmt.Errorf("%w: FHIR server returned no history Bundle", backend.ErrUnavailable)
	}
	return historyPage(hb, typ, id)
}

// historyPage reads the server's entries. A server that leaves out
// request and response (the test server does) gets them filled in: a
// version with a resource is a PUT, one without a DELETE.
func historyPage(hb historyBundle, typ, id string) (*backend.HistoryPage, error) {
	out := &backend.HistoryPage{}
	for _, e := range hb.Entry {
		he := backend.HistoryEntry{Method: e.Request.Method, Status: e.Response.Status}
		if len(e.Resource) > 0 && string(e.Resource) != "null" {
			r, err := envelope(e.Resource)
			if err != nil {
				return nil, err
			}
			if r.Type != typ || r.ID != id {
				continue // not this resource's version: never pass it on
			}
			he.Resource, he.VersionID, he.LastUpdated = r, r.VersionID, r.LastUpdated
		}
		if he.Method == "" {
			he.Method = map[bool]string{true: http.MethodPut, false: http.MethodDelete}[he.Resource != nil]
		}
		if he.Status == "" {
			he.Status = map[bool]string{true: "200", false: "204"}[he.Resource != nil]
		}
		out.Entries = append(out.Entries, he)
	}
	for _, l := range hb.Link {
		if l.Relation == "next" && len(hb.Entry) > 0 {
			out.Next = sealCursor(l.URL, typ, historyKey(id))
		}
	}
	return out, nil
}
