package mappings

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestSeveralExpressions: one string may hold several {{...}}; a NULL in
// any leaves the whole string out (R2RML's rule), and written back the
// string is split at the literals between them.
func TestSeveralExpressions(t *testing.T) {
	src := `resourceType: Patient
table: p
key: id
id: "{{id | int}}"
lastUpdated: u
template:
  resourceType: Patient
  name:
    - text: "{{[Name Prefix]}} {{first}} {{last}}"
      family: "{{last}}"
  address:
    - text: "{{city}}, {{state}}"
writeBack: {create: true}
`
	reg, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	s := reg.Spec("Patient")
	row := func(prefix, first, last, city, state any) Row {
		r := make(Row, s.NumCols())
		vals := map[string]any{"t.id": int64(1), "t.u": "2024-01-02 03:04:05", "t.Name Prefix": prefix, "t.first": first, "t.last": last, "t.city": city, "t.state": state}
		for i, c := range s.cols {
			r[i] = vals[c]
		}
		return r
	}
	for _, c := range []struct {
		name string
		row  Row
		want []string
		not  []string
	}{
		{"all present", row("Dr.", "Ann", "Lee", "Albany", "NY"), []string{`"text":"Dr. Ann Lee"`, `"text":"Albany, NY"`}, nil},
		{"one NULL leaves the text out", row(nil, "Ann", "Lee", nil, "NY"), []string{`"family":"Lee"`}, []string{`"text"`, "address"}},
	} {
		js, _, err := s.Encode(nil, c.row)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(js), w) {
				t.Errorf("%s: %s lacks %s", c.name, js, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(js), w) {
				t.Errorf("%s: %s has %s", c.name, js, w)
			}
		}
	}
	var res map[string]any
	_ = json.Unmarshal([]byte(`{"resourceType":"Patient","name":[{"text":"Dr. Ann Lee","family":"Lee"}],"address":[{"text":"Albany, NY"}]}`), &res)
	v, err := s.Decode(res)
	if err != nil {
		t.Fatal(err)
	}
	if v["t.Name Prefix"] != "Dr." || v["t.first"] != "Ann" || v["t.city"] != "Albany" || v["t.state"] != "NY" {
		t.Errorf("decoded %v", v)
	}
	_ = json.Unmarshal([]byte(`{"resourceType":"Patient","name":[{"text":"Dr. Mary Ann Lee","family":"Lee"}]}`), &res)
	if _, err := s.Decode(res); err == nil || !strings.Contains(err.Error(), "cannot be split") {
		t.Errorf("a separator inside a value: %v, want refused", err)
	}
	bad := strings.Replace(src, `"{{city}}, {{state}}"`, `"{{city}}{{state}}"`, 1)
	if _, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(bad)}}); err == nil || !strings.Contains(err.Error(), "cannot be split") {
		t.Errorf("adjacent expressions: %v", err)
	}
}

// TestReferenceToUnmappedType: a reference parameter may target a type no
// spec maps (a Practitioner kept elsewhere): it is searched by the literal
// id its column holds.
func TestReferenceToUnmappedType(t *testing.T) {
	src := `resourceType: Observation
table: o
key: id
id: "{{id | int}}"
lastUpdated: u
template:
  resourceType: Observation
  performer: [{reference: "Practitioner/{{prov}}"}]
search:
  performer: {type: reference, column: prov, target: Practitioner, path: performer}
`
	s := mustSpec(t, "Observation", src)
	for _, c := range []struct{ q, want string }{
		{"performer=Practitioner/abc", "t.prov = $1"},
		{"performer=abc", "t.prov = $1"},
		{"performer=Organization/abc", "1=0"},
	} {
		if got := pgSQL(t, s, c.q); !strings.Contains(got, c.want) {
			t.Errorf("%s: %s", c.q, got)
		}
	}
	if _, err := Load(fstest.MapFS{"o.yaml": {Data: []byte(strings.Replace(src, "target: Practitioner", "target: 'x; DROP'", 1))}}); err == nil {
		t.Error("a target that is not a type name was accepted")
	}
}

// TestDefault: | default:TEXT stands for a NULL column value.
func TestDefault(t *testing.T) {
	src := `resourceType: Encounter
table: v
key: id
id: "{{id | int}}"
lastUpdated: u
codeMaps:
  status: {A: in-progress, D: finished}
template:
  resourceType: Encounter
  status: "{{st | code:status | default:A}}"
`
	s := mustSpec(t, "Encounter", src)
	for _, c := range []struct {
		st   any
		want string
	}{{nil, `"status":"in-progress"`}, {"D", `"status":"finished"`}} {
		js, _, err := s.Encode(nil, rowOf(s, map[string]any{"t.id": int64(1), "t.u": "2024-01-02 03:04:05", "t.st": c.st}))
		if err != nil || !strings.Contains(string(js), c.want) {
			t.Errorf("st %v: %s %v, want %s", c.st, js, err, c.want)
		}
	}
}

// TestStringSearchThroughCodeMap: a string parameter over a coded column
// matches what the resource shows (the FHIR code), not the stored code.
func TestStringSearchThroughCodeMap(t *testing.T) {
	src := `resourceType: Encounter
table: v
key: id
id: "{{id | int}}"
lastUpdated: u
codeMaps:
  dept: {CARD: cardiology, CARD2: cardiology, ONC: oncology}
template:
  resourceType: Encounter
  serviceType: {text: "{{dept | code:dept}}"}
search:
  service-type-text: {type: string, columns: [dept], map: dept}
`
	s := mustSpec(t, "Encounter", src)
	for _, c := range []struct{ q, want string }{
		{"service-type-text=Cardio", "t.dept IN ($1, $2)"},
		{"service-type-text:contains=log", "t.dept IN ($1, $2, $3)"},
		{"service-type-text:exact=oncology", "t.dept IN ($1)"},
		{"service-type-text=ONC2", "1=0"},
	} {
		if got := pgSQL(t, s, c.q); !strings.Contains(got, c.want) {
			t.Errorf("%s: %s", c.q, got)
		}
	}
}

// TestInstantInTheRepeatedHour: an instant in the hour the autumn change
// repeats is served with the offset of its own occurrence (rebuilt from
// its clock, it came out an hour early).
func TestInstantInTheRepeatedHour(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	s := &Spec{loc: loc}
	tr, _ := datetimeTransform(s, "")
	for _, c := range []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2021, 11, 7, 5, 39, 0, 0, time.UTC), `"2021-11-07T01:39:00-04:00"`},
		{time.Date(2021, 11, 7, 6, 39, 0, 0, time.UTC), `"2021-11-07T01:39:00-05:00"`},
	} {
		v, err := normalizerFor(sqldb.Postgres{}, sqldb.KindInstant, loc)(c.utc)
		if err != nil {
			t.Fatal(err)
		}
		b, _, _, err := tr.enc(nil, []any{v})
		if err != nil || string(b) != c.want {
			t.Errorf("%s: %s %v, want %s", c.utc, b, err, c.want)
		}
	}
}

// TestWhen: "$when" leaves an object out unless its expression holds.
func TestWhen(t *testing.T) {
	src := `resourceType: Patient
table: p
key: id
id: "{{id | int}}"
lastUpdated: u
template:
  resourceType: Patient
  telecom:
    - $when: "{{sms_ok}}"
      system: sms
      value: "{{cell}}"
    - system: phone
      value: "{{cell}}"
`
	s := mustSpec(t, "Patient", src)
	for _, c := range []struct {
		ok   any
		want bool
	}{{"Y", true}, {"N", false}, {nil, false}, {int64(1), true}, {int64(0), false}} {
		js, _, err := s.Encode(nil, rowOf(s, map[string]any{"t.id": int64(1), "t.u": "2024-01-02 03:04:05", "t.sms_ok": c.ok, "t.cell": "555-0100"}))
		if err != nil || strings.Contains(string(js), `"sms"`) != c.want || !strings.Contains(string(js), `"phone"`) {
			t.Errorf("sms_ok %v: %s %v", c.ok, js, err)
		}
	}
	if _, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(strings.Replace(src, `"{{sms_ok}}"`, `"x {{sms_ok}}"`, 1))}}); err == nil {
		t.Error("a $when that is not one expression was accepted")
	}
}

// mustSpec compiles one spec's YAML and returns it.
func mustSpec(t *testing.T, typ, src string) *Spec {
	t.Helper()
	reg, err := Load(fstest.MapFS{"s.yaml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Spec(typ)
}

// rowOf is a row of s with the given values by reference ("t.col"), NULL
// for the others.
func rowOf(s *Spec, vals map[string]any) Row {
	row := make(Row, s.NumCols())
	for i, col := range s.cols {
		row[i] = vals[col]
	}
	return row
}

// pgSQL is the PostgreSQL search statement of a query on s.
func pgSQL(t *testing.T, s *Spec, query string) string {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(vals)
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := s.SearchStmt(sqldb.Postgres{}, SearchRequest{Query: q, Limit: 5})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return st.SQL
}
