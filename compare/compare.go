// Package compare says whether two resources are the same resource for a
// migration's purposes and where they differ: server-assigned meta ignored,
// keys unordered, numbers by value, date-times as instants. Shadow reads
// (the Comparer) and parity reports use it, so the two cannot disagree
// about what a match is.
package compare

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

// ignored are the meta paths that differ between any two servers by
// design (Diff skips them; Hash drops them).
var ignored = map[string]bool{"meta.versionId": true, "meta.lastUpdated": true, "meta.source": true}

// Diff lists the element paths where two resources differ after
// normalisation: server-assigned meta ignored, numbers compared by value,
// date-times compared as instants, empty meta dropped.
func Diff(a, b []byte) []string {
	va, vb := decode(a), decode(b)
	var out []string
	diff("", va, vb, &out)
	sort.Strings(out)
	return out
}

func decode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

func diff(path string, a, b any, out *[]string) {
	if ignored[path] {
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, orRoot(path))
			return
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if k == "meta" && path == "" && emptyMeta(x[k]) && emptyMeta(y[k]) {
				continue
			}
			diff(p, x[k], y[k], out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, orRoot(path))
			return
		}
		for i := range x {
			diff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
	case json.Number:
		y, ok := b.(json.Number)
		ra, okA := new(big.Rat).SetString(string(x))
		rb, okB := new(big.Rat).SetString(string(y))
		if !ok || !okA || !okB || ra.Cmp(rb) != 0 {
			*out = append(*out, orRoot(path))
		}
	case string:
		y, ok := b.(string)
		if ok && x == y {
			return
		}
		ta, e1 := time.Parse(time.RFC3339Nano, x)
		tb, e2 := time.Parse(time.RFC3339Nano, y)
		if ok && e1 == nil && e2 == nil && ta.Equal(tb) {
			return
		}
		*out = append(*out, orRoot(path))
	default:
		if a != b {
			*out = append(*out, orRoot(path))
		}
	}
}

func emptyMeta(v any) bool {
	m, ok := v.(map[string]any)
	if v == nil {
		return true
	}
	if !ok {
		return false
	}
	for k := range m {
		if !ignored["meta."+k] {
			return false
		}
	}
	return true
}

func orRoot(p string) string {
	if p == "" {
		return "(resource)"
	}
	return p
}

// Hash is the SHA-256 of a resource's normalised form: server-assigned meta
// dropped, keys sorted, numbers by value, date-times as UTC instants.
func Hash(rawJSON []byte) string {
	v := decode(rawJSON)
	if m, ok := v.(map[string]any); ok {
		if meta, ok := m["meta"].(map[string]any); ok {
			for k := range meta {
				if ignored["meta."+k] {
					delete(meta, k)
				}
			}
			if len(meta) == 0 {
				delete(m, "meta")
			}
		}
	}
	var b strings.Builder
	canon(&b, v)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func canon(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "%q:", k)
			canon(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, y := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			canon(b, y)
		}
		b.WriteByte(']')
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if ok {
			b.WriteString("n:" + r.RatString())
		} else {
			b.WriteString("n:" + string(x))
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
			b.WriteString("t:" + t.UTC().Format(time.RFC3339Nano))
			return
		}
		fmt.Fprintf(b, "%q", x)
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// IgnoredPaths lists the element paths Diff and Hash ignore, sorted (for
// reports).
func IgnoredPaths() []string {
	out := make([]string, 0, len(ignored))
	for p := range ignored {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
