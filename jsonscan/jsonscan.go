// Package jsonscan finds values in FHIR JSON without decoding it: the hot
// paths (every resource a FHIR server returns, every search answer the
// audit trail notes) need a handful of top-level elements of documents
// whose full decode costs ten times the scan.
package jsonscan

import (
	"bytes"
	"encoding/json"
)

// TopLevel returns the raw values of the top-level elements names of a
// JSON object (nil where absent), in one pass over the bytes instead of a
// decode: this runs for every resource of every search answer the audit
// trail notes and every resource the FHIR server returns, where a full
// decode cost 7-10 µs per Observation. Keys are
// compared as written; an escaped key ("sub\u006aect") is not found, which
// drops the resource from a narrowed answer (fail safe) — neither backend
// writes one.
func TopLevel(raw []byte, names ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(names))
	left := len(names)
	depth := 0
	for i := 0; i < len(raw) && left > 0; i++ {
		switch raw[i] {
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return out
			}
			if depth == 1 && expectKey(raw, i) {
				key := raw[i+1 : end]
				for n, name := range names {
					if out[n] == nil && string(key) == name {
						out[n] = valueAt(raw, end+1)
						left--
					}
				}
			}
			i = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return out
}

// stringEnd is the index of the quote closing the string opening at i (-1
// if it never closes); it jumps from quote to quote, since strings are most
// of a resource's bytes.
func stringEnd(raw []byte, i int) int {
	for j := i + 1; j < len(raw); {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		bs := 0
		for b := q - 1; b > i && raw[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		j = q + 1
	}
	return -1
}

// expectKey: the string opening at i is an object key (preceded by { or ,).
func expectKey(raw []byte, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch raw[j] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', ',':
			return true
		}
		return false
	}
	return false
}

// valueAt is the JSON value after the ':' that follows position i.
func valueAt(raw []byte, i int) json.RawMessage {
	for i < len(raw) && raw[i] != ':' {
		i++
	}
	i++
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	start, depth := i, 0
	for ; i < len(raw); i++ {
		switch ch := raw[i]; {
		case depth == 0 && (ch == ',' || ch == '}'):
			return bytes.TrimRight(raw[start:i], " \t\n\r") // a number, true, false, null
		case ch == '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return nil
			}
			if depth == 0 {
				return raw[start : end+1]
			}
			i = end
		case ch == '{' || ch == '[':
			depth++
		case ch == '}' || ch == ']':
			depth--
			if depth == 0 {
				return raw[start : i+1]
			}
		}
	}
	return nil
}

// String decodes a raw JSON string value; ok is false for anything else.
// Values without escapes (ids, versions, instants) take no decode.
func String(raw json.RawMessage) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
