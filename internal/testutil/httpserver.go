package testutil

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve starts an HTTP test server whose handler is built knowing the
// server's own FHIR base URL (http://127.0.0.1:PORT/fhir), as the facade
// needs it (facade.Config.BaseURL) before the first request. The server
// closes when the test ends; each opt may set the http.Server's limits
// (header size, timeouts) before it starts.
func Serve(t testing.TB, build func(baseURL string) http.Handler, opts ...func(*http.Server)) *httptest.Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	hs.Config.Handler = build("http://" + hs.Listener.Addr().String() + "/fhir")
	for _, o := range opts {
		o(hs.Config)
	}
	hs.Start()
	t.Cleanup(hs.Close)
	return hs
}
