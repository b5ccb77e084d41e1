package logcap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

func TestCut(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"long", "abcdefgh", 5, "abcde…(+3 bytes)"},
		{"rune boundary", "ab€cd", 3, "ab…(+5 bytes)"},
		{"invalid UTF-8", "a\xffbcdef", 3, "a\uFFFDb…(+4 bytes)"},
		{"room for the note", strings.Repeat("x", 100), 50, strings.Repeat("x", 26) + "…(+74 bytes)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := logcap.Cut(tc.in, tc.n); got != tc.want {
				t.Fatalf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
	got := logcap.String(strings.Repeat("x", 600<<10))
	if len(got) > logcap.Max || !utf8.ValidString(got) {
		t.Fatalf("String of 600 KB: %d bytes", len(got))
	}
	if again := logcap.String(got); again != got {
		t.Fatalf("capped twice: %q", again)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestHandler: every string, error and Stringer of a record, in groups and
// in WithAttrs too, is capped; other values pass unchanged.
func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	huge := strings.Repeat("k", 600<<10)
	log := slog.New(logcap.Handler(slog.NewJSONHandler(&buf, nil))).With("pre", huge)
	log.Info(huge, "s", huge, "err", errors.New(huge), "str", stringer(huge), "b", []byte(huge),
		slog.Group("g", "inner", huge), "n", 42)
	out := buf.String()
	if len(out) > 8*logcap.Max {
		t.Fatalf("one log line of %d bytes", len(out))
	}
	for _, key := range []string{`"pre":`, `"msg":`, `"s":`, `"err":`, `"str":`, `"b":`, `"inner":`, `"n":42`} {
		if !strings.Contains(out, key) {
			t.Fatalf("%s missing from %s", key, out)
		}
	}
	if c := strings.Count(out, "bytes)"); c != 7 {
		t.Fatalf("%d capped values, want 7: %s", c, out)
	}
}

// BenchmarkHandler: the cost the cap adds to a facade request log line.
func BenchmarkHandler(b *testing.B) {
	for _, c := range []struct {
		name string
		wrap func(slog.Handler) slog.Handler
	}{{"plain", func(h slog.Handler) slog.Handler { return h }}, {"capped", logcap.Handler}} {
		b.Run(c.name, func(b *testing.B) {
			log := slog.New(c.wrap(slog.NewJSONHandler(io.Discard, nil)))
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("request_id", "0123456789abcdef01234567"),
					slog.String("method", "GET"), slog.String("route", "/fhir/:type/:id"), slog.String("type", "Patient"),
					slog.String("interaction", "read"), slog.String("backend", "legacy"), slog.Int("status", 200), slog.Float64("ms", 1.234))
			}
		})
	}
}
