package search

import (
	"reflect"
	"strings"
	"testing"
)

// splitListCopying is SplitList as it was before it returned slices of
// its input: the oracle the faster one is held to.
func splitListCopying(raw string) ([]string, bool) {
	var out []string
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			b.WriteByte(c)
			b.WriteByte(raw[i+1])
			i++
			continue
		}
		if c == ',' {
			out = append(out, b.String())
			b.Reset()
			if len(out) > MaxValues {
				return nil, false
			}
			continue
		}
		b.WriteByte(c)
	}
	out = append(out, b.String())
	return out, len(out) <= MaxValues
}

var listShapes = []string{"", ",", ",,", "a", "a,b", `a\,b`, `a\\,b`, `a\`, `\`, `a,\`, `a\,`, `\,\,`, "http://loinc.org|2345-7,http://loinc.org|718-7",
	strings.Repeat("x,", MaxValues), strings.Repeat("x,", MaxValues-1) + "x", strings.Repeat(`\,`, 200)}

func TestSplitListMatchesCopying(t *testing.T) {
	for _, raw := range listShapes {
		checkSplitList(t, raw)
	}
}

func FuzzSplitList(f *testing.F) {
	for _, raw := range listShapes {
		f.Add(raw)
	}
	f.Fuzz(checkSplitList)
}

func checkSplitList(t *testing.T, raw string) {
	want, ok := splitListCopying(raw)
	got, err := SplitList(raw)
	if (err == nil) != ok || ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("SplitList(%q) = %q, %v; the copying split gives %q, %v", raw, got, err, want, ok)
	}
}
