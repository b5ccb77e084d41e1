// Package pagetoken seals paging state (the query and a backend position)
// into opaque tokens with AES-256-GCM: clients cannot read the query, the
// SQL keys or upstream URLs inside, and any change makes the token invalid.
package pagetoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is returned for a token that was altered, truncated, sealed
// with another key, or has expired.
var ErrInvalid = errors.New("invalid or expired page token")

// State is what a token carries.
type State struct {
	Type    string `json:"t"`
	Query   string `json:"q"` // canonical query string of the search
	Backend string `json:"b"` // the backend that issued Pos
	Pos     string `json:"p"` // the backend's own position
	// Bind is what the token is bound to (the facade's digest of the
	// principal and the narrowed search); a token is only honoured when
	// the request presenting it produces the same binding.
	Bind    string `json:"k,omitempty"`
	Expires int64  `json:"e"` // unix seconds
}

// Sealer seals and opens tokens with one key.
type Sealer struct {
	aead cipher.AEAD
	ttl  time.Duration
	now  func() time.Time
}

// New returns a Sealer for a 32-byte key; tokens live for ttl.
func New(key []byte, ttl time.Duration) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("pagetoken: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, ttl: ttl, now: time.Now}, nil
}

// Seal turns st into a URL-safe token.
func (s *Sealer) Seal(st State) string {
	st.Expires = s.now().Add(s.ttl).Unix()
	plain, _ := json.Marshal(st)
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("pagetoken: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil))
}

// Open checks and reads a token.
func (s *Sealer) Open(tok string) (State, error) {
	var st State
	if len(tok) > 8192 {
		return st, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return st, ErrInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return st, ErrInvalid
	}
	if err := json.Unmarshal(plain, &st); err != nil {
		return st, ErrInvalid
	}
	if s.now().Unix() > st.Expires {
		return st, fmt.Errorf("%w: it expired; run the search again", ErrInvalid)
	}
	return st, nil
}
