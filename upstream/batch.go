package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
)

var _ backend.Batcher = (*Backend)(nil)

// Batch sends entries as one FHIR batch Bundle (the caller keeps bundles
// within the server's limit: Azure takes at most 500 entries). Entries
// succeed or fail one by one; the results are in entry order.
func (b *Backend) Batch(ctx context.Context, entries []backend.BatchEntry) ([]backend.BatchResult, error) {
	type req struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	type entry struct {
		Resource json.RawMessage `json:"resource,omitempty"`
		Request  req             `json:"request"`
	}
	bundle := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Entry        []entry `json:"entry"`
	}{ResourceType: "Bundle", Type: "batch"}
	for _, e := range entries {
		bundle.Entry = append(bundle.Entry, entry{Resource: e.Resource, Request: req{Method: e.Method, URL: e.URL}})
	}
	raw, err := json.Marshal(bundle)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Do(ctx, http.MethodPost, "", raw, http.Header{"Prefer": {"return=minimal"}})
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		return nil, statusErr(res, "batch")
	}
	var out struct {
		Entry []struct {
			Response struct {
				Status  string          `json:"status"`
				Outcome json.RawMessage `json:"outcome"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil || len(out.Entry) != len(entries) {
		return nil, fmt.Errorf("%w: batch response does not answer every entry", backend.ErrUnavailable)
	}
	results := make([]backend.BatchResult, len(entries))
	for i, e := range out.Entry {
		code, _ := strconv.Atoi(strings.Fields(e.Response.Status + " 0")[0])
		results[i] = backend.BatchResult{Status: code}
		if code >= 300 {
			results[i].Detail = outcomeText(e.Response.Outcome)
		}
	}
	return results, nil
}

var _ backend.BundleSender = (*Backend)(nil)

// SendTransaction implements backend.BundleSender: the Bundle is posted to
// the base as it is (the server resolves its urn:uuid references) and
// never retried once sent (Client.Do retries a POST only when the server
// cannot have run it).
func (b *Backend) SendTransaction(ctx context.Context, _ []string, bundle []byte) ([]byte, error) {
	res, err := b.c.Do(ctx, http.MethodPost, "", bundle, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, statusErr(res, "transaction")
	}
	return res.Body, nil
}
