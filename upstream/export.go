package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
)

// The server's own Bulk Data $export (backend.BulkExporter), used by bulk
// export jobs for the types routed to it.

var _ backend.BulkExporter = (*Backend)(nil)

// capsTTL is how long the CapabilityStatement's answer about $export is
// kept: a server that adds or drops $export is noticed within it.
const capsTTL = 5 * time.Minute

// exportCaps caches whether the server offers $export.
type exportCaps struct {
	mu      sync.Mutex
	at      time.Time
	offered bool
}

// ExportOffered implements backend.BulkExporter: the CapabilityStatement
// lists a system-level operation named export (or defined by the Bulk Data
// IG's export OperationDefinition). A statement that cannot be read is not
// cached: the next job asks again.
func (b *Backend) ExportOffered(ctx context.Context) bool {
	b.caps.mu.Lock()
	if !b.caps.at.IsZero() && time.Since(b.caps.at) < capsTTL {
		defer b.caps.mu.Unlock()
		return b.caps.offered
	}
	b.caps.mu.Unlock()
	// the lock is not held across the request: a slow server must not
	// queue every other job's check behind this one (two may ask at once)
	raw, err := b.c.Capabilities(ctx)
	if err != nil {
		return false
	}
	offered := offersExport(raw)
	b.caps.mu.Lock()
	defer b.caps.mu.Unlock()
	b.caps.offered, b.caps.at = offered, time.Now()
	return offered
}

// offersExport reads rest[mode=server].operation of a CapabilityStatement.
func offersExport(raw []byte) bool {
	var cs struct {
		Rest []struct {
			Mode      string `json:"mode"`
			Operation []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"operation"`
		} `json:"rest"`
	}
	if json.Unmarshal(raw, &cs) != nil {
		return false
	}
	for _, r := range cs.Rest {
		if r.Mode != "" && r.Mode != "server" {
			continue
		}
		for _, op := range r.Operation {
			def, _, _ := strings.Cut(op.Definition, "|")
			if op.Name == "export" || strings.HasSuffix(def, "/uv/bulkdata/OperationDefinition/export") {
				return true
			}
		}
	}
	return false
}

// StartExport implements backend.BulkExporter.
func (b *Backend) StartExport(ctx context.Context, types []string, since string) (string, error) {
	q := url.Values{"_type": {strings.Join(types, ",")}, "_outputFormat": {"application/fhir+ndjson"}}
	if since != "" {
		q.Set("_since", since)
	}
	res, err := b.c.Do(ctx, http.MethodGet, "$export?"+q.Encode(), nil, http.Header{"Prefer": {"respond-async"}})
	if err != nil {
		return "", err
	}
	if res.Status != http.StatusAccepted {
		// the server's own text is left out (it is logged by the caller)
		return "", fmt.Errorf("%w: $export kick-off: the FHIR server answered %d", sentinelFor(res.Status), res.Status)
	}
	loc := res.Header.Get("Content-Location")
	if !b.underBase(loc) {
		// the status URL is polled with the facade's token: never outside
		// the server it was configured for
		return "", fmt.Errorf("%w: $export kick-off: the status URL is not under the FHIR base", backend.ErrUnavailable)
	}
	return loc, nil
}

func (b *Backend) underBase(u string) bool { return b.c.Under(u) }

// ExportStatus implements backend.BulkExporter.
func (b *Backend) ExportStatus(ctx context.Context, status string) (*backend.ExportManifest, time.Duration, error) {
	res, err := b.c.Do(ctx, http.MethodGet, status, nil, nil)
	if err != nil {
		return nil, 0, err
	}
	switch res.Status {
	case http.StatusAccepted:
		return nil, retryAfter(res.Header), nil
	case http.StatusOK:
		var m backend.ExportManifest
		if err := json.Unmarshal(res.Body, &m); err != nil {
			return nil, 0, fmt.Errorf("%w: $export manifest is not JSON", backend.ErrUnavailable)
		}
		return &m, 0, nil
	}
	switch res.Status {
	case http.StatusNotFound, http.StatusGone:
		// the job is gone (expired, deleted, or the server lost it)
		return nil, 0, fmt.Errorf("%w: $export job no longer known to the FHIR server", backend.ErrGone)
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// still throttled or unavailable after Do's retries: the job may
		// well be fine, the caller polls again later
		return nil, 0, fmt.Errorf("%w: $export status: the FHIR server answered %d", backend.ErrUnavailable, res.Status)
	}
	// the server's own text is left out: it may hold URLs or more
	return nil, 0, fmt.Errorf("%w: $export status: the FHIR server answered %d", backend.ErrExportFailed, res.Status)
}

// CancelExport implements backend.BulkExporter.
func (b *Backend) CancelExport(ctx context.Context, status string) error {
	res, err := b.c.Do(ctx, http.MethodDelete, status, nil, nil)
	if err != nil {
		return err
	}
	switch res.Status {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusNotFound, http.StatusGone:
		return nil
	}
	return statusErr(res, "$export cancel")
}

// OpenExportFile implements backend.BulkExporter. The facade's token goes
// only to files under the FHIR base; a file elsewhere (a storage account)
// is fetched without one when the manifest says none is needed, and
// refused when it says one is.
func (b *Backend) OpenExportFile(ctx context.Context, m *backend.ExportManifest, file string) (io.ReadCloser, error) {
	under := b.underBase(file)
	if !under && m.RequiresAccessToken {
		return nil, fmt.Errorf("%w: $export file outside the FHIR base needs an access token, which is only sent to the FHIR server", backend.ErrNotSupported)
	}
	if !strings.HasPrefix(file, "https://") && !(under && strings.HasPrefix(file, "http://")) {
		return nil, fmt.Errorf("%w: $export file URL is not https", backend.ErrUnavailable)
	}
	return b.c.Stream(ctx, file, under)
}

// Stream GETs u and returns its body unread: export files may be far
// larger than Do's answer limit. 429 and 5xx gateway answers and failures
// to connect are retried like Do's (the breaker is not involved: a file
// download is not a FHIR interaction). Errors never carry the URL: export
// file URLs may be pre-signed (a key in the query string).
func (c *Client) Stream(ctx context.Context, u string, withToken bool) (io.ReadCloser, error) {
	for attempt := 0; ; attempt++ {
		res, err := c.streamOnce(ctx, u, withToken)
		wait := time.Duration(-1)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err == nil && res.StatusCode == http.StatusOK:
			return res.Body, nil
		case err == nil:
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusBadGateway:
				wait = retryAfter(res.Header)
				err = fmt.Errorf("status %d", res.StatusCode)
			default:
				return nil, fmt.Errorf("%w: $export file: the server answered %d", sentinelFor(res.StatusCode), res.StatusCode)
			}
		}
		if attempt >= c.cfg.MaxRetries {
			return nil, fmt.Errorf("%w: $export file: %v", backend.ErrUnavailable, err)
		}
		if wait < 0 {
			wait = time.Duration(rand.Int64N(int64(min(c.cfg.MaxBackoff, 100*time.Millisecond<<attempt)) + 1))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(wait, c.cfg.MaxBackoff)):
		}
	}
}

// streamOnce is one attempt of Stream; its error is stripped of the URL.
// The body it returns ends with an error when no byte arrives for the
// client's per-request Timeout: a stalled server must not hold a worker
// (and its job) for ever.
func (c *Client) streamOnce(ctx context.Context, u string, withToken bool) (*http.Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	idle := time.AfterFunc(c.cfg.Timeout, cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		idle.Stop()
		cancel()
		return nil, errors.New("malformed URL")
	}
	req.Header.Set("Accept", "application/fhir+ndjson")
	if withToken && c.cfg.Tokens != nil {
		tok, err := c.cfg.Tokens.Token(ctx)
		if err != nil {
			idle.Stop()
			cancel()
			return nil, fmt.Errorf("token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.http.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err != nil {
		idle.Stop()
		cancel()
		return nil, err
	}
	res.Body = &idleBody{ReadCloser: res.Body, idle: idle, after: c.cfg.Timeout, cancel: cancel}
	return res, nil
}

// idleBody restarts its idle timer with every read that returns bytes.
type idleBody struct {
	io.ReadCloser
	idle   *time.Timer
	after  time.Duration
	cancel context.CancelFunc
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.idle.Reset(b.after)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.idle.Stop()
	b.cancel()
	return b.ReadCloser.Close()
}
