package facade_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
)

// recordsOf are the stored audit records of the Bundle request whose
// answer carried requestID: the Bundle's own and its entries' (each entry
// names the Bundle's request as its client request id).
func (s *secure) recordsOf(requestID string) (outer *audit.Record, entries []*audit.Record) {
	s.t.Helper()
	_ = s.audit.Each(context.Background(), time.Time{}, func(r *audit.Record) error {
		switch {
		case r.RequestID == requestID:
			outer = r
		case r.ClientRequestID == requestID:
			entries = append(entries, r)
		}
		return nil
	})
	return outer, entries
}

func summary(recs []*audit.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %s %d", r.Interaction, r.Type, r.Status))
	}
	return strings.Join(out, "; ")
}

// TestBundleScopes: every entry of a batch or transaction is authorised
// and compartment-checked as if sent alone, and audited on its own; a
// patient token writing another patient's data fails that entry (batch)
// or the whole transaction, whose earlier writes are then rolled back and
// recorded as such.
func TestBundleScopes(t *testing.T) {
	s := newSecure(t, secureOpts{route: "legacy"})
	tokA := s.token("patient/*.rs patient/Observation.cud", "1")
	countA := func() int {
		r := s.as(tokA, "GET", "/fhir/Observation?_summary=count", "")
		s.wantStatus(r, 200, "count A's observations")
		var n int
		fmt.Sscan(fmt.Sprint(r.body["total"]), &n)
		return n
	}
	start := countA()
	ownObs := post("", "Observation", observationJSON("Patient/1", "Encounter/1", "2345-7"))
	otherObs := post("", "Observation", observationJSON("Patient/2", "Encounter/1", "2345-7"))

	r := s.as(tokA, "POST", "/fhir", bundleOf("batch", ownObs, otherObs, get("Patient/2"), get("Patient/1")))
	s.wantStatus(r, 200, "batch")
	if got := statuses(s.env, r); got != "201 Created; 403 Forbidden; 404 Not Found; 200 OK" {
		t.Fatalf("batch statuses %s", got)
	}
	if countA() != start+1 {
		t.Fatal("the batch's allowed create was not stored")
	}
	outer, recs := s.recordsOf(r.header.Get("X-Request-Id"))
	if outer == nil || outer.Interaction != "batch" || outer.Status != 200 || len(outer.IDs) < 2 {
		t.Fatalf("the batch's own record: %+v", outer)
	}
	if got := summary(recs); got != "create Observation 201; create Observation 403; read Patient 404; read Patient 200" {
		t.Fatalf("entry records: %s", got)
	}
	for _, rec := range recs {
		if rec.ClientID != "client-user-1" || rec.User != "user-1" {
			t.Fatalf("entry record without the caller: %+v", rec)
		}
	}

	r = s.as(tokA, "POST", "/fhir", bundleOf("transaction", ownObs, otherObs))
	s.wantStatus(r, 403, "transaction with an entry about another patient")
	if !strings.Contains(outcomeText(r), "Bundle.entry[1]") {
		t.Fatalf("the outcome does not name the entry: %s", outcomeText(r))
	}
	if countA() != start+1 {
		t.Fatal("the failed transaction's first create was not rolled back")
	}
	outer, recs = s.recordsOf(r.header.Get("X-Request-Id"))
	if outer == nil || outer.Interaction != "transaction" || outer.Status != 403 {
		t.Fatalf("the transaction's own record: %+v", outer)
	}
	if got := summary(recs); got != "create Observation 403; create Observation 403" || !strings.Contains(recs[0].Detail, "rolled back") {
		t.Fatalf("entry records of a rolled-back transaction: %s (%q)", got, recs[0].Detail)
	}
}

// TestBundleForwarded: on the FHIR server a transaction is forwarded whole:
// each entry is authorised first (a missing scope names the entry; a
// patient-narrowed token is refused, a batch being the way), the answer's
// URLs are the facade's, and each entry has its audit record.
func TestBundleForwarded(t *testing.T) {
	s := newSecure(t, secureOpts{route: "fhir"})
	const p = "urn:uuid:5c2e7d10-0000-4000-8000-000000000001"
	tx := bundleOf("transaction", post(p, "Patient", patientJSON("MRN-FWD-1")), post("", "Encounter", encounterJSON(p)))

	r := s.as(s.token("system/*.cruds", ""), "POST", "/fhir", tx)
	s.wantStatus(r, 200, "forwarded transaction")
	if got := statuses(s.env, r); got != "201 Created; 201 Created" {
		t.Fatalf("statuses %s: %s", got, r.raw)
	}
	es := r.body["entry"].([]any)
	pat, enc := es[0].(map[string]any)["fullUrl"].(string), es[1].(map[string]any)["fullUrl"].(string)
	if !strings.HasPrefix(pat, s.srv.URL+"/fhir/Patient/") || !strings.HasPrefix(enc, s.srv.URL+"/fhir/Encounter/") {
		t.Fatalf("full URLs not under the facade's base: %s %s", pat, enc)
	}
	got := s.as(s.token("system/*.rs", ""), "GET", strings.TrimPrefix(enc, s.srv.URL), "")
	s.wantStatus(got, 200, "read the forwarded Encounter")
	if ref := got.body["subject"].(map[string]any)["reference"]; ref != strings.TrimPrefix(pat, s.srv.URL+"/fhir/") {
		t.Fatalf("Encounter.subject %v, want %s", ref, pat)
	}
	outer, recs := s.recordsOf(r.header.Get("X-Request-Id"))
	if outer == nil || outer.Interaction != "transaction" || outer.Status != 200 {
		t.Fatalf("the transaction's own record: %+v", outer)
	}
	if got := summary(recs); got != "create Patient 201; create Encounter 201" || len(recs[0].IDs) != 1 {
		t.Fatalf("entry records: %s %+v", got, recs)
	}

	r = s.as(s.token("system/*.rs", ""), "POST", "/fhir", tx)
	s.wantStatus(r, 403, "a transaction without create scope")
	if !strings.Contains(outcomeText(r), "Bundle.entry[0]") {
		t.Fatalf("the refusal does not name the entry: %s", outcomeText(r))
	}
	r = s.as(s.token("patient/*.rs patient/Observation.cud", "1"), "POST", "/fhir",
		bundleOf("transaction", post("", "Observation", observationJSON("Patient/1", "Encounter/1", "2345-7"))))
	s.wantStatus(r, 403, "a patient token's transaction on the FHIR server")
	if !strings.Contains(outcomeText(r), "send a batch") {
		t.Fatalf("the refusal does not say what works: %s", outcomeText(r))
	}
}
