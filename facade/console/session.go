package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// Session cookies are sealed (AES-256 + HMAC-SHA-256) by
// gorilla/securecookie, a small, long-kept library that also stamps and
// checks their age; writing that sealing by hand is a solved problem
// done wrong often enough.
const (
	sessionCookie = "fhirfacade_console"
	loginCookie   = "fhirfacade_console_login"
	// sessionMax bounds a session whatever the token's lifetime says.
	sessionMax = 8 * time.Hour
	loginMax   = 10 * time.Minute
)

// session is what the sealed cookie holds.
type session struct {
	// SID is the session's random id: a sign-out records its hash in the
	// control store, which refuses the cookie from then on
	SID      string
	User     string    // the journal's and audit's actor
	ClientID string    // the OIDC client (audit client id)
	CSRF     string    // the token every POST must carry
	Expires  time.Time // the access token's expiry, at most sessionMax
	// OIDC is true for a session a sign-in made: with sign-in on, only
	// those count (an auth-off loopback session sealed with the same key
	// must not survive a switch to FHIRFACADE_AUTH=smart)
	OIDC bool
}

// loginState is the pending sign-in (state, nonce, PKCE verifier).
type loginState struct {
	State, Nonce, Verifier, Next string
}

type sessions struct {
	codec *securecookie.SecureCookie
}

// newSessions makes the cookie codec: key is 32 or 64 bytes (the first
// half signs, the second half encrypts when 64), nil a random key.
func newSessions(key []byte) (*sessions, error) {
	if key == nil {
		key = securecookie.GenerateRandomKey(64)
	}
	if len(key) != 32 && len(key) != 64 {
		return nil, fmt.Errorf("console: the session key must be 32 or 64 bytes, not %d", len(key))
	}
	hash, block := key, key
	if len(key) == 64 {
		hash, block = key[:32], key[32:]
	}
	codec := securecookie.New(hash, block)
	codec.MaxAge(int(sessionMax / time.Second))
	return &sessions{codec: codec}, nil
}

// read is the request's valid session (nil: none, forged or expired).
func (ss *sessions) read(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var s session
	if err := ss.codec.Decode(sessionCookie, ck.Value, &s); err != nil || time.Now().After(s.Expires) || s.CSRF == "" || s.SID == "" {
		return nil
	}
	return &s
}

// write sets the session cookie: HttpOnly (no script reads it), Secure
// (browsers count loopback http as secure) and SameSite=Strict (no other
// site's page makes the browser send it).
func (ss *sessions) write(w http.ResponseWriter, s *session) error {
	v, err := ss.codec.Encode(sessionCookie, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v, Path: Base, Expires: s.Expires, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return nil
}

// anonymous starts the session of a loopback user with auth off.
func (ss *sessions) anonymous(w http.ResponseWriter) *session {
	s := &session{SID: randomToken(), User: "anonymous@loopback", ClientID: "console", CSRF: randomToken(), Expires: time.Now().Add(sessionMax)}
	_ = ss.write(w, s)
	return s
}

// checkCSRF compares the form's (or X-CSRF-Token header's) token with the
// session's in constant time.
func (ss *sessions) checkCSRF(r *http.Request, s *session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

func (ss *sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Base, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// writeLogin keeps the pending sign-in in its own cookie, SameSite=Lax:
// the issuer's redirect back is a cross-site navigation, on which a
// Strict cookie would not be sent.
func (ss *sessions) writeLogin(w http.ResponseWriter, l *loginState) error {
	v, err := ss.codec.Encode(loginCookie, l)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v, Path: Base, MaxAge: int(loginMax / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return nil
}

var errNoLogin = errors.New("no sign-in is pending (or it took longer than 10 minutes)")

func (ss *sessions) readLogin(w http.ResponseWriter, r *http.Request) (*loginState, error) {
	ck, err := r.Cookie(loginCookie)
	if err != nil {
		return nil, errNoLogin
	}
	// one use only
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Base, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	var l loginState
	if err := ss.codec.Decode(loginCookie, ck.Value, &l); err != nil {
		return nil, errNoLogin
	}
	return &l, nil
}

// sidHash is how the control store knows a session: never its id itself.
func sidHash(sid string) string {
	h := sha256.Sum256([]byte(sid))
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// urlQuery escapes a value for a query string.
func urlQuery(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-login destination inside the console (no open
// redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, Base) || strings.Contains(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Base
	}
	return next
}
