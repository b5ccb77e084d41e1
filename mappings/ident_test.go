package mappings

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestNames: names as real schemas spell them parse into unquoted parts
// and render quoted for each dialect, with quotes inside a name doubled
// (a name is never a way into the SQL).
func TestNames(t *testing.T) {
	cases := []struct {
		in                  string
		parts               []string
		pg, sqlserver, lite string
		err                 string
	}{
		{in: "pat_id", parts: []string{"pat_id"}, pg: "pat_id", sqlserver: "pat_id", lite: "pat_id"},
		{in: "PatientGUID", parts: []string{"PatientGUID"}, pg: `"PatientGUID"`, sqlserver: "[PatientGUID]", lite: `"PatientGUID"`},
		{in: `"Name Prefix"`, parts: []string{"Name Prefix"}, pg: `"Name Prefix"`, sqlserver: "[Name Prefix]", lite: `"Name Prefix"`},
		{in: "[Name Prefix]", parts: []string{"Name Prefix"}, pg: `"Name Prefix"`, sqlserver: "[Name Prefix]", lite: `"Name Prefix"`},
		{in: "dbo.PatientMaster", parts: []string{"dbo", "PatientMaster"}, pg: `dbo."PatientMaster"`, sqlserver: "dbo.[PatientMaster]", lite: `"PatientMaster"`},
		{in: "[dbo].[Patient Master]", parts: []string{"dbo", "Patient Master"}, pg: `dbo."Patient Master"`, sqlserver: "dbo.[Patient Master]", lite: `"Patient Master"`},
		{in: `"a""b"`, parts: []string{`a"b`}, pg: `"a""b"`, sqlserver: `[a"b]`, lite: `"a""b"`},
		{in: "[x]]; DROP TABLE y --]", parts: []string{"x]; DROP TABLE y --"}, pg: `"x]; DROP TABLE y --"`, sqlserver: "[x]]; DROP TABLE y --]", lite: `"x]; DROP TABLE y --"`},
		{in: "user", parts: []string{"user"}, pg: `"user"`, sqlserver: "[user]", lite: `"user"`},
		{in: "x; DROP TABLE y", err: "not a plain SQL name"},
		{in: `"unterminated`, err: "unterminated"},
		{in: `""`, err: "1 to 128"},
		{in: "a.b.c", err: "at most 2"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			tn, err := parseTable(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parts, _ := parseName(c.in, 2)
			if strings.Join(parts, "|") != strings.Join(c.parts, "|") {
				t.Errorf("parts %q, want %q", parts, c.parts)
			}
			// SpecName writes each part so that it parses back to itself
			for _, part := range c.parts {
				if back, err := parseName(SpecName(part), 1); err != nil || back[0] != part {
					t.Errorf("SpecName(%q) = %s parses back as %q, %v", part, SpecName(part), back, err)
				}
			}
			for _, d := range []struct {
				d    sqldb.Dialect
				want string
			}{{sqldb.Postgres{}, c.pg}, {sqldb.SQLServer{}, c.sqlserver}, {sqldb.SQLite{}, c.lite}} {
				if got := tn.sql(d.d); got != d.want {
					t.Errorf("%s: %s, want %s", d.d.Name(), got, d.want)
				}
			}
		})
	}
}

// TestTransformKindsListed: every transform says which column kinds it
// reads, so Bind type-checks it.
func TestTransformKindsListed(t *testing.T) {
	for name := range transforms {
		if _, ok := transformKinds[name]; !ok {
			t.Errorf("transform %s has no entry in transformKinds", name)
		}
	}
}

// TestNoLastUpdated: a spec without lastUpdated compiles (read-only),
// versions rows by content, and refuses _lastUpdated with a clear error.
func TestNoLastUpdated(t *testing.T) {
	src := "resourceType: Patient\ntable: p\nkey: id\nid: \"{{id | int}}\"\ntemplate: {resourceType: Patient, gender: \"{{sex}}\"}\n"
	reg, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	s := reg.Spec("Patient")
	js, m, err := s.Encode(nil, Row{int64(7), "female"})
	if err != nil || m.LastUpdated != (time.Time{}) || !strings.HasPrefix(m.VersionID, "h") || strings.Contains(string(js), "lastUpdated") {
		t.Fatalf("encode: %s %+v %v", js, m, err)
	}
	if _, m2, _ := s.Encode(nil, Row{int64(7), "male"}); m2.VersionID == m.VersionID {
		t.Errorf("content changed, version %s did not", m.VersionID)
	}
	for _, q := range []string{"_lastUpdated=ge2024", "_sort=_lastUpdated"} {
		vals, _ := url.ParseQuery(q)
		sq, err := search.ParseQuery(vals)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.SearchStmt(sqldb.Postgres{}, SearchRequest{Query: sq, Limit: 10})
		if !errors.Is(err, search.ErrInvalid) || !strings.Contains(err.Error(), "no last-updated column") {
			t.Errorf("%s: %v", q, err)
		}
	}
	bad := strings.Replace(src, "template:", "writeBack: {create: true}\ntemplate:", 1)
	if _, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(bad)}}); err == nil || !strings.Contains(err.Error(), "writeBack needs a lastUpdated") {
		t.Errorf("writeBack without lastUpdated: %v", err)
	}
}
