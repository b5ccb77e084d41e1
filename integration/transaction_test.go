package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/routing"
)

// txBundle is a transaction (or batch) creating a Patient, an Encounter
// and an Observation that refer to each other by urn:uuid; loinc is the
// Observation's code (an unknown one fails the last entry on legacy).
func txBundle(kind, mrn, loinc string) string {
	const p, e = "urn:uuid:9a1c0d2e-0000-4000-8000-000000000001", "urn:uuid:9a1c0d2e-0000-4000-8000-000000000002"
	pat := `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"` + mrn + `"}],"name":[{"family":"Txwalk","given":["Tess"]}],"gender":"female","birthDate":"1990-05-06"}`
	enc := `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"` + p + `"},"period":{"start":"2025-04-01T08:00:00Z","end":"2025-04-01T09:00:00Z"}}`
	obs := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"` + loinc + `"}]},"subject":{"reference":"` + p + `"},"encounter":{"reference":"` + e + `"},"effectiveDateTime":"2025-04-01T08:30:00Z","valueQuantity":{"value":5.4,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`
	entry := func(full, typ, res string) string {
		return `{"fullUrl":"` + full + `","resource":` + res + `,"request":{"method":"POST","url":"` + typ + `"}}`
	}
	return `{"resourceType":"Bundle","type":"` + kind + `","entry":[` + entry(p, "Patient", pat) + "," + entry(e, "Encounter", enc) + "," +
		entry("urn:uuid:9a1c0d2e-0000-4000-8000-000000000003", "Observation", obs) + `]}`
}

func (w *world) pending(target string) int {
	w.t.Helper()
	n, err := w.outbox.Pending(w.ctx, target)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func txStatuses(r resp) string {
	var out []string
	for _, e := range r.body["entry"].([]any) {
		out = append(out, fmt.Sprint(e.(map[string]any)["response"].(map[string]any)["status"]))
	}
	return strings.Join(out, "; ")
}

// TestTransactionRoutes: a transaction on legacy and shadow routes is one
// legacy transaction whose mirror rows are queued only when it commits;
// one spanning legacy and FHIR is refused naming the routes (a batch may
// span them); one on fhir routes is forwarded whole to the FHIR server,
// and its reverse-mirror rows queued.
func TestTransactionRoutes(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			w := newWorld(t, d.legacy(t), d.ctl(t))
			mrn := func() string { return fmt.Sprintf("MRN-TX-%d", time.Now().UnixNano()%1e12) }
			w.want(w.do("POST", "/fhir", txBundle("transaction", mrn(), "2345-7")), 200, "transaction on legacy")
			for _, typ := range []string{"Patient", "Encounter", "Observation"} {
				w.copyAll(typ)
				w.flip(typ, routing.Shadow, false)
			}
			before := w.pending("fhir")
			r := w.want(w.do("POST", "/fhir", txBundle("transaction", mrn(), "2345-7")), 200, "transaction on shadow")
			if txStatuses(r) != "201 Created; 201 Created; 201 Created" {
				t.Fatalf("statuses %s", txStatuses(r))
			}
			if n := w.pending("fhir"); n != before+3 {
				t.Fatalf("%d mirror rows queued for a 3-create transaction on shadow", n-before)
			}
			failed := mrn()
			w.want(w.do("POST", "/fhir", txBundle("transaction", failed, "9999-9")), 422, "transaction on shadow, last entry failing")
			if n := w.pending("fhir"); n != before+3 {
				t.Fatalf("a rolled-back transaction queued %d mirror rows", n-before-3)
			}
			if r := w.want(w.do("GET", "/fhir/Patient?identifier="+failed, ""), 200, "search"); r.body["entry"] != nil {
				t.Fatalf("the rolled-back Patient exists: %s", r.raw)
			}

			w.drain() // the mirror carries the committed creates to FHIR
			w.prove("Observation")
			w.flip("Observation", routing.FHIR, false)
			r = w.want(w.do("POST", "/fhir", txBundle("transaction", mrn(), "2345-7")), 400, "transaction spanning legacy and FHIR")
			if msg := string(r.raw); !strings.Contains(msg, "Patient (route shadow)") || !strings.Contains(msg, "Observation (route fhir)") {
				t.Fatalf("the refusal does not name the types and routes: %s", msg)
			}
			// a batch may span them; its urn:uuid references resolve too
			r = w.want(w.do("POST", "/fhir", txBundle("batch", mrn(), "2345-7")), 200, "batch spanning legacy and FHIR")
			if txStatuses(r) != "201 Created; 201 Created; 201 Created" {
				t.Fatalf("batch statuses %s: %s", txStatuses(r), r.raw)
			}

			w.drain()
			for _, typ := range []string{"Patient", "Encounter"} {
				w.prove(typ)
				w.flip(typ, routing.FHIR, false)
			}
			back := w.pending("legacy")
			r = w.want(w.do("POST", "/fhir", txBundle("transaction", mrn(), "2345-7")), 200, "transaction on fhir, forwarded")
			if txStatuses(r) != "201 Created; 201 Created; 201 Created" {
				t.Fatalf("forwarded statuses %s: %s", txStatuses(r), r.raw)
			}
			obs := r.body["entry"].([]any)[2].(map[string]any)
			loc := obs["response"].(map[string]any)["location"].(string)
			if !strings.HasPrefix(loc, w.http.URL+"/fhir/Observation/") {
				t.Fatalf("location %q is not under the facade's base", loc)
			}
			got := w.want(w.do("GET", strings.TrimPrefix(obs["fullUrl"].(string), w.http.URL), ""), 200, "read the forwarded Observation")
			patLoc := r.body["entry"].([]any)[0].(map[string]any)["fullUrl"].(string)
			if ref := got.body["subject"].(map[string]any)["reference"]; ref != strings.TrimPrefix(patLoc, w.http.URL+"/fhir/") {
				t.Fatalf("Observation.subject %v, want the created %s", ref, patLoc)
			}
			if n := w.pending("legacy"); n != back+3 {
				t.Fatalf("%d reverse-mirror rows for a forwarded 3-create transaction", n-back)
			}
			w.failedForwardStaysMirrored()
		})
	}
}

// failedForwardStaysMirrored: a forwarded transaction the FHIR server
// fails (the second entry's If-Match is stale) still queues the reverse
// mirror rows of the entries that name their resource — the server need
// not be atomic, so the first entry may be stored — and after the drain
// legacy holds whatever the FHIR server holds.
func (w *world) failedForwardStaysMirrored() {
	t := w.t
	entry := func(id, family, ifMatch string) string {
		r := w.want(w.do("GET", "/fhir/Patient/"+id, ""), 200, "read Patient/"+id)
		delete(r.body, "meta")
		r.body["name"].([]any)[0].(map[string]any)["family"] = family
		res, _ := json.Marshal(r.body)
		req := `{"method":"PUT","url":"Patient/` + id + `"` + ifMatch + `}`
		return `{"fullUrl":"` + w.http.URL + `/fhir/Patient/` + id + `","resource":` + string(res) + `,"request":` + req + `}`
	}
	back := w.pending("legacy")
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[` + entry("3", "Halfway", "") + `,` +
		entry("5", "Neverstored", `,"ifMatch":"W/\"no-such-version\""`) + `]}`
	if r := w.do("POST", "/fhir", bundle); r.status < 400 {
		t.Fatalf("a transaction with a stale If-Match: %d %s", r.status, r.raw)
	}
	if n := w.pending("legacy"); n != back+2 {
		t.Fatalf("%d reverse-mirror rows after a failed forwarded transaction, want 2", n-back)
	}
	w.drain()
	for _, id := range []string{"3", "5"} {
		up, err := w.fhir.Read(w.ctx, "Patient", id)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(up.JSON, &m)
		want := m["name"].([]any)[0].(map[string]any)["family"]
		if got := w.legacyFamily(id); got != want {
			t.Fatalf("Patient/%s: legacy has family %q, the FHIR server %q", id, got, want)
		}
	}
}
