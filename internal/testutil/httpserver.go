package testutil

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve starts an HTTP test server whose handler is built knowing the
// server's own FHIR base URL (http://127.0.0.1:PORT/fhir), as the facade
// needs it (facade.Config.BaseURL) before the first request. The server
// closes when the test ends.
func Serve(t testing.TB, build func(baseURL string) http.Handler) *httptest.Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	hs.Config.Handler = build("http://" + hs.Listener.Addr().String() + "/fhir")
	hs.Start()
	t.Cleanup(hs.Close)
	return hs
}
