package facade_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// bundleOf is a batch or transaction Bundle of entries (each a JSON
// object's text).
func bundleOf(typ string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
}

// post is an entry creating res, known as urn until created.
func post(urn, typ, res string, ifNoneExist ...string) string {
	req := `"method":"POST","url":"` + typ + `"`
	if len(ifNoneExist) > 0 {
		req += `,"ifNoneExist":"` + ifNoneExist[0] + `"`
	}
	full := ""
	if urn != "" {
		full = `"fullUrl":"` + urn + `",`
	}
	return `{` + full + `"resource":` + res + `,"request":{` + req + `}}`
}

func get(url string) string { return `{"request":{"method":"GET","url":"` + url + `"}}` }

func patientJSON(mrn string) string {
	return `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"` + mrn + `"}],"name":[{"family":"Bundleperson","given":["Tx"]}],"gender":"male","birthDate":"1980-03-04"}`
}

func encounterJSON(subject string) string {
	return `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"` + subject + `"},"period":{"start":"2025-02-03T08:00:00Z","end":"2025-02-03T09:00:00Z"}}`
}

func observationJSON(subject, enc, loinc string) string {
	return `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"` + loinc + `"}]},"subject":{"reference":"` + subject + `"},"encounter":{"reference":"` + enc + `"},"effectiveDateTime":"2025-02-03T08:30:00Z","valueQuantity":{"value":5.4,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`
}

// responses are the response Bundle's entries' response elements.
func responses(e *env, r resp) []map[string]any {
	e.t.Helper()
	es, _ := r.body["entry"].([]any)
	out := make([]map[string]any, len(es))
	for i, x := range es {
		out[i], _ = x.(map[string]any)["response"].(map[string]any)
	}
	return out
}

func statuses(e *env, r resp) string {
	var s []string
	for _, x := range responses(e, r) {
		s = append(s, fmt.Sprint(x["status"]))
	}
	return strings.Join(s, "; ")
}

// countPatients is how many Patients carry mrn.
func (e *env) countPatients(mrn string) int {
	e.t.Helper()
	r := e.get("/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7777.1|" + mrn)
	e.wantStatus(r, 200, "search by MRN")
	return len(entries(r, "match"))
}

func TestBundles(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		for _, c := range []struct {
			name string
			run  func(e *env, mrn string)
		}{
			{"transaction resolves urn:uuid references", testTxReferences},
			{"conditional create in a transaction", testTxConditional},
			{"a failing last entry rolls the transaction back", testTxRollback},
			{"batch entries fail one by one", testBatchPartial},
			{"malformed bundles", testBundleRefusals},
			{"the CapabilityStatement lists batch and transaction", testBundleCapability},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.t = t
				c.run(e, fmt.Sprintf("MRN-B-%d", time.Now().UnixNano()%1e12))
			})
		}
	})
}

func testTxReferences(e *env, mrn string) {
	const p, enc = "urn:uuid:3f1c4b8e-0000-4000-8000-000000000001", "urn:uuid:3f1c4b8e-0000-4000-8000-000000000002"
	// the Observation comes first and names both others: the creates run
	// in dependency order, the responses stay in Bundle order
	r := e.do("POST", "/fhir", bundleOf("transaction",
		post("", "Observation", observationJSON(p, enc, "2345-7")),
		post(enc, "Encounter", encounterJSON(p)),
		post(p, "Patient", patientJSON(mrn)),
		get("Patient?identifier="+mrn)))
	e.wantStatus(r, 200, "transaction")
	if r.body["type"] != "transaction-response" || statuses(e, r) != "201 Created; 201 Created; 201 Created; 200 OK" {
		e.t.Fatalf("response %s: %s", statuses(e, r), r.raw)
	}
	rs := responses(e, r)
	ref := func(i int) string {
		loc, _ := rs[i]["location"].(string)
		parts := strings.Split(strings.TrimPrefix(loc, e.srv.URL+"/fhir/"), "/")
		if len(parts) < 4 || rs[i]["etag"] == nil || rs[i]["lastModified"] == nil {
			e.t.Fatalf("entry %d response %v", i, rs[i])
		}
		return parts[0] + "/" + parts[1]
	}
	obs, encRef, pat := ref(0), ref(1), ref(2)
	got := e.get("/fhir/" + obs)
	e.wantStatus(got, 200, "read the Observation")
	if s := got.body["subject"].(map[string]any)["reference"]; s != pat {
		e.t.Fatalf("Observation.subject %v, want %s", s, pat)
	}
	if s := got.body["encounter"].(map[string]any)["reference"]; s != encRef {
		e.t.Fatalf("Observation.encounter %v, want %s", s, encRef)
	}
	ge := e.get("/fhir/" + encRef)
	if s := ge.body["subject"].(map[string]any)["reference"]; s != pat {
		e.t.Fatalf("Encounter.subject %v, want %s", s, pat)
	}
	// the GET ran last, inside the transaction: it sees the new Patient
	es := r.body["entry"].([]any)
	set := es[3].(map[string]any)["resource"].(map[string]any)
	if set["resourceType"] != "Bundle" || len(set["entry"].([]any)) != 1 {
		e.t.Fatalf("search inside the transaction: %v", set)
	}
}

func testTxConditional(e *env, mrn string) {
	first := e.do("POST", "/fhir/Patient", patientJSON(mrn))
	e.wantStatus(first, 201, "create the patient")
	const p = "urn:uuid:3f1c4b8e-0000-4000-8000-0000000000aa"
	r := e.do("POST", "/fhir", bundleOf("transaction",
		post(p, "Patient", patientJSON(mrn), "identifier=urn:oid:2.16.840.1.113883.3.7777.1|"+mrn),
		post("", "Encounter", encounterJSON(p))))
	e.wantStatus(r, 200, "transaction")
	if statuses(e, r) != "200 OK; 201 Created" {
		e.t.Fatalf("statuses %s", statuses(e, r))
	}
	enc := r.body["entry"].([]any)[1].(map[string]any)["resource"].(map[string]any)
	if s := enc["subject"].(map[string]any)["reference"]; s != "Patient/"+first.body["id"].(string) {
		e.t.Fatalf("Encounter.subject %v, want the existing Patient/%v", s, first.body["id"])
	}
	if n := e.countPatients(mrn); n != 1 {
		e.t.Fatalf("%d patients with the MRN, want 1", n)
	}
}

func testTxRollback(e *env, mrn string) {
	const p = "urn:uuid:3f1c4b8e-0000-4000-8000-0000000000bb"
	before := e.get("/fhir/Encounter?_summary=count")
	r := e.do("POST", "/fhir", bundleOf("transaction",
		post(p, "Patient", patientJSON(mrn)),
		post("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000bc", "Encounter", encounterJSON(p)),
		post("", "Observation", observationJSON(p, "urn:uuid:3f1c4b8e-0000-4000-8000-0000000000bc", "9999-9"))))
	e.wantStatus(r, 422, "transaction with an unknown LOINC code last")
	if txt := outcomeText(r); !strings.Contains(txt, "Bundle.entry[2]") || !strings.Contains(txt, "nothing was stored") {
		e.t.Fatalf("the outcome does not name the failed entry: %s", txt)
	}
	if n := e.countPatients(mrn); n != 0 {
		e.t.Fatalf("the transaction failed but %d of its patients exist", n)
	}
	if after := e.get("/fhir/Encounter?_summary=count"); fmt.Sprint(after.body["total"]) != fmt.Sprint(before.body["total"]) {
		e.t.Fatalf("encounters %v before, %v after a failed transaction", before.body["total"], after.body["total"])
	}
}

func testBatchPartial(e *env, mrn string) {
	r := e.do("POST", "/fhir", bundleOf("batch",
		post("", "Patient", patientJSON(mrn)),
		post("", "Patient", `{"resourceType":"Patient","name":[{"family":"NoMRN"}]}`),
		get("Patient/987654321"),
		get("Nonesuch/1"),
		`{"request":{"method":"DELETE","url":"Observation/987654321"}}`))
	e.wantStatus(r, 200, "batch")
	if r.body["type"] != "batch-response" || statuses(e, r) != "201 Created; 422 Unprocessable Entity; 404 Not Found; 404 Not Found; 204 No Content" {
		e.t.Fatalf("statuses %s", statuses(e, r))
	}
	if oc := responses(e, r)[1]["outcome"].(map[string]any); oc["resourceType"] != "OperationOutcome" {
		e.t.Fatalf("failed entry without an outcome: %v", oc)
	}
	if n := e.countPatients(mrn); n != 1 {
		e.t.Fatalf("the batch's good create: %d patients", n)
	}
}

func testBundleCapability(e *env, _ string) {
	r := e.get("/fhir/metadata")
	e.wantStatus(r, 200, "metadata")
	raw, _ := json.Marshal(r.body["rest"].([]any)[0].(map[string]any)["interaction"])
	if string(raw) != `[{"code":"transaction"},{"code":"batch"}]` {
		e.t.Fatalf("the CapabilityStatement's system interactions: %s", raw)
	}
}

func testBundleRefusals(e *env, mrn string) {
	many := make([]string, 501)
	for i := range many {
		many[i] = get("Patient/1")
	}
	for _, c := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"too many entries", bundleOf("batch", many...), 413, "at most 500"},
		{"a collection", bundleOf("collection"), 400, "Bundle.type"},
		{"no request", bundleOf("batch", `{"resource":`+patientJSON(mrn)+`}`), 400, "Bundle.entry[0].request"},
		{"unknown method", bundleOf("batch", `{"request":{"method":"TRACE","url":"Patient"}}`), 400, "Bundle.entry[0].request.method"},
		{"foreign absolute url", bundleOf("batch", `{"request":{"method":"GET","url":"https://elsewhere.example/fhir/Patient/1"}}`), 400, "request.url"},
		{"dot segments", bundleOf("batch", `{"request":{"method":"GET","url":"Patient/../../admin/routes"}}`), 400, "request.url"},
		{"a create without a resource", bundleOf("transaction", `{"request":{"method":"POST","url":"Patient"}}`), 400, "Bundle.entry[0].resource"},
		{"a cycle of urn references", bundleOf("transaction",
			post("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000c1", "Encounter", encounterJSON("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000c2")),
			post("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000c2", "Encounter", encounterJSON("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000c1"))), 400, "cycle"},
		{"an urn no entry creates", bundleOf("transaction", post("", "Encounter", encounterJSON("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000ff"))), 400, "fullUrl of no resource"},
		{"a fullUrl twice", bundleOf("transaction",
			post("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000d1", "Patient", patientJSON(mrn+"-d1")),
			post("urn:uuid:3f1c4b8e-0000-4000-8000-0000000000d1", "Patient", patientJSON(mrn+"-d2"))), 400, "Bundle.entry[1].fullUrl"},
		{"not a Bundle", patientJSON(mrn), 400, "resourceType"},
	} {
		r := e.do("POST", "/fhir", c.body)
		e.wantStatus(r, c.status, c.name)
		if !strings.Contains(outcomeText(r), c.says) {
			e.t.Fatalf("%s: the outcome does not say %q: %s", c.name, c.says, outcomeText(r))
		}
	}
}
