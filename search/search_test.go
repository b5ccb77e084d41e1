package search_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
)

func TestParseDate(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		in     string
		prefix search.Prefix
		lo, hi string
	}{
		{"2018", search.EQ, "2018-01-01T00:00:00-05:00", "2019-01-01T00:00:00-05:00"},
		{"ge2018-10", search.GE, "2018-10-01T00:00:00-04:00", "2018-11-01T00:00:00-04:00"},
		{"lt2018-10-29", search.LT, "2018-10-29T00:00:00-04:00", "2018-10-30T00:00:00-04:00"},
		{"sa2018-10-29T17:12", search.SA, "2018-10-29T17:12:00-04:00", "2018-10-29T17:13:00-04:00"},
		{"eb2018-10-29T17:12:44Z", search.EB, "2018-10-29T17:12:44Z", "2018-10-29T17:12:45Z"},
		{"ap2018-10-29T17:12:44.1+02:00", search.AP, "2018-10-29T17:12:44.1+02:00", "2018-10-29T17:12:44.2+02:00"},
		{"2018-10-29T17:12:44 02:00", search.EQ, "2018-10-29T17:12:44+02:00", "2018-10-29T17:12:45+02:00"},
		{"2018-10-29T17:12:44-14:00", search.EQ, "2018-10-29T17:12:44-14:00", "2018-10-29T17:12:45-14:00"},
	}
	for _, c := range cases {
		d, err := search.ParseDate(c.in, ny)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		lo, _ := time.Parse(time.RFC3339Nano, c.lo)
		hi, _ := time.Parse(time.RFC3339Nano, c.hi)
		if d.Prefix != c.prefix || !d.Lo.Equal(lo) || !d.Hi.Equal(hi) {
			t.Errorf("%s: got %s [%v, %v), want %s [%v, %v)", c.in, d.Prefix, d.Lo, d.Hi, c.prefix, lo, hi)
		}
	}
	for _, bad := range []string{"", "18", "2018-13", "2018-02-30", "2018-10-29T25:00", "2018-10-29T10", "gt", "xx2018", "2018-10-29T10:00:00+25:00x", "2018-10-29T10:00:00+15:00", "2018-10-29T10:00:00-14:30"} {
		if _, err := search.ParseDate(bad, ny); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestParseQuery(t *testing.T) {
	v, _ := url.ParseQuery(`family=a\,b,c&family=d&_count=5000&_sort=-birthdate,_id&given:exact=X&_summary=count`)
	q, err := search.ParseQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != search.MaxCount || len(q.Sort) != 2 || !q.Sort[0].Desc || q.Summary != "count" {
		t.Fatalf("control params: %+v", q)
	}
	var fam []search.Param
	for _, p := range q.Params {
		if p.Name == "family" {
			fam = append(fam, p)
		}
	}
	if len(fam) != 2 || len(fam[0].Values)+len(fam[1].Values) != 3 {
		t.Fatalf("family AND/OR: %+v", fam)
	}
	for _, bad := range []string{"_count=x", "_count=-1", "_total=some", "_summary=yes", "_elements=id,,name", "a=" + strings.Repeat("x,", 200), "_count=5&_count=50", "_total=none&_total=accurate", "_summary=count&_summary=false"} {
		v, _ := url.ParseQuery(bad)
		if _, err := search.ParseQuery(v); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("%s: got %v", bad, err)
		}
	}
}

func TestToken(t *testing.T) {
	cases := []struct {
		in  string
		sys string
		has bool
		cd  string
	}{
		{"code", "", false, "code"}, {"|code", "", true, "code"}, {"http://x|c", "http://x", true, "c"},
		{`http://x\|c`, "", false, "http://x|c"}, {"http://x|", "http://x", true, ""},
	}
	for _, c := range cases {
		tok, err := search.ParseToken(c.in)
		if err != nil || tok.System != c.sys || tok.HasSystem != c.has || tok.Code != c.cd {
			t.Errorf("%s: %+v %v", c.in, tok, err)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"family=a&_count=3", `name=a\,b,c`, "_sort=-x,y", "a:missing=true", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := search.ParseQuery(v)
		if err != nil {
			if !errors.Is(err, search.ErrInvalid) {
				t.Fatalf("error outside ErrInvalid: %v", err)
			}
			return
		}
		for _, p := range q.Params {
			if len(p.Values) > search.MaxValues {
				t.Fatalf("OR list of %d passed", len(p.Values))
			}
		}
		if q.Count > search.MaxCount || q.Count < 0 {
			t.Fatalf("_count %d", q.Count)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2018", "ge2018-10-29T10:00:00Z", "ap2020-02-29T23:59:59.999+14:00", "eb0001-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := search.ParseDate(raw, time.UTC)
		if err != nil {
			return
		}
		if !d.Hi.After(d.Lo) {
			t.Fatalf("%q: empty range [%v, %v)", raw, d.Lo, d.Hi)
		}
	})
}

// TestSummaryAndElements: the _summary values and how _elements splits.
func TestSummaryAndElements(t *testing.T) {
	cases := []struct {
		in, summary string
		elements    []string
	}{
		{"_summary=true", "true", nil}, {"_summary=text", "text", nil}, {"_summary=data", "data", nil},
		{"_summary=count", "count", nil}, {"_summary=false", "", nil},
		{"_elements=name,%20birthDate&_elements=gender", "", []string{"name", "birthDate", "gender"}},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.in)
		q, err := search.ParseQuery(v)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if q.Summary != c.summary || strings.Join(q.Elements, "|") != strings.Join(c.elements, "|") {
			t.Errorf("%s: got %q %q", c.in, q.Summary, q.Elements)
		}
	}
}
