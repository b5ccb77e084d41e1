package facade_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

const patients = 30

type env struct {
	t    *testing.T
	srv  *httptest.Server
	ops  *httptest.Server // the operations listener (OpsHandler)
	logs *bytes.Buffer
	db   *sqldb.DB // the legacy database
}

func newEnv(t *testing.T, open func(testing.TB) *sqldb.DB) *env {
	t.Helper()
	db := open(t)
	return newEnvOn(t, db, testutil.Seed(t, db, patients))
}

// newEnvOn is the env over a seeded legacy database and its bound specs
// (either demo schema).
func newEnvOn(t *testing.T, db *sqldb.DB, reg *mappings.Registry) *env {
	t.Helper()
	sealer := testutil.Sealer(t)
	types := map[string]bool{}
	for _, ty := range reg.Types() {
		types[ty] = true
	}
	logs := &bytes.Buffer{}
	var srv *facade.Server
	hs := testutil.Serve(t, func(base string) http.Handler {
		srv = facade.New(facade.Config{
			Catalog: catalog.FromSpecs(reg),
			Router:  facade.StaticRouter{Backend: legacy.New(db, reg), Types: types},
			Sealer:  sealer,
			Log:     slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, nil)),
			Ready:   map[string]func(context.Context) error{"legacy": db.PingContext},
			BaseURL: base,
		})
		return srv.Handler()
	}, production(0))
	ops := httptest.NewServer(srv.OpsHandler())
	t.Cleanup(ops.Close)
	return &env{t: t, srv: hs, ops: ops, logs: logs, db: db}
}

// production gives a test server the HTTP server's header limit (and
// read timeout, when not 0) of production.
func production(readTimeout time.Duration) func(*http.Server) {
	return func(s *http.Server) {
		s.MaxHeaderBytes = facade.MaxHeaderBytes
		s.ReadTimeout = readTimeout
	}
}

type syncWriter struct{ w *bytes.Buffer }

func (s *syncWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (e *env) do(method, path string, body string, hdr ...string) resp {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h // the client sends req.Host, never a Host header field
	}
	return e.send(req)
}

// send sends req and reads the answer (a FHIR resource, checked against
// the R4 schema, when there is a body).
func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	method, path := req.Method, req.URL.Path
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
		e.validate(r.body, raw)
	}
	return r
}

// validate checks every resource the facade emits against the R4 schema.
func (e *env) validate(m map[string]any, raw []byte) {
	e.t.Helper()
	typ, _ := m["resourceType"].(string)
	if typ == "" {
		e.t.Fatalf("response without resourceType: %s", raw)
	}
	if err := testutil.ValidateFHIR(e.t, typ, raw); err != nil {
		e.t.Fatalf("%v\n%s", err, raw)
	}
}

func (e *env) get(path string, hdr ...string) resp { return e.do("GET", path, "", hdr...) }

func entries(r resp, mode string) []map[string]any {
	var out []map[string]any
	es, _ := r.body["entry"].([]any)
	for _, x := range es {
		en := x.(map[string]any)
		if en["search"].(map[string]any)["mode"] == mode {
			out = append(out, en["resource"].(map[string]any))
		}
	}
	return out
}

func link(r resp, rel string) string {
	ls, _ := r.body["link"].([]any)
	for _, x := range ls {
		l := x.(map[string]any)
		if l["relation"] == rel {
			return l["url"].(string)
		}
	}
	return ""
}

func outcomeText(r resp) string {
	b, _ := json.Marshal(r.body["issue"])
	return string(b)
}

func (e *env) wantStatus(r resp, want int, what string) {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("%s: status %d, want %d: %s\nlog:\n%s", what, r.status, want, r.raw, lastLines(e.logs.String(), 5))
	}
	if want >= 400 && r.body["resourceType"] != "OperationOutcome" {
		e.t.Fatalf("%s: error without an OperationOutcome: %s", what, r.raw)
	}
}

func TestFacade(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		t.Run("read", func(t *testing.T) { e.t = t; testRead(e) })
		t.Run("paging with include to the last page", func(t *testing.T) { e.t = t; testPaging(e) })
		t.Run("revinclude and counts", func(t *testing.T) { e.t = t; testRevInclude(e) })
		t.Run("sorted paging", func(t *testing.T) { e.t = t; testSortedPaging(e) })
		t.Run("strict and lenient", func(t *testing.T) { e.t = t; testStrict(e) })
		t.Run("writes", func(t *testing.T) { e.t = t; testWrites(e) })
		t.Run("hostile input", func(t *testing.T) { e.t = t; testHostile(e) })
		t.Run("metadata and ops", func(t *testing.T) { e.t = t; testOps(e) })
		t.Run("delete of a referenced resource", func(t *testing.T) { e.t = t; testReferenced(e) })
	})
}

func testRead(e *env) {
	r := e.get("/fhir/Patient/1")
	e.wantStatus(r, 200, "read")
	if r.body["id"] != "1" || r.header.Get("ETag") == "" || r.header.Get("Last-Modified") == "" {
		e.t.Fatalf("read: id/ETag/Last-Modified missing: %v %v", r.body["id"], r.header)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		e.t.Fatalf("content type %q", ct)
	}
	etag := r.header.Get("ETag")
	if nm := e.get("/fhir/Patient/1", "If-None-Match", etag); nm.status != 304 {
		e.t.Fatalf("If-None-Match: %d", nm.status)
	}
	for _, path := range []string{"/fhir/Encounter/1", "/fhir/Observation/1"} {
		e.wantStatus(e.get(path), 200, path)
	}
	e.wantStatus(e.get("/fhir/Patient/999999"), 404, "missing id")
	e.wantStatus(e.get("/fhir/Patient/abc"), 404, "non-numeric id")
	e.wantStatus(e.get("/fhir/Medication/1"), 404, "unmapped type")
	e.wantStatus(e.get("/fhir/Patient/1?_format=xml"), 406, "xml")
	e.wantStatus(e.get("/fhir/Patient/1?_format=json"), 200, "_format=json")
}

func testPaging(e *env) {
	next := "/fhir/Observation?patient=1&_include=Observation:patient&_count=7"
	var ids []string
	pages := 0
	for next != "" {
		r := e.get(next)
		e.wantStatus(r, 200, "page")
		if r.body["type"] != "searchset" {
			e.t.Fatalf("bundle type %v", r.body["type"])
		}
		for _, m := range entries(r, "match") {
			ids = append(ids, m["id"].(string))
			if m["subject"].(map[string]any)["reference"] != "Patient/1" {
				e.t.Fatalf("observation of another patient: %v", m["subject"])
			}
		}
		inc := entries(r, "include")
		if len(inc) != 1 || inc[0]["resourceType"] != "Patient" || inc[0]["id"] != "1" {
			e.t.Fatalf("page %d: want Patient/1 included once, got %v", pages, inc)
		}
		next = link(r, "next")
		if strings.Contains(next, "patient=") || strings.Contains(next, "pat_id") {
			e.t.Fatalf("next link leaks the query or keys: %s", next)
		}
		pages++
		if pages > 10 {
			e.t.Fatal("paging does not end")
		}
	}
	if len(ids) != seed.ResultsPerPatient || pages != 3 {
		e.t.Fatalf("got %d observations in %d pages, want %d in 3", len(ids), pages, seed.ResultsPerPatient)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			e.t.Fatalf("observation %s twice", id)
		}
		seen[id] = true
	}
	// a tampered token is refused
	r := e.get("/fhir/Observation?patient=1&_count=7")
	tok := link(r, "next")
	u, _ := url.Parse(tok)
	p := u.Query().Get("_page")
	bad := p[:len(p)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(p, "AA")]
	e.wantStatus(e.get("/fhir/Observation?_page="+bad), 400, "tampered token")
	e.wantStatus(e.get("/fhir/Patient?_page="+p), 400, "token of another type")
}

func testRevInclude(e *env) {
	r := e.get("/fhir/Patient?_id=2&_revinclude=Observation:patient&_revinclude=Encounter:subject")
	e.wantStatus(r, 200, "revinclude")
	if len(entries(r, "match")) != 1 {
		e.t.Fatalf("matches: %d", len(entries(r, "match")))
	}
	inc := entries(r, "include")
	byType := map[string]int{}
	for _, x := range inc {
		byType[x["resourceType"].(string)]++
	}
	if byType["Observation"] != seed.ResultsPerPatient || byType["Encounter"] != seed.VisitsPerPatient {
		e.t.Fatalf("revincluded %v", byType)
	}
	c := e.get("/fhir/Observation?patient=Patient/2&_summary=count")
	e.wantStatus(c, 200, "count")
	if c.body["total"] != float64(seed.ResultsPerPatient) || c.body["entry"] != nil {
		e.t.Fatalf("_summary=count: total %v, entries %v", c.body["total"], c.body["entry"])
	}
	all := e.get("/fhir/Patient?_total=accurate&_count=5")
	if all.body["total"] != float64(patients) {
		e.t.Fatalf("_total=accurate: %v", all.body["total"])
	}
	// token with system, OR lists, AND of repeats: LOINC codes of patient 2
	obs := entries(e.get("/fhir/Observation?patient=2&_count=100"), "match")
	code := obs[0]["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
	want := 0
	for _, o := range obs {
		if o["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] == code {
			want++
		}
	}
	got := e.get("/fhir/Observation?patient=2&code=http://loinc.org|" + code + "&_total=accurate")
	if got.body["total"] != float64(want) {
		e.t.Fatalf("code search: %v, want %d", got.body["total"], want)
	}
	none := e.get("/fhir/Observation?patient=2&code=http://snomed.info/sct|" + code + "&_total=accurate")
	if none.body["total"] != float64(0) {
		e.t.Fatalf("wrong system matched: %v", none.body["total"])
	}
}

func testSortedPaging(e *env) {
	all := entries(e.get("/fhir/Patient?_count=1000"), "match")
	var prev string
	count := 0
	next := "/fhir/Patient?_sort=-birthdate&_count=4"
	seen := map[string]bool{}
	for next != "" {
		r := e.get(next)
		e.wantStatus(r, 200, "sorted page")
		for _, m := range entries(r, "match") {
			bd, _ := m["birthDate"].(string)
			if prev != "" && bd > prev {
				e.t.Fatalf("not descending: %s after %s", bd, prev)
			}
			prev = bd
			if seen[m["id"].(string)] {
				e.t.Fatalf("duplicate %v", m["id"])
			}
			seen[m["id"].(string)] = true
			count++
		}
		next = link(r, "next")
	}
	if count != len(all) {
		e.t.Fatalf("sorted paging returned %d of %d", count, len(all))
	}
}

func testStrict(e *env) {
	r := e.get("/fhir/Patient?nickname=x", "Prefer", "handling=strict")
	e.wantStatus(r, 400, "strict unknown param")
	if !strings.Contains(outcomeText(r), "nickname") {
		e.t.Fatalf("outcome does not name the parameter: %s", r.raw)
	}
	r = e.get("/fhir/Patient?nickname=x&_count=1")
	e.wantStatus(r, 200, "lenient unknown param")
	oo := entries(r, "outcome")
	if len(oo) != 1 || !strings.Contains(fmt.Sprint(oo[0]), "nickname") {
		e.t.Fatalf("lenient search does not report the ignored parameter: %s", r.raw)
	}
	for _, c := range []struct{ query, want string }{
		{"_include=Observation:patient:Practitioner", "patient of Observation refers to Patient, not Practitioner"},
		{"_include=Observation:nothing", "Observation has no reference parameter"},
	} {
		r = e.get("/fhir/Observation?patient=1&"+c.query, "Prefer", "handling=strict")
		e.wantStatus(r, 400, "strict "+c.query)
		if !strings.Contains(outcomeText(r), c.want) {
			e.t.Fatalf("%s: outcome %s, want it to say %q", c.query, r.raw, c.want)
		}
	}
	e.wantStatus(e.get("/fhir/Patient?birthdate=notadate"), 400, "bad date")
	e.wantStatus(e.get("/fhir/Patient?_sort=gender"), 400, "unsortable")
}

const newPatient = `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"MRN-T-%d"}],
"name":[{"family":"Testperson","given":["Ada"]}],"gender":"female","birthDate":"1970-01-02"}`

func testWrites(e *env) {
	n := time.Now().UnixNano() % 1e9
	body := fmt.Sprintf(newPatient, n)
	// a NUL no legacy text column stores: a 400 saying so, on every
	// dialect (PostgreSQL refused it with a 422 naming nothing)
	// a period that ends before it starts (per-1): a 422 naming it,
	// before legacy would store it as given
	rev := e.do("POST", "/fhir/Patient", strings.Replace(body, `"family":"Testperson"`, `"family":"Testperson","period":{"start":"2020-02-01","end":"2020-01-01"}`, 1))
	e.wantStatus(rev, 422, "a reversed period")
	if !strings.Contains(outcomeText(rev), "Patient.name[0].period") || !strings.Contains(outcomeText(rev), "per-1") {
		e.t.Fatalf("the outcome does not name the period: %s", rev.raw)
	}
	// a body labelled compressed: nothing decodes it (415), whether or
	// not it really is
	gz := e.do("POST", "/fhir/Patient", body, "Content-Encoding", "gzip")
	e.wantStatus(gz, 415, "Content-Encoding gzip")
	if !strings.Contains(outcomeText(gz), "Content-Encoding") {
		e.t.Fatalf("the outcome does not name Content-Encoding: %s", gz.raw)
	}
	e.wantStatus(e.do("POST", "/fhir/Patient", strings.Replace(body, "MRN-T-", "MRN-I-", 1), "Content-Encoding", "identity"), 201, "Content-Encoding identity")
	nul := e.do("POST", "/fhir/Patient", strings.Replace(body, "Testperson", `Test\u0000person`, 1))
	e.wantStatus(nul, 400, "a NUL in a string")
	if !strings.Contains(outcomeText(nul), "NUL") {
		e.t.Fatalf("the outcome does not name the NUL: %s", nul.raw)
	}
	// a value with no content (R4: a value is absent, or holds at least
	// one non-whitespace character): a 400 naming the element (legacy
	// stored a NULL: the name read back gone behind a 201)
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":%s}]}`
	for _, c := range []struct{ path, url, body string }{
		{"Patient.name[0].family", "/fhir/Patient", strings.Replace(body, `"Testperson"`, `""`, 1)},
		{"Patient.name[0].family", "/fhir/Patient", strings.Replace(body, `"Testperson"`, `" \t\n "`, 1)},
		{"Patient.name[0].given[1]", "/fhir/Patient", strings.Replace(body, `["Ada"]`, `["Ada","  "]`, 1)},
		{"Bundle.entry[0].resource.name[0].family", "/fhir", fmt.Sprintf(tx, strings.Replace(body, `"Testperson"`, `""`, 1))},
	} {
		r := e.do("POST", c.url, c.body)
		e.wantStatus(r, 400, "no content at "+c.path)
		if !strings.Contains(outcomeText(r), `"expression":["`+c.path+`"]`) {
			e.t.Fatalf("the outcome does not name %s: %s", c.path, r.raw)
		}
	}
	r := e.do("POST", "/fhir/Patient", body)
	e.wantStatus(r, 201, "create")
	id := r.body["id"].(string)
	loc := r.header.Get("Location")
	if !strings.Contains(loc, "/fhir/Patient/"+id+"/_history/") {
		e.t.Fatalf("Location %q", loc)
	}
	etag := r.header.Get("ETag")
	got := e.get("/fhir/Patient/" + id)
	e.wantStatus(got, 200, "read created")
	if got.body["name"].([]any)[0].(map[string]any)["family"] != "Testperson" || got.body["gender"] != "female" {
		e.t.Fatalf("created patient reads back wrong: %s", got.raw)
	}
	// conditional create finds it
	cc := e.do("POST", "/fhir/Patient", body, "If-None-Exist", fmt.Sprintf("identifier=urn:oid:2.16.840.1.113883.3.7777.1|MRN-T-%d", n))
	e.wantStatus(cc, 200, "conditional create of an existing resource")
	if cc.body["id"] != id {
		e.t.Fatalf("conditional create returned %v, want %s", cc.body["id"], id)
	}
	// update with the current version, then a stale one
	up := strings.Replace(body, `"resourceType":"Patient"`, `"resourceType":"Patient","id":"`+id+`"`, 1)
	up = strings.Replace(up, "Ada", "Adah", 1)
	u1 := e.do("PUT", "/fhir/Patient/"+id, up, "If-Match", etag)
	e.wantStatus(u1, 200, "update")
	if u1.header.Get("ETag") == etag {
		e.t.Fatal("update did not change the version")
	}
	e.wantStatus(e.do("PUT", "/fhir/Patient/"+id, up, "If-Match", etag), 412, "stale If-Match")
	// one ETag only: a list or * is a 400 naming If-Match, not a 412
	for _, im := range []string{etag + `, W/"1"`, "*"} {
		for _, method := range []string{"PUT", "DELETE"} {
			r := e.do(method, "/fhir/Patient/"+id, up, "If-Match", im)
			e.wantStatus(r, 400, method+" with If-Match "+im)
			if !strings.Contains(outcomeText(r), "If-Match") {
				e.t.Fatalf("%s If-Match %s: the outcome does not name it: %s", method, im, r.raw)
			}
		}
	}
	// data legacy cannot hold is refused with the element named
	ext := strings.Replace(up, `"gender"`, `"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"F"}],"gender"`, 1)
	r = e.do("PUT", "/fhir/Patient/"+id, ext)
	e.wantStatus(r, 422, "unmapped element")
	if ex := r.body["issue"].([]any)[0].(map[string]any)["expression"]; fmt.Sprint(ex) != "[Patient.extension]" {
		e.t.Fatalf("422 does not name the element: %s", r.raw)
	}
	e.wantStatus(e.do("PUT", "/fhir/Patient/"+id, strings.Replace(up, `"id":"`+id+`"`, `"id":"other"`, 1)), 400, "id mismatch")
	e.wantStatus(e.do("PUT", "/fhir/Patient/987654", strings.Replace(up, `"id":"`+id+`"`, `"id":"987654"`, 1)), 400, "update-as-create not allowed")
	e.wantStatus(e.do("POST", "/fhir/Patient", `{"resourceType":"Patient","name":[{"family":"NoMRN"}]}`), 422, "missing required MRN")
	e.wantStatus(e.do("POST", "/fhir/Patient", `{"resourceType":"Patient","gender":"robot"}`), 400, "invalid code (R4 structure)")
	e.wantStatus(e.do("POST", "/fhir/Patient", `{"resourceType":"Patient","nickname":"x"}`), 400, "unknown element (R4 structure)")
	e.wantStatus(e.do("POST", "/fhir/Patient", `{"resourceType":"Observation"}`), 400, "wrong resourceType")
	e.wantStatus(e.do("POST", "/fhir/Patient", body, "Content-Type", "text/plain"), 415, "content type")
	long := fmt.Sprintf(newPatient, n+1)
	long = strings.Replace(long, "Testperson", strings.Repeat("x", 300), 1)
	if r := e.do("POST", "/fhir/Patient", long); r.status != 422 && r.status != 201 {
		e.t.Fatalf("over-long family name: %d (want 422, or 201 on SQLite which keeps any length): %s", r.status, r.raw)
	}
	e.wantStatus(e.do("PATCH", "/fhir/Patient/"+id, body), 405, "patch")
	// an Observation written through the LOINC code finds its local code
	obs := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},
"subject":{"reference":"Patient/` + id + `"},"effectiveDateTime":"2025-01-02T08:00:00-05:00","valueQuantity":{"value":5.40,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`
	o := e.do("POST", "/fhir/Observation", obs)
	e.wantStatus(o, 201, "create observation")
	if !strings.Contains(string(o.raw), `"value":5.40`) || !strings.Contains(string(o.raw), `"code":"GLU"`) {
		e.t.Fatalf("observation stored wrong (precision or local code): %s", o.raw)
	}
	e.wantStatus(e.do("POST", "/fhir/Observation", strings.Replace(obs, "2345-7", "9999-9", 1)), 422, "unknown LOINC")
	del := e.do("DELETE", "/fhir/Patient/"+id, "")
	e.wantStatus(del, 409, "delete a patient with results")
	if want := "Observation resources refer to Patient/" + id + "; delete them first"; !strings.Contains(outcomeText(del), want) {
		e.t.Fatalf("the 409 does not say %q: %s", want, del.raw)
	}
	e.wantStatus(e.do("DELETE", "/fhir/Observation/"+o.body["id"].(string), ""), 204, "delete observation")
	e.wantStatus(e.do("DELETE", "/fhir/Patient/"+id, ""), 204, "delete patient")
	e.wantStatus(e.get("/fhir/Patient/"+id), 404, "read deleted")
}

// testReferenced: deleting a resource other rows still refer to through
// a foreign key (a seeded Patient, an Encounter with results) is a 409
// whose OperationOutcome names the FHIR types that refer to it — those
// the statement's revinclude lists find for it — and never a table,
// column or constraint; the resource stays.
func testReferenced(e *env) {
	obs := entries(e.get("/fhir/Observation?encounter:missing=false&_count=1"), "match")
	if len(obs) == 0 {
		e.t.Fatal("no Observation with an encounter in the seed")
	}
	for _, ref := range []string{"Patient/1", obs[0]["encounter"].(map[string]any)["reference"].(string)} {
		by := referrers(e, ref)
		if len(by) == 0 {
			e.t.Fatalf("nothing refers to %s in the seed", ref)
		}
		r := e.do("DELETE", "/fhir/"+ref, "")
		e.wantStatus(r, 409, "delete "+ref)
		want := strings.Join(by, ", ") + " resources refer to " + ref + "; delete them first"
		if n := len(by); n > 1 {
			want = strings.Join(by[:n-1], ", ") + " and " + by[n-1] + " resources refer to " + ref + "; delete them first"
		}
		if msg := outcomeText(r); !strings.Contains(msg, want) {
			e.t.Fatalf("delete %s: the outcome does not say %q: %s", ref, want, r.raw)
		}
		low := strings.ToLower(string(r.raw))
		for _, leak := range []string{"pat_master", "lab_result", "visit", "problem_list", "foreign", "constraint", "references", "sqlstate"} {
			if strings.Contains(low, leak) {
				e.t.Fatalf("delete %s: the outcome leaks %q: %s", ref, leak, r.raw)
			}
		}
		e.wantStatus(e.get("/fhir/"+ref), 200, "read "+ref+" after the refused delete")
	}
}

// referrers are the types (sorted) with a resource that refers to ref,
// found through the CapabilityStatement's searchRevInclude of ref's type.
func referrers(e *env, ref string) []string {
	typ, _, _ := strings.Cut(ref, "/")
	found := map[string]bool{}
	for _, x := range e.get("/fhir/metadata").body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		res := x.(map[string]any)
		if res["type"] != typ {
			continue
		}
		revs, _ := res["searchRevInclude"].([]any)
		for _, rv := range revs {
			from, param, _ := strings.Cut(rv.(string), ":")
			if r := e.get("/fhir/" + from + "?" + param + "=" + ref + "&_summary=count"); r.body["total"].(float64) > 0 {
				found[from] = true
			}
		}
	}
	var out []string
	for t := range found {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func testHostile(e *env) {
	// Each value is bound as a parameter: a hostile value in a string or
	// token search is a legitimate search that matches nothing (200, an
	// empty Bundle); a value the grammar refuses is a 4xx OperationOutcome.
	// Never a 5xx, never SQL or driver text.
	orList := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	nasty := []struct {
		path string
		want int // 200 (bound, matches nothing or is clamped) or 400
	}{
		{"/fhir/Patient?family=" + url.QueryEscape("'; DROP TABLE pat_master;--"), 200},
		{"/fhir/Patient?name=" + url.QueryEscape(`" OR 1=1 --`), 200},
		{"/fhir/Patient?family=" + url.QueryEscape("x') UNION SELECT password FROM users--"), 200},
		{"/fhir/Patient?_id=" + url.QueryEscape("1 OR 1=1"), 200},
		{"/fhir/Patient?gender=" + url.QueryEscape("male' OR 'a'='a"), 200},
		{"/fhir/Patient?birthdate=" + url.QueryEscape("2020-01-01'; --"), 400},
		{"/fhir/Patient?birthdate=2020-02-30", 400},
		{"/fhir/Patient?birthdate=2020-13-45", 400},
		{"/fhir/Patient?birthdate=" + url.QueryEscape("ɡe2020-01-01"), 400}, // Latin small script g, not "ge"
		{"/fhir/Patient?family=" + url.QueryEscape("Ѕmith"), 200},           // Cyrillic S
		{"/fhir/Patient?family=" + url.QueryEscape("\u202ehtimS"), 200},     // right-to-left override
		{"/fhir/Patient?family=" + url.QueryEscape("%_\\"), 400},            // a lone escape
		{"/fhir/Patient?family=a%00b", 400},
		{"/fhir/Patient?family=%ff%fe", 400},
		{"/fhir/Patient?fam%00ily=x", 400},
		{"/fhir/Patient?family=" + strings.Repeat("x", 100000), 200},
		{"/fhir/Patient?_count=99999999999", 400},
		{"/fhir/Patient?_count=1000000", 200}, // clamped to the maximum page
		{"/fhir/Patient?_count=-1", 400},
		{"/fhir/Patient?_sort=" + url.QueryEscape("pat_id;DROP"), 400},
		{"/fhir/Patient?identifier=" + strings.Repeat("a,", 10000) + "a", 400},
		{"/fhir/Patient?_id=" + orList(10000, func(i int) string { return fmt.Sprint(i) }), 400},
		{"/fhir/Patient?family=" + orList(10000, func(i int) string { return fmt.Sprint("n", i) }), 400},
		{"/fhir/Observation?code=" + url.QueryEscape("|||"), 200},
		{"/fhir/Observation?code=" + url.QueryEscape("http://loinc.org|' OR '1'='1"), 200},
		{"/fhir/Observation?value-quantity=1e999999", 200}, // a number, larger than any stored
		{"/fhir/Observation?value-quantity=" + url.QueryEscape("5;DROP"), 400},
		{"/fhir/Observation?patient=" + url.QueryEscape("Patient/1/../../2"), 200},
		{"/fhir/Observation?_page=" + strings.Repeat("A", 9000), 400},
		{"/fhir/Observation?_page=" + url.QueryEscape("' OR 1=1"), 400},
		{"/fhir/Patient?" + strings.ReplaceAll(orList(1000, func(i int) string { return fmt.Sprint("family=x", i) }), ",", "&"), 400},
		{"/fhir/Patient?%zz=1", 400},
		{"/fhir/Patient?" + strings.Repeat("_include=Patient:x&", 50), 400},
		{"/fhir/Patient?_sort=" + orList(50, func(int) string { return "family" }), 400},
	}
	for _, n := range nasty {
		r := e.get(n.path)
		what := n.path
		if len(what) > 80 {
			what = what[:80] + "…"
		}
		if r.status != n.want {
			e.t.Fatalf("%s: status %d, want %d: %.300s", what, r.status, n.want, r.raw)
		}
		if n.want >= 400 && r.body["resourceType"] != "OperationOutcome" {
			e.t.Fatalf("%s: error without an OperationOutcome", what)
		}
		if n.want == 200 && strings.Contains(n.path, "DROP") && len(entries(r, "match")) != 0 {
			e.t.Fatalf("%s: an injection matched rows", what)
		}
		low := strings.ToLower(string(r.raw))
		for _, leak := range []string{"select ", "sqlstate", "syntax error", "goroutine", "panic", "driver"} {
			if strings.Contains(low, leak) {
				e.t.Fatalf("%s: response leaks %q: %.300s", what, leak, r.raw)
			}
		}
	}
	e.wantStatus(e.get("/fhir/Patient/"+url.PathEscape("1;DROP TABLE x")), 404, "id with SQL")
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	e.wantStatus(e.do("POST", "/fhir/Patient", deep), 400, "deep JSON")
	deepArr := `{"resourceType":"Patient","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "}"
	e.wantStatus(e.do("POST", "/fhir/Patient", deepArr), 400, "deep arrays")
	big := `{"resourceType":"Patient","name":[{"family":"` + strings.Repeat("x", 2<<20) + `"}]}`
	e.wantStatus(e.do("POST", "/fhir/Patient", big), 413, "huge body")
	testLimits(e, big)
	wide := `{"resourceType":"Patient","name":[` + strings.Repeat(`{"family":"x"},`, 20000) + `{"family":"x"}]}`
	if r := e.do("POST", "/fhir/Patient", wide); r.status < 400 || r.status >= 500 {
		e.t.Fatalf("20,000 names: %d", r.status)
	}
	for name, body := range map[string]string{
		"invalid UTF-8":   "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\xfe\"}]}",
		"duplicate keys":  `{"resourceType":"Patient","resourceType":"Observation"}`,
		"number overflow": `{"resourceType":"Patient","multipleBirthInteger":1e999}`,
		"trailing data":   `{"resourceType":"Patient"} {"resourceType":"Patient"}`,
		"not an object":   `["resourceType","Patient"]`,
		"type confusion":  `{"resourceType":"Patient","name":"Smith"}`,
		"NUL in a string": `{"resourceType":"Patient","name":[{"family":"a\u0000b"}],"gender":"male"}`,
	} {
		r := e.do("POST", "/fhir/Patient", body)
		if r.status < 400 || r.status >= 500 || r.body["resourceType"] != "OperationOutcome" {
			e.t.Fatalf("%s: status %d: %.300s", name, r.status, r.raw)
		}
	}
	if strings.Contains(e.logs.String(), "DROP TABLE") || strings.Contains(e.logs.String(), "Testperson") {
		e.t.Fatal("request values (PHI) reached the log")
	}
}

// testLimits: bodies and headers past the limits, and numbers legacy cannot
// keep, get the status that says so with an OperationOutcome — never a
// 400 for a body that was only too long, net/http's plain-text 431, or a
// value stored that reads back as something else.
func testLimits(e *env, big string) {
	post := func(path, ct string, body io.Reader) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest("POST", e.srv.URL+path, body)
			req.Header.Set("Content-Type", ct)
			return req
		}
	}
	get := func(header, value string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest("GET", e.srv.URL+"/fhir/Patient/1", nil)
			req.Header.Set(header, value)
			return req
		}
	}
	obs := func(value string) func() *http.Request {
		return post("/fhir/Observation", "application/fhir+json", strings.NewReader(`{"resourceType":"Observation","status":"final",
"code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"subject":{"reference":"Patient/1"},"effectiveDateTime":"2025-01-02T08:00:00-05:00",
"valueQuantity":{"value":`+value+`,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`))
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want int
		path string // the element the OperationOutcome names
	}{
		// io.MultiReader hides the length: the client sends it chunked
		{"chunked body over 1 MiB", post("/fhir/Patient", "application/fhir+json", io.MultiReader(strings.NewReader(big))), 413, ""},
		{"chunked _search form over 1 MiB", post("/fhir/Patient/_search", "application/x-www-form-urlencoded", io.MultiReader(strings.NewReader("family="+strings.Repeat("x", 2<<20)))), 413, ""},
		{"2 MB Authorization header", get("Authorization", "Bearer "+strings.Repeat("a", 2<<20)), 431, ""},
		{"100 KB of one header", get("X-Padding", strings.Repeat("a", 100<<10)), 431, ""},
		{"32 KB of headers", get("X-Padding", strings.Repeat("a", 32<<10)), 200, ""},
		{"quantity 1e999", obs("1e999"), 422, "Observation.valueQuantity.value"},
		{"quantity of 400 digits", obs(strings.Repeat("9", 400)), 422, "Observation.valueQuantity.value"},
	}
	for _, tc := range cases {
		r := e.send(tc.req())
		e.wantStatus(r, tc.want, tc.name)
		if tc.path != "" && !strings.Contains(outcomeText(r), `"expression":["`+tc.path+`"]`) {
			e.t.Fatalf("%s: the OperationOutcome does not name %s: %s", tc.name, tc.path, r.raw)
		}
	}
}

func testOps(e *env) {
	r := e.get("/fhir/metadata")
	e.wantStatus(r, 200, "metadata")
	if r.body["fhirVersion"] != "4.0.1" {
		e.t.Fatalf("fhirVersion %v", r.body["fhirVersion"])
	}
	res := r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any)
	reg, err := mappings.LoadEmbedded()
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res) != len(reg.Types()) {
		e.t.Fatalf("metadata lists %d types, the specs map %d", len(res), len(reg.Types()))
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		hr, err := http.Get(e.ops.URL + p)
		if err != nil || hr.StatusCode != 200 {
			e.t.Fatalf("%s: %v %v", p, err, hr)
		}
		hr.Body.Close()
	}
	sr, _ := http.Post(e.srv.URL+"/fhir/Patient/_search", "application/x-www-form-urlencoded", strings.NewReader("_id=3"))
	var b map[string]any
	_ = json.NewDecoder(sr.Body).Decode(&b)
	sr.Body.Close()
	if sr.StatusCode != 200 || len(b["entry"].([]any)) != 1 {
		e.t.Fatalf("POST _search: %d %v", sr.StatusCode, b)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
