package console

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAnonymousSessionNotSignedIn: with sign-in on, a session the console
// gave a loopback user while auth was off — sealed with the same
// configured key — is not a signed-in session: the page sends to the
// sign-in.
func TestAnonymousSessionNotSignedIn(t *testing.T) {
	ss, err := newSessions(bytes.Repeat([]byte{7}, 64))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ss.anonymous(rec)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies", len(cookies))
	}
	c := &Console{cfg: Config{OIDC: &OIDC{}}, session: ss}
	reached := false
	h := c.guard(func(http.ResponseWriter, *http.Request, *session) { reached = true })
	req := httptest.NewRequest(http.MethodGet, Base+"/journal", nil)
	req.AddCookie(cookies[0])
	got := httptest.NewRecorder()
	h(got, req)
	if reached || got.Code != http.StatusSeeOther {
		t.Fatalf("an auth-off session reached the page under sign-in: %v, status %d", reached, got.Code)
	}
}
