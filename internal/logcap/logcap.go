// Package logcap bounds what a log line can carry. Client-supplied values
// (token headers, request ids, methods, paths, error texts quoting them)
// reach the log; uncapped, one 600 KB JWT header logs 600 KB per request
// and turns the log into the attacker's write load.
package logcap

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Max is the most bytes of one logged value.
const Max = 256

// String is s cut to Max bytes (at a rune boundary, invalid UTF-8
// replaced) with a note of how much was left out.
func String(s string) string { return Cut(s, Max) }

// suffixRoom is what the note "…(+N bytes)" can take.
const suffixRoom = 24

// Cut is s cut to at most n bytes when it is longer, ending in the note
// "…(+N bytes)" (for n under 2*suffixRoom the note comes on top of n
// bytes of s); a short s is returned as it is. Cutting a cut value again
// changes nothing.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n
	if n >= 2*suffixRoom {
		end = n - suffixRoom
	}
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return strings.ToValidUTF8(s[:end], "\uFFFD") + "…(+" + strconv.Itoa(len(s)-end) + " bytes)"
}

// Attr is slog.String(key, String(v)).
func Attr(key, v string) slog.Attr { return slog.String(key, String(v)) }

// Handler wraps h so that every string value, error and Stringer of every
// record (the message included) is capped at Max bytes: a log call that
// forgot to cap a client value still cannot write more than Max of it.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(capped); ok {
		return h
	}
	return capped{h}
}

type capped struct{ h slog.Handler }

func (c capped) Enabled(ctx context.Context, l slog.Level) bool { return c.h.Enabled(ctx, l) }

func (c capped) Handle(ctx context.Context, r slog.Record) error {
	need := len(r.Message) > Max
	r.Attrs(func(a slog.Attr) bool {
		need = need || needsCap(a)
		return !need
	})
	if !need {
		return c.h.Handle(ctx, r) // the common line: nothing to copy
	}
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(capAttr(a))
		return true
	})
	return c.h.Handle(ctx, out)
}

func (c capped) WithAttrs(as []slog.Attr) slog.Handler {
	cs := make([]slog.Attr, len(as))
	for i, a := range as {
		cs[i] = capAttr(a)
	}
	return capped{c.h.WithAttrs(cs)}
}

func (c capped) WithGroup(name string) slog.Handler { return capped{c.h.WithGroup(name)} }

// needsCap reports whether capAttr could change a.
func needsCap(a slog.Attr) bool {
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		return len(v.String()) > Max
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return false
	}
	return true // groups, LogValuers, errors, Stringers: looked at in full
}

func capAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > Max {
			return slog.String(a.Key, String(v.String()))
		}
	case slog.KindGroup:
		g := v.Group()
		cs := make([]slog.Attr, len(g))
		for i, x := range g {
			cs[i] = capAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(cs...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, String(x.String()))
		case []byte:
			return slog.String(a.Key, String(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
