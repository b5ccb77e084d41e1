package upstream

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/jsonscan"
	"github.com/fhirfacade/fhirfacade/search"
)

// Backend serves resource types from the FHIR server behind a Client.
type Backend struct {
	c    *Client
	caps exportCaps
}

var _ backend.Backend = (*Backend)(nil)

// NewBackend returns the upstream Backend over c.
func NewBackend(c *Client) *Backend { return &Backend{c: c} }

// Name implements backend.Backend.
func (b *Backend) Name() string { return "fhir" }

// Client is the underlying HTTP client.
func (b *Backend) Client() *Client { return b.c }

// Ping implements backend.Backend: the server's CapabilityStatement answers.
func (b *Backend) Ping(ctx context.Context) error {
	res, err := b.c.Do(ctx, http.MethodGet, "metadata", nil, nil)
	if err != nil {
		return err
	}
	if res.Status != 200 {
		return fmt.Errorf("%w: FHIR server metadata answered %d", backend.ErrUnavailable, res.Status)
	}
	return nil
}

// toResource reads the envelope of a resource the server returned: type,
// id, version and last update, found by a scan instead of a decode (this
// runs for every resource of every answer; the decode was 9% of a fhir-route
// read's CPU). The body is still checked to be one JSON object, so a
// truncated or garbled answer is a 503, never passed on to a client.
func toResource(raw []byte) (*backend.Resource, error) {
	if !json.Valid(raw) {
		return nil, errNotResource
	}
	return envelope(raw)
}

// envelope is toResource for JSON already known to be valid (a Bundle
// entry, checked when the Bundle was decoded).
func envelope(raw []byte) (*backend.Resource, error) {
	v := jsonscan.TopLevel(raw, "resourceType", "id", "meta")
	typ, ok := jsonscan.String(v[0])
	if !ok || typ == "" {
		return nil, errNotResource
	}
	r := &backend.Resource{Type: typ, JSON: raw}
	r.ID, _ = jsonscan.String(v[1])
	if v[2] != nil {
		m := jsonscan.TopLevel(v[2], "versionId", "lastUpdated")
		r.VersionID, _ = jsonscan.String(m[0])
		if lu, ok := jsonscan.String(m[1]); ok {
			r.LastUpdated, _ = time.Parse(time.RFC3339Nano, lu)
		}
	}
	return r, nil
}

var errNotResource = fmt.Errorf("%w: FHIR server returned something that is not a resource", backend.ErrUnavailable)

// outcomeText is the upstream OperationOutcome's diagnostics, for errors.
func outcomeText(body []byte) string {
	var oo struct {
		Issue []struct {
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || len(oo.Issue) == 0 {
		return ""
	}
	var parts []string
	for _, i := range oo.Issue {
		t := i.Diagnostics
		if t == "" {
			t = i.Details.Text
		}
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "; ")
}

// statusSentinels maps the FHIR server's error statuses onto the backend
// sentinels; any other status is ErrUnavailable.
var statusSentinels = map[int]error{
	400: backend.ErrInvalid,
	404: backend.ErrNotFound,
	405: backend.ErrNotSupported,
	409: backend.ErrConflict,
	410: backend.ErrGone,
	412: backend.ErrPreconditionFailed,
	422: backend.ErrUnprocessable,
}

// statusErr maps an upstream error status onto the backend sentinels.
func statusErr(res *Response, what string) error {
	msg := outcomeText(res.Body)
	if msg == "" {
		msg = http.StatusText(res.Status)
	}
	return fmt.Errorf("%w: %s: FHIR server: %s", sentinelFor(res.Status), what, msg)
}

// sentinelFor is the backend sentinel of an upstream error status.
func sentinelFor(status int) error {
	if s, ok := statusSentinels[status]; ok {
		return s
	}
	return backend.ErrUnavailable
}

// Read implements backend.Backend.
func (b *Backend) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	if !backend.ValidID(id) {
		return nil, fmt.Errorf("%w: %s/%s", backend.ErrNotFound, typ, id)
	}
	res, err := b.c.Do(ctx, http.MethodGet, typ+"/"+id, nil, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		return nil, statusErr(res, typ+"/"+id)
	}
	return toResource(res.Body)
}

// QueryString renders a parsed search back into a query string for the
// server (parameters passed through; _include is the facade's own work).
func QueryString(q *search.Query, count int, total bool) string {
	v := url.Values{}
	for _, p := range q.Params {
		k := p.Name
		if p.Modifier != "" {
			k += ":" + p.Modifier
		}
		v.Add(k, strings.Join(p.Values, ","))
	}
	var sorts []string
	for _, so := range q.Sort {
		if so.Desc {
			sorts = append(sorts, "-"+so.Param)
		} else {
			sorts = append(sorts, so.Param)
		}
	}
	if len(sorts) > 0 {
		v.Set("_sort", strings.Join(sorts, ","))
	}
	v.Set("_count", strconv.Itoa(count))
	if total {
		v.Set("_total", "accurate")
	}
	return v.Encode()
}

// Search implements backend.Backend. The cursor is the server's own next
// link (sealed into the facade's page token, never shown to clients).
func (b *Backend) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	path := typ + "?" + QueryString(q, opts.Count, opts.Total)
	// the cursor is bound to the search's parameters and sort, not to the
	// page size or _total (callers may ask for the total on page 1 only)
	qs := QueryString(q, 0, false)
	if opts.Cursor != "" {
		var err error
		if path, err = openCursor(opts.Cursor, typ, qs); err != nil {
			return nil, err
		}
	}
	var hdr http.Header
	if opts.Strict {
		hdr = http.Header{"Prefer": {"handling=strict"}}
	}
	res, err := b.c.Do(ctx, http.MethodGet, path, nil, hdr)
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		return nil, statusErr(res, "search "+typ)
	}
	var bundle struct {
		Total *int `json:"total"`
		Link  []struct {
			Relation string `json:"relation"`
			URL      string `json:"url"`
		} `json:"link"`
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
			Search   struct {
				Mode string `json:"mode"`
			} `json:"search"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(res.Body, &bundle); err != nil {
		return nil, fmt.Errorf("%w: FHIR server returned a malformed Bundle", backend.ErrUnavailable)
	}
	out := &backend.SearchResult{}
	if opts.Total {
		out.Total = bundle.Total
	}
	for _, e := range bundle.Entry {
		switch e.Search.Mode {
		case "", "match":
		case "outcome":
			out.Ignored = append(out.Ignored, "(the FHIR server reported: "+outcomeText(e.Resource)+")")
			continue
		default:
			continue
		}
		r, err := envelope(e.Resource)
		if err != nil {
			return nil, err
		}
		if r.Type != typ {
			continue
		}
		out.Resources = append(out.Resources, r)
	}
	for _, l := range bundle.Link {
		if l.Relation == "next" && len(out.Resources) > 0 {
			out.Next = sealCursor(l.URL, typ, qs)
		}
	}
	if opts.Count == 0 {
		out.Resources, out.Next = nil, ""
	}
	return out, nil
}

// cursor is the upstream position of a search: the server's own next link,
// and a digest of the query (type, parameters with the facade's narrowing,
// count, total) it continues. The server's link carries the query it was
// issued for, so following it for any other query would answer that other
// query's pages; the digest makes this backend refuse a cursor presented
// with a query other than its own, whatever the caller checked before.
type cursor struct {
	URL    string `json:"u"`
	Digest string `json:"q"`
}

func queryDigest(typ, qs string) string {
	sum := sha256.Sum256([]byte(typ + "?" + qs))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func sealCursor(next, typ, qs string) string {
	raw, _ := json.Marshal(cursor{URL: next, Digest: queryDigest(typ, qs)})
	return string(raw)
}

// ErrCursorMismatch is a cursor presented with a query other than the one
// it continues.
var ErrCursorMismatch = fmt.Errorf("%w: the page cursor continues another search", backend.ErrInvalid)

func openCursor(raw, typ, qs string) (string, error) {
	var c cursor
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.URL == "" {
		return "", fmt.Errorf("%w: malformed page cursor", backend.ErrInvalid)
	}
	if !hmac.Equal([]byte(c.Digest), []byte(queryDigest(typ, qs))) {
		return "", ErrCursorMismatch
	}
	return c.URL, nil
}

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context, typ string, body map[string]any, ifNoneExist *search.Query) (*backend.Resource, bool, error) {
	raw, err := json.Marshal(withoutID(body))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	var hdr http.Header
	if ifNoneExist != nil {
		hdr = http.Header{"If-None-Exist": {QueryString(ifNoneExist, 2, false)}}
	}
	res, err := b.c.Do(ctx, http.MethodPost, typ, raw, hdr)
	if err != nil {
		return nil, false, err
	}
	if res.Status != 200 && res.Status != 201 {
		return nil, false, statusErr(res, "create "+typ)
	}
	r, err := toResource(res.Body)
	return r, res.Status == 201, err
}

// withoutID is body without its id (body itself when it has none). R4
// says a server ignores the id of a create, but not every server does:
// one that keeps it (the Medplum test server does) would let a POST
// replace whatever resource has that id — another patient's — so the id
// is never sent.
func withoutID(body map[string]any) map[string]any {
	if _, ok := body["id"]; !ok {
		return body
	}
	out := make(map[string]any, len(body))
	for k, v := range body {
		if k != "id" {
			out[k] = v
		}
	}
	return out
}

// Update implements backend.Backend (PUT to the id; the server decides
// whether update-as-create is allowed).
func (b *Backend) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	if !backend.ValidID(id) {
		return nil, false, fmt.Errorf("%w: %q is not a FHIR id", backend.ErrInvalid, id)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", backend.ErrInvalid, err)
	}
	var hdr http.Header
	if ifMatch != "" {
		hdr = http.Header{"If-Match": {`W/"` + ifMatch + `"`}}
	}
	res, err := b.c.Do(ctx, http.MethodPut, typ+"/"+id, raw, hdr)
	if err != nil {
		return nil, false, err
	}
	if res.Status != 200 && res.Status != 201 {
		return nil, false, statusErr(res, "update "+typ+"/"+id)
	}
	r, err := toResource(res.Body)
	return r, res.Status == 201, err
}

// Delete implements backend.Backend. A resource that is already gone is not
// an error (FHIR delete is idempotent).
func (b *Backend) Delete(ctx context.Context, typ, id string, ifMatch string) error {
	if !backend.ValidID(id) {
		return nil
	}
	var hdr http.Header
	if ifMatch != "" {
		hdr = http.Header{"If-Match": {`W/"` + ifMatch + `"`}}
	}
	res, err := b.c.Do(ctx, http.MethodDelete, typ+"/"+id, nil, hdr)
	if err != nil {
		return err
	}
	switch res.Status {
	case 200, 202, 204, 404, 410:
		return nil
	}
	return statusErr(res, "delete "+typ+"/"+id)
}
