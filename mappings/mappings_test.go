package mappings_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var update = flag.Bool("update", false, "rewrite golden files")

func registry(t testing.TB) *mappings.Registry {
	t.Helper()
	r, err := mappings.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mappings -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// TestSearchSQLGolden pins the SQL each dialect gets for a table of
// searches, T-SQL included (no SQL Server runs in CI: this is its check),
// and MySQL (whose positional ? placeholders must follow argument order).
func TestSearchSQLGolden(t *testing.T) {
	reg := registry(t)
	cases := []struct{ name, typ, query string }{
		{"patient-read-page", "Patient", "_count=20"},
		{"patient-name-birthdate", "Patient", "name=smi&birthdate=ge1980-01-01&birthdate=lt2000"},
		{"patient-family-exact-or", "Patient", "family:exact=Smith,O'Brien&gender=female,other"},
		{"patient-given-contains", "Patient", "given:contains=an_%25"},
		{"patient-identifier", "Patient", "identifier=urn:oid:2.16.840.1.113883.3.7777.1|MRN00000042"},
		{"patient-missing", "Patient", "phone:missing=true&_id=1,2,3"},
		{"patient-sort", "Patient", "_sort=-birthdate,family&_lastUpdated=gt2024-01-01T00:00:00Z"},
		{"encounter-date-period", "Encounter", "patient=Patient/7&date=ge2024-03&date=le2024-06-30&status=finished"},
		{"encounter-class", "Encounter", "class=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP&subject:Patient=7"},
		{"observation-bench", "Observation", "patient=42&code=http://loinc.org|2345-7&date=ge2023"},
		{"observation-code-nosystem", "Observation", "code=2345-7,GLU&category=laboratory&status=final,corrected"},
		{"observation-value-quantity", "Observation", "value-quantity=gt5.4&encounter=Encounter/3"},
		{"encounter-directory", "Encounter", "practitioner=Practitioner/DR0003&location=CARD&service-provider=1"},
		{"observation-performer", "Observation", "performer=DR0007&patient=42"},
		{"practitioner-name-npi", "Practitioner", "name=smi&identifier=http://hl7.org/fhir/sid/us-npi|1179269190&active=true"},
		{"organization-name-address", "Organization", "name=spring&address=IL&type=prov"},
		// the second identifier's system is a column: with a system, both columns
		// are compared; without one, either identifier; |code, no system at all
		{"organization-identifier-system-column", "Organization", "identifier=urn:oid:2.16.840.1.113883.4.7|05D0000001,https://www.naic.org|12345,ABC,|NOSYS,urn:oid:2.16.840.1.113883.4.7|"},
		{"location-organization", "Location", "organization=Organization/1&status=active&address-city=spr&_sort=name"},
		{"observation-date-prefixes", "Observation", "date=ne2024-01-01&date=sa2020-05-05T10:00:00Z&date=ap2024-06-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { searchGolden(t, reg.Spec(c.typ), c.name, c.query, nil) })
	}
}

// searchGolden pins the search SQL of every golden dialect for one query
// (after: a keyset page's cursor, nil for a first page), and checks that
// the arguments are bound in text order (MySQL's positional ?).
func searchGolden(t *testing.T, s *mappings.Spec, name, query string, after []any) {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(vals)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, d := range goldenDialects {
		r := mappings.SearchRequest{Query: q, Limit: 21, Strict: true, Now: now}
		if after != nil {
			r.After = &mappings.Cursor{Vals: after}
		}
		st, _, err := s.SearchStmt(d, r)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "-- %s\n%s\n-- args: %s\n\n", d.Name(), st.SQL, fmtArgs(st.Args))
		if d.Name() == "postgres" {
			inTextOrder(t, st.SQL, len(st.Args))
		}
	}
	golden(t, "sql/"+name+".sql", out.Bytes())
}

var pgParam = regexp.MustCompile(`\$[0-9]+`)

// inTextOrder checks that the numbered placeholders of q appear as $1, $2,
// … $n in the text: the order MySQL's positional ? binds its arguments in.
func inTextOrder(t *testing.T, q string, n int) {
	t.Helper()
	got := pgParam.FindAllString(q, -1)
	if len(got) != n {
		t.Fatalf("%d placeholders for %d arguments: %s", len(got), n, q)
	}
	for i, ph := range got {
		if ph != "$"+strconv.Itoa(i+1) {
			t.Fatalf("placeholder %d is %s: arguments are not bound in text order (MySQL's ? would take the wrong ones): %s", i+1, ph, q)
		}
	}
}

func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("%v", a)
	}
	return strings.Join(parts, " | ")
}

func TestStrictUnknownParameter(t *testing.T) {
	reg := registry(t)
	q := &search.Query{Params: []search.Param{{Name: "nickname", Values: []string{"x"}}}}
	_, _, err := reg.Spec("Patient").SearchStmt(sqldb.SQLite{}, mappings.SearchRequest{Query: q, Limit: 2, Strict: true, Now: now})
	if !errors.Is(err, mappings.ErrUnknownParam) {
		t.Fatalf("strict: got %v, want ErrUnknownParam", err)
	}
	_, ignored, err := reg.Spec("Patient").SearchStmt(sqldb.SQLite{}, mappings.SearchRequest{Query: q, Limit: 2, Now: now})
	if err != nil || len(ignored) != 1 || ignored[0] != "nickname" {
		t.Fatalf("lenient: ignored=%v err=%v", ignored, err)
	}
}

func TestSearchErrors(t *testing.T) {
	reg := registry(t)
	cases := []struct{ typ, query, want string }{
		{"Patient", "birthdate=1980-13-01", "not a valid calendar date"},
		{"Patient", "birthdate=yesterday", "not a FHIR date"},
		{"Patient", "family:sounds=x", "modifier :sounds"},
		{"Patient", "gender:text=x", "modifier :text"},
		{"Patient", "_sort=gender", "_sort=gender"},
		{"Observation", "value-quantity=abc", "not a number"},
		{"Observation", "patient.name=x", "chained"},
		{"Patient", `family=a\`, "lone backslash"},
		{"Patient", "phone:missing=maybe", "missing takes true or false"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			vals, _ := url.ParseQuery(c.query)
			q, err := search.ParseQuery(vals)
			if err == nil {
				_, _, err = reg.Spec(c.typ).SearchStmt(sqldb.Postgres{}, mappings.SearchRequest{Query: q, Limit: 2, Strict: true, Now: now})
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func patientRow(reg *mappings.Registry) mappings.Row {
	return reg.Spec("Patient").RowFrom(map[string]any{
		"t.pat_id": int64(42), "t.mrn": "MRN00000042", "t.last_nm": "O'Brien", "t.first_nm": "Zoë", "t.middle_nm": nil,
		"t.birth_dt": time.Date(1961, 2, 28, 0, 0, 0, 0, time.UTC), "t.sex_cd": "F", "t.addr_line1": "12 Main St",
		"t.city": "Salem", "t.state_cd": "OR", "t.zip_cd": "97301", "t.phone_home": nil, "t.deceased_yn": "Y",
		"t.deceased_dttm": time.Date(2024, 7, 1, 14, 30, 0, 0, time.UTC), "t.upd_ts": time.Date(2024, 7, 2, 9, 0, 0, 123e6, time.UTC),
	})
}

func observationRow(reg *mappings.Registry, val, unit any) mappings.Row {
	return reg.Spec("Observation").RowFrom(map[string]any{
		"t.result_id": int64(7), "t.pat_id": int64(42), "t.visit_id": nil, "t.local_test_cd": "CRP", "ltc.loinc_cd": "1988-5",
		"ltc.loinc_display": "C reactive protein [Mass/volume] in Serum or Plasma", "t.result_val": val, "t.result_unit": unit,
		"t.ref_range": "<5.0", "t.abn_flag": "N", "t.result_status": "F", "t.collected_dttm": "2024-01-05 07:30:00",
		"t.lab_accession": "ACC7", "t.upd_ts": "2024-01-05 09:00:00.5",
	})
}

// TestEncodeGolden pins mapped resources: translations, zones, choice types,
// comparators and decimal precision kept from the legacy text.
func TestEncodeGolden(t *testing.T) {
	reg := registry(t)
	cases := []struct {
		name string
		typ  string
		row  mappings.Row
	}{
		{"patient-deceased", "Patient", patientRow(reg)},
		{"observation-comparator", "Observation", observationRow(reg, "<0.5", "mg/L")},
		{"observation-precision", "Observation", observationRow(reg, "5.40", "mg/L")},
		{"observation-string", "Observation", observationRow(reg, "POS", nil)},
		{"encounter-open", "Encounter", reg.Spec("Encounter").RowFrom(map[string]any{
			"t.visit_id": int64(3), "t.pat_id": int64(42), "t.visit_type_cd": "IP", "t.visit_status_cd": "A",
			"t.admit_dttm": "2024-03-10 23:15:00", "t.disch_dttm": nil, "t.dept_cd": "CARD", "t.upd_ts": "2024-03-10 23:20:00.000"})},
		{"encounter-directory", "Encounter", reg.Spec("Encounter").RowFrom(map[string]any{
			"t.visit_id": int64(4), "t.pat_id": int64(42), "t.visit_type_cd": "OP", "t.visit_status_cd": "D",
			"t.admit_dttm": "2024-03-11 09:00:00", "t.disch_dttm": "2024-03-11 09:40:00", "t.dept_cd": "CARD",
			"t.attending_id": "DR0001", "t.facility_id": int64(1), "t.upd_ts": "2024-03-11 10:00:00.000"})},
		{"practitioner", "Practitioner", reg.Spec("Practitioner").RowFrom(map[string]any{
			"t.provider_id": "DR0001", "t.npi": "1179269190", "t.alt_id_sys": "http://www.acme.org/practitioners", "t.alt_id": "25456",
			"t.last_nm": "Jones", "t.first_nm": "James", "t.name_prefix": "Dr", "t.name_suffix": "MD", "t.specialty_cd": "CARD",
			"t.phone": "217-555-2001", "t.email": "james.jones@direct.example", "t.direct_yn": "Y", "t.addr_line1": "800 E Carpenter St",
			"t.city": "Springfield", "t.state_cd": "IL", "t.zip_cd": "62701", "t.active_yn": "Y", "t.upd_ts": "2024-07-07 18:01:17.250"})},
		{"organization-payer", "Organization", reg.Spec("Organization").RowFrom(map[string]any{
			"t.facility_id": int64(5), "t.facility_nm": "Madison Health Plan", "t.npi": nil, "t.alt_id_sys": "urn:oid:2.16.840.1.113883.6.300",
			"t.alt_id": "95555", "t.org_type_cd": "PAY", "t.active_yn": "N", "t.phone": "608-555-0100", "t.email": nil,
			"t.addr_line1": "1 S Pinckney St", "t.city": "Madison", "t.state_cd": "WI", "t.zip_cd": "53703", "t.country_cd": "USA",
			"t.upd_ts": "2025-04-01 12:00:00.000"})},
		{"location", "Location", reg.Spec("Location").RowFrom(map[string]any{
			"t.dept_cd": "ORTHO", "t.facility_id": int64(3), "fac.facility_nm": "Franklin Community Clinic", "t.dept_nm": "Orthopedics",
			"t.status_cd": "S", "t.loc_type_cd": "ORTHO", "t.npi": "1234567893", "t.phone": "615-555-0170", "t.addr_line1": "230 Mallory Station Rd",
			"t.city": "Franklin", "t.state_cd": "TN", "t.zip_cd": "37064", "t.country_cd": "USA", "t.upd_ts": "2025-05-01 12:00:00.000"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _, err := reg.Spec(c.typ).Encode(nil, c.row)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b)
			}
			pretty.WriteByte('\n')
			golden(t, "resources/"+c.name+".json", pretty.Bytes())
		})
	}
}

func TestEncodeUnknownCode(t *testing.T) {
	reg := registry(t)
	row := patientRow(reg)
	s := reg.Spec("Patient")
	bad := s.RowFrom(map[string]any{"t.pat_id": int64(1), "t.mrn": "M", "t.last_nm": "X", "t.sex_cd": "Q", "t.deceased_yn": "N", "t.upd_ts": "2024-01-01 00:00:00"})
	_, _, err := s.Encode(nil, bad)
	if !errors.Is(err, mappings.ErrUnmappable) || !strings.Contains(err.Error(), "Patient.gender") {
		t.Fatalf("got %v, want ErrUnmappable naming Patient.gender", err)
	}
	_ = row
}

func decode(t *testing.T, raw string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRoundTrip: a mapped resource decodes back to the row it came from.
func TestRoundTrip(t *testing.T) {
	reg := registry(t)
	s := reg.Spec("Patient")
	b, _, err := s.Encode(nil, patientRow(reg))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Decode(decode(t, string(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"t.mrn": "MRN00000042", "t.last_nm": "O'Brien", "t.first_nm": "Zoë", "t.sex_cd": "F",
		"t.deceased_yn": "Y", "t.birth_dt": "1961-02-28", "t.deceased_dttm": "2024-07-01 14:30:00", "t.zip_cd": "97301"}
	for col, w := range want {
		got := v[col]
		var s string
		switch x := got.(type) {
		case mappings.DateVal:
			s = x.Format("2006-01-02")
		case mappings.DateTimeVal:
			s = x.Format("2006-01-02 15:04:05")
		default:
			s = fmt.Sprint(x)
		}
		if s != w {
			t.Errorf("%s = %q, want %q", col, s, w)
		}
	}
	if v["t.middle_nm"] != nil || v["t.phone_home"] != nil {
		t.Errorf("absent elements must clear their columns: middle=%v phone=%v", v["t.middle_nm"], v["t.phone_home"])
	}
	o := reg.Spec("Observation")
	for _, val := range []string{"<0.5", "5.40", "POS"} {
		b, _, err := o.Encode(nil, observationRow(reg, val, "mg/L"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := o.Decode(decode(t, string(b)))
		if err != nil {
			t.Fatal(err)
		}
		if v["t.result_val"] != val {
			t.Errorf("result %q came back as %v", val, v["t.result_val"])
		}
	}
}

// TestDecodeRefuses: data the legacy schema cannot hold is named, never dropped.
func TestDecodeRefuses(t *testing.T) {
	reg := registry(t)
	cases := []struct{ name, typ, body, path string }{
		{"extension", "Patient", `{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"y"}]}`, "Patient.extension"},
		{"second name", "Patient", `{"resourceType":"Patient","name":[{"family":"A"},{"family":"B"}]}`, "Patient.name[1]"},
		{"third given", "Patient", `{"resourceType":"Patient","name":[{"family":"A","given":["a","b","c"]}]}`, "Patient.name[0].given[2]"},
		{"other identifier system", "Patient", `{"resourceType":"Patient","identifier":[{"system":"http://ssn","value":"1"}]}`, "Patient.identifier[0].system"},
		{"work phone", "Patient", `{"resourceType":"Patient","telecom":[{"system":"phone","use":"work","value":"1"}]}`, "Patient.telecom[0].use"},
		{"unknown gender code", "Patient", `{"resourceType":"Patient","gender":"robot"}`, "Patient.gender"},
		{"partial birth date", "Patient", `{"resourceType":"Patient","birthDate":"1980"}`, "Patient.birthDate"},
		{"meta tag", "Patient", `{"resourceType":"Patient","meta":{"tag":[{"code":"x"}]}}`, "Patient.meta.tag"},
		{"narrative", "Patient", `{"resourceType":"Patient","text":{"status":"additional","div":"<div/>"}}`, "Patient.text"},
		{"value range", "Observation", `{"resourceType":"Observation","valueRange":{"low":{"value":1}}}`, "Observation.valueRange"},
		{"quantity exponent", "Observation", `{"resourceType":"Observation","valueQuantity":{"value":1e999}}`, "Observation.valueQuantity.value"},
		{"quantity of 400 digits", "Observation", `{"resourceType":"Observation","valueQuantity":{"value":` + strings.Repeat("9", 400) + `}}`, "Observation.valueQuantity.value"},
		{"quantity of 18 fraction digits", "Observation", `{"resourceType":"Observation","valueQuantity":{"value":0.123456789012345678}}`, "Observation.valueQuantity.value"},
		{"quantity extra", "Observation", `{"resourceType":"Observation","valueQuantity":{"value":1,"id":"x"}}`, "Observation.valueQuantity.id"},
		{"fractional seconds", "Observation", `{"resourceType":"Observation","effectiveDateTime":"2024-01-01T10:00:00.5Z"}`, "Observation.effectiveDateTime"},
		{"reference to other type", "Observation", `{"resourceType":"Observation","subject":{"reference":"Group/1"}}`, "Observation.subject.reference"},
		// a coding whose system picks one of several template codings is
		// refused at the member that template coding cannot hold
		{"coding version", "Observation", `{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"2345-7","version":"2.7"}]}}`, "Observation.code.coding[0].version"},
		{"coding display", "Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11","display":"x"}]}}`, "Condition.code.coding[0].display"},
		// the SNOMED CT display and the text share prob_desc: they must agree
		{"display and text disagree", "Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"1","display":"x"}],"text":"y"}}`, "Condition.code.text"},
		{"second coding of one system", "Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"1"},{"system":"http://snomed.info/sct","code":"2"}]}}`, "Condition.code.coding[1]"},
		{"coding of no template system", "Observation", `{"resourceType":"Observation","code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}}`, "Observation.code.coding[0]"},
		{"bad category", "Observation", `{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]}`, "Observation.category[0].coding[0].code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := reg.Spec(c.typ).Decode(decode(t, c.body))
			var ee *backend.ElementError
			if !errors.As(err, &ee) || !errors.Is(err, mappings.ErrUnprocessable) {
				t.Fatalf("got %v, want an ElementError", err)
			}
			if ee.Path != c.path {
				t.Fatalf("path %q (%v), want %q", ee.Path, err, c.path)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	reg := registry(t)
	s := reg.Spec("Patient")
	v, err := s.Decode(decode(t, `{"resourceType":"Patient","name":[{"family":"A"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.CheckRequired(v)
	var ee *backend.ElementError
	if !errors.As(err, &ee) || ee.Path != "Patient.identifier[0].value" {
		t.Fatalf("got %v, want the MRN's element named", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"resourceType":"Patient"}`, `{"resourceType":"Observation","valueQuantity":{"value":1.5,"comparator":"<"}}`,
		`{"resourceType":"Patient","name":[{"given":["a",1]}]}`, `{"resourceType":"Encounter","period":{"start":"2024-01-01T00:00:00Z"}}`} {
		f.Add(s)
	}
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return
		}
		for _, typ := range reg.Types() {
			m["resourceType"] = typ
			if _, err := reg.Spec(typ).Decode(m); err != nil && !errors.Is(err, mappings.ErrUnprocessable) {
				t.Fatalf("%s: error outside ErrUnprocessable: %v", typ, err)
			}
		}
	})
}

func TestBadSpecs(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"injection in table", "resourceType: Patient\ntable: \"x; DROP TABLE y\"\nkey: id\nid: \"{{id | int}}\"\nlastUpdated: u\ntemplate: {resourceType: Patient}\n", "not a plain SQL name"},
		{"unknown field", "resourceType: Patient\ntabel: x\n", "field tabel not found"},
		{"unknown column alias", "resourceType: Patient\ntable: p\nkey: id\nid: \"{{id | int}}\"\nlastUpdated: u\ntemplate: {resourceType: Patient, gender: \"{{zz.sex}}\"}\n", "is not the table (t) or a join alias"},
		{"unknown transform", "resourceType: Patient\ntable: p\nkey: id\nid: \"{{id | int}}\"\nlastUpdated: u\ntemplate: {resourceType: Patient, gender: \"{{sex | soundex}}\"}\n", "unknown transform"},
		{"unknown map", "resourceType: Patient\ntable: p\nkey: id\nid: \"{{id | int}}\"\nlastUpdated: u\ntemplate: {resourceType: Patient, gender: \"{{sex | code:nope}}\"}\n", "code map \"nope\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := mappings.LoadDir(dir)
			if !errors.Is(err, mappings.ErrSpec) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrSpec containing %q", err, c.want)
			}
		})
	}
}
