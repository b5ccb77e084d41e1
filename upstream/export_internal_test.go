package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOffersExport: $export is offered by a system-level operation named
// export or defined by the Bulk Data IG; a resource-level one, another
// mode's or none is not.
func TestOffersExport(t *testing.T) {
	for _, c := range []struct {
		name, cs string
		want     bool
	}{
		{"by name", `{"rest":[{"mode":"server","operation":[{"name":"export","definition":"https://x/OperationDefinition/export"}]}]}`, true},
		{"by IG definition, versioned", `{"rest":[{"mode":"server","operation":[{"name":"bulk","definition":"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export|2.0.0"}]}]}`, true},
		{"none", `{"rest":[{"mode":"server","operation":[{"name":"everything"}]}]}`, false},
		{"resource level only", `{"rest":[{"mode":"server","resource":[{"type":"Patient","operation":[{"name":"export"}]}]}]}`, false},
		{"client mode", `{"rest":[{"mode":"client","operation":[{"name":"export"}]}]}`, false},
		{"not JSON", `<CapabilityStatement/>`, false},
	} {
		if got := offersExport([]byte(c.cs)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStreamIdle: a file download that stalls after its first bytes ends
// with an error after the client's Timeout of silence, not never; and an
// error names no URL (file URLs may carry keys in their query).
func TestStreamIdle(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") == "fail" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, `{"resourceType":"Patient"}`+"\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Stream(context.Background(), srv.URL+"/f?sig=secret", true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	b, err := io.ReadAll(rc)
	rc.Close()
	if err == nil || len(b) == 0 || time.Since(t0) > 5*time.Second {
		t.Errorf("stalled download: %d bytes, err %v after %s", len(b), err, time.Since(t0))
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error names the URL: %v", err)
	}
	if _, err := c.Stream(context.Background(), srv.URL+"/f?sig=fail", true); err == nil || strings.Contains(err.Error(), "sig=") {
		t.Errorf("refused download: %v", err)
	}
}
