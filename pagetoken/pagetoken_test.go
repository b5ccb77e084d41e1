package pagetoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func sealer(t testing.TB, b byte) *Sealer {
	key := make([]byte, 32)
	for i := range key {
		key[i] = b
	}
	s, err := New(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := sealer(t, 1)
	st := State{Type: "Patient", Query: "family=smith", Backend: "legacy", Pos: `{"v":["i:7"]}`}
	tok := s.Seal(st)
	if strings.Contains(tok, "smith") || strings.Contains(tok, "i:7") {
		t.Fatal("token is readable")
	}
	got, err := s.Open(tok)
	if err != nil || got.Query != st.Query || got.Pos != st.Pos || got.Type != st.Type {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for name, bad := range map[string]string{
		"flipped":   tok[:10] + string(tok[10]^1) + tok[11:],
		"truncated": tok[:len(tok)-4],
		"empty":     "",
		"garbage":   "!!!",
		"other key": sealer(t, 2).Seal(st),
	} {
		if _, err := s.Open(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := s.Open(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("expired token accepted")
	}
}

func FuzzOpen(f *testing.F) {
	s := sealer(f, 3)
	f.Add(s.Seal(State{Type: "Patient", Query: "a=b"}))
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := s.Open(tok); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error outside ErrInvalid: %v", err)
		}
	})
}
