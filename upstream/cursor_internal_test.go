package upstream

import (
	"context"
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// TestCursorOutsideBase: even a well-formed cursor whose link leaves the
// configured base is refused by the client (a cursor is ours, but the link
// inside it came from the server).
func TestCursorOutsideBase(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1/fhir"})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(c)
	q := &search.Query{}
	cur := sealCursor("http://evil.example/fhir/Patient?_count=10", "Patient", QueryString(q, 0, false))
	if _, err := b.Search(context.Background(), "Patient", q, backend.SearchOptions{Count: 10, Cursor: cur}); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("cursor outside the base: %v", err)
	}
}
