package facade_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Regression tests for defects found by the issue-12 probe of a running
// facade (see the probe report). They state the answer R4 and the README
// promise; each fails on the code it was written against.

// TestProbeConditionalUpdateNoMatchOtherID: a conditional update whose
// condition matches nothing, with a body id naming another existing
// resource, must not overwrite that resource (R5 spells it out: 409; R4's
// update-as-create only applies to an id that does not exist).
func TestProbeConditionalUpdateNoMatchOtherID(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true})
	tok := s.token("system/*.cruds", "")
	before := s.as(tok, "GET", "/fhir/Patient/1", "")
	s.wantStatus(before, 200, "patient 1")
	got := s.as(tok, "PUT", "/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7777.1|NO-SUCH-MRN",
		patientBody("1", "Overwritten", "NO-SUCH-MRN"))
	if got.status < 400 {
		t.Errorf("conditional update with no match and the id of Patient/1 answered %d: %s", got.status, got.raw)
	}
	after := s.as(tok, "GET", "/fhir/Patient/1", "")
	if strings.Contains(string(after.raw), "Overwritten") {
		t.Errorf("Patient/1 was overwritten by a conditional update that matched nothing: %s", after.raw)
	}
}

// TestProbeAliasIDs: "01" and "+1" are other FHIR ids than "1"; reading or
// deleting them must not reach Patient/1 (a delete through an alias left
// its tombstone under the alias, so Patient/1 answered 404, not 410, and a
// shadow route mirrored the delete to the wrong id).
func TestProbeAliasIDs(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true})
	tok := s.token("system/*.cruds", "")
	for _, alias := range []string{"01", "+1", "001"} {
		r := s.as(tok, "GET", "/fhir/Patient/"+alias, "")
		if r.status == 200 {
			t.Errorf("GET Patient/%s answered 200 with id %v", alias, r.body["id"])
		}
	}
	made := s.as(tok, "POST", "/fhir/Patient", patientBody("", "Aliased", "ALIAS-1"))
	s.wantStatus(made, 201, "create")
	id := made.body["id"].(string)
	s.as(tok, "DELETE", "/fhir/Patient/0"+id, "")
	if r := s.as(tok, "GET", "/fhir/Patient/"+id, ""); r.status != 200 && r.status != 410 {
		t.Errorf("after DELETE Patient/0%s, Patient/%s answers %d (deleted without its tombstone): %s", id, id, r.status, r.raw)
	}
}

// TestProbeVreadSubsets: vread honours _elements and _summary as read does
// (README: "_elements (also on read)", "_summary=count on a read" is 400).
func TestProbeVreadSubsets(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true})
	tok := s.token("system/*.cruds", "")
	read := s.as(tok, "GET", "/fhir/Patient/1", "")
	s.wantStatus(read, 200, "read")
	vid := read.body["meta"].(map[string]any)["versionId"].(string)
	v := "/fhir/Patient/1/_history/" + vid
	if r := s.as(tok, "GET", v+"?_elements=gender", ""); !strings.Contains(string(r.raw), "SUBSETTED") || r.body["name"] != nil {
		t.Errorf("vread with _elements=gender is not subsetted: %s", r.raw)
	}
	s.wantStatus(s.as(tok, "GET", v+"?_summary=count", ""), 400, "vread with _summary=count")
	s.wantStatus(s.as(tok, "GET", v+"?_elements=nosuchelement", ""), 400, "vread with an unknown element")
}

// TestProbeNotMatchesUnknown: :not and ne match every row that does not
// have the value — rows where one of the parameter's columns is NULL
// (a Condition with a SNOMED CT code and no ICD-10 one, a Procedure with
// CPT only, an open period) included. So code=X and code:not=X together
// count every resource, and ne of a day nothing falls on counts every
// dated one.
func TestProbeNotMatchesUnknown(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		total := func(q string) int {
			r := e.get(q + "&_summary=count")
			e.wantStatus(r, 200, q)
			n, _ := r.body["total"].(float64)
			return int(n)
		}
		for _, c := range []struct{ typ, param string }{{"Condition", "code"}, {"Procedure", "code"}, {"Encounter", "status"}} {
			first := e.get("/fhir/" + c.typ + "?_count=1")
			res := first.body["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
			val := codeOf(res, c.param)
			all := total("/fhir/" + c.typ + "?_id:missing=false")
			yes, not := total("/fhir/"+c.typ+"?"+c.param+"="+val), total("/fhir/"+c.typ+"?"+c.param+":not="+val)
			if yes+not != all || yes == 0 {
				t.Errorf("%s: %s=%s %d + :not %d, want %d in all", c.typ, c.param, val, yes, not, all)
			}
		}
		// a problem coded in SNOMED CT only (its ICD-10 column NULL) is not
		// "code X" for any other X: code:not of an ICD-10 code must find it
		made := e.do("POST", "/fhir/Condition", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},`+
			`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},`+
			`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}],"text":"Diabetes mellitus type 2"}}`)
		e.wantStatus(made, 201, "SNOMED-only Condition")
		id := made.body["id"].(string)
		if n := total("/fhir/Condition?_id=" + id + "&code:not=http://hl7.org/fhir/sid/icd-10-cm|E11.9"); n != 1 {
			t.Errorf("code:not misses the SNOMED-only Condition/%s (its ICD-10 column is NULL): %d", id, n)
		}
		if all, ne := total("/fhir/Procedure?_id:missing=false"), total("/fhir/Procedure?date=ne1990-01-01"); ne != all {
			t.Errorf("Procedure?date=ne1990-01-01 counts %d of %d (open periods left out)", ne, all)
		}
	})
}

// codeOf is the first code of a resource's element that param searches
// (code.coding or a plain code).
func codeOf(res map[string]any, param string) string {
	switch v := res[param].(type) {
	case string:
		return v
	case map[string]any:
		cs, _ := v["coding"].([]any)
		if len(cs) > 0 {
			c := cs[0].(map[string]any)
			return c["system"].(string) + "|" + c["code"].(string)
		}
	}
	return ""
}

// TestProbeBatchAnswerBudget: a batch whose read answers outgrow the
// budget gets its later reads refused (413 entries), not a reply held in
// memory however large.
func TestProbeBatchAnswerBudget(t *testing.T) {
	defer facade.SetMaxBundleAnswer(64 << 10)()
	e := newEnv(t, testutil.SQLite)
	var entries []string
	for i := 0; i < 6; i++ {
		entries = append(entries, `{"request":{"method":"GET","url":"Observation?_count=20"}}`)
	}
	r := e.do("POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[`+strings.Join(entries, ",")+`]}`)
	e.wantStatus(r, 200, "batch")
	es := r.body["entry"].([]any)
	first := es[0].(map[string]any)["response"].(map[string]any)["status"].(string)
	last := es[len(es)-1].(map[string]any)["response"].(map[string]any)["status"].(string)
	if !strings.HasPrefix(first, "200") || !strings.HasPrefix(last, "413") {
		t.Fatalf("statuses %s ... %s, want 200 ... 413", first, last)
	}
}

// hangingSearch is a legacy backend whose searches wait until the request
// is cancelled and then fail as a dropped database call does.
type hangingSearch struct{ backend.Backend }

func (h hangingSearch) Search(ctx context.Context, _ string, _ *search.Query, _ backend.SearchOptions) (*backend.SearchResult, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("%w: %v", backend.ErrUnavailable, ctx.Err())
}

// TestProbeClientGoneIs499: a client that gives up while the backend works
// is not a server failure: the request is counted as 499, not 503, and no
// error line is logged for it.
func TestProbeClientGoneIs499(t *testing.T) {
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, 2)
	logs := &bytes.Buffer{}
	var srv *facade.Server
	hs := testutil.Serve(t, func(base string) http.Handler {
		srv = facade.New(facade.Config{
			Catalog: catalog.FromSpecs(reg),
			Router:  facade.StaticRouter{Backend: hangingSearch{legacy.New(db, reg)}, Types: map[string]bool{"Patient": true}},
			Sealer:  testutil.Sealer(t),
			Log:     slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, nil)),
			BaseURL: base,
		})
		return srv.Handler()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/fhir/Patient?family=x", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the hanging search answered %d", res.StatusCode)
	}
	ops := httptest.NewServer(srv.OpsHandler())
	defer ops.Close()
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(ops.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if metrics = string(raw); strings.Contains(metrics, `fhirfacade_requests_total{backend="legacy",interaction="search-type",status="`) {
			break
		}
	}
	if !strings.Contains(metrics, `interaction="search-type",status="499",type="Patient"} 1`) {
		t.Fatalf("the abandoned search is not counted as 499:\n%s", grepLines(metrics, "fhirfacade_requests_total"))
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("an abandoned request logged an error: %s", logs)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProbeWriteIDs: a write stores only FHIR ids ([A-Za-z0-9\-.]{1,64}).
// Through the id map an update-as-create took a_b and a 65-character id
// (201), resources no reference can name; a conditional update's body id
// likewise. Valid new ids still create.
func TestProbeWriteIDs(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy", tombstones: true, idmap: true})
	tok := s.token("system/*.cruds", "")
	for i, c := range []struct {
		path, id string
		want     int
	}{
		{"/fhir/Patient/a_b", "a_b", 400},
		{"/fhir/Patient/" + strings.Repeat("x", 65), strings.Repeat("x", 65), 400},
		{"/fhir/Patient/a%20b", "a b", 400},
		{"/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7777.1|NO-SUCH-MRN", "c_d", 400},
		{"/fhir/Patient/" + strings.Repeat("y", 64), strings.Repeat("y", 64), 201},
		{"/fhir/Patient/a1b2-c3.d", "a1b2-c3.d", 201},
	} {
		r := s.as(tok, "PUT", c.path, patientBody(c.id, "Ids", fmt.Sprint("ID-MRN-", i)))
		if r.status != c.want {
			t.Errorf("PUT %s with id %q: %d, want %d: %.300s", c.path, c.id, r.status, c.want, r.raw)
			continue
		}
		if c.want == 400 && r.body["resourceType"] != "OperationOutcome" {
			t.Errorf("PUT %s: a 400 without an OperationOutcome", c.path)
		}
		if c.want == 400 && !strings.Contains(string(r.raw), "not a FHIR id") {
			t.Errorf("PUT %s: the OperationOutcome does not say the id is wrong: %s", c.path, r.raw)
		}
	}
}
