package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// line is one line of a pretty-printed resource; Diff marks the lines of
// an element the comparison found different.
type line struct {
	Text string
	Diff bool
}

// diffLines pretty-prints raw (keys sorted, so both sides line up) and
// marks the lines of every element at or under one of paths (compare.Diff
// paths: "name[0].family", "" for the root).
func diffLines(raw json.RawMessage, paths []string) []line {
	if len(raw) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return []line{{Text: string(raw)}}
	}
	p := printer{paths: paths}
	p.value("", "", v, 0, "")
	return p.out
}

type printer struct {
	paths []string
	out   []line
}

// marked reports whether path is one of the differing paths or inside one.
func (p *printer) marked(path string) bool {
	for _, d := range p.paths {
		if d == "" || d == path || strings.HasPrefix(path, d+".") || strings.HasPrefix(path, d+"[") {
			return true
		}
	}
	return false
}

// value prints v at path; key is its `"name": ` prefix, tail its comma.
func (p *printer) value(path, key string, v any, depth int, tail string) {
	ind := strings.Repeat("  ", depth)
	mark := path != "" && p.marked(path)
	switch x := v.(type) {
	case map[string]any:
		p.out = append(p.out, line{Text: ind + key + "{", Diff: mark})
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			p.value(sub, fmt.Sprintf("%q: ", k), x[k], depth+1, comma(i, len(keys)))
		}
		p.out = append(p.out, line{Text: ind + "}" + tail, Diff: mark})
	case []any:
		p.out = append(p.out, line{Text: ind + key + "[", Diff: mark})
		for i, e := range x {
			p.value(fmt.Sprintf("%s[%d]", path, i), "", e, depth+1, comma(i, len(x)))
		}
		p.out = append(p.out, line{Text: ind + "]" + tail, Diff: mark})
	default:
		b, _ := json.Marshal(x)
		p.out = append(p.out, line{Text: ind + key + string(b) + tail, Diff: mark})
	}
}

func comma(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}

// elementDiff is one differing element's value on each side (JSON; ""
// when the side does not have it).
type elementDiff struct {
	Path, Legacy, FHIR string
}

// elementDiffs picks each differing path's value out of both sides.
func elementDiffs(legacy, fhir json.RawMessage, paths []string) []elementDiff {
	var l, f any
	_ = json.Unmarshal(legacy, &l)
	_ = json.Unmarshal(fhir, &f)
	out := make([]elementDiff, 0, len(paths))
	for _, p := range paths {
		out = append(out, elementDiff{Path: p, Legacy: valueAt(l, p), FHIR: valueAt(f, p)})
	}
	return out
}

// valueAt is the JSON of the element at a compare.Diff path
// ("name[0].family"), "" when absent.
func valueAt(v any, path string) string {
	if path != "" {
		for _, part := range strings.Split(strings.ReplaceAll(path, "[", ".["), ".") {
			if part == "" {
				continue
			}
			if strings.HasPrefix(part, "[") {
				var i int
				a, ok := v.([]any)
				if _, err := fmt.Sscanf(part, "[%d]", &i); err != nil || !ok || i < 0 || i >= len(a) {
					return ""
				}
				v = a[i]
				continue
			}
			m, ok := v.(map[string]any)
			if !ok {
				return ""
			}
			if v, ok = m[part]; !ok {
				return ""
			}
		}
	}
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
