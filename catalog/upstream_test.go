package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// upstreamWorld is a facade over legacy (the demo specs) and the test FHIR
// server, with the merged catalog and SMART tokens.
type upstreamWorld struct {
	t    *testing.T
	url  string
	is   *testutil.Issuer
	fhir *upstream.Backend
}

func newUpstreamWorld(t *testing.T) *upstreamWorld {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, 5)
	srv := testutil.StartFHIRServer(t)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up, err := catalog.FromCapabilities(raw)
	if err != nil {
		t.Fatal(err)
	}
	cat, only := catalog.Merge(catalog.FromSpecs(reg), up)
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	routes := routing.NewStore(ctl.DB)
	if err := routes.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	watcher, err := routing.NewWatcher(ctx, routes, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	go watcher.Run(ctx)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	types := map[string]bool{}
	for _, typ := range reg.Types() {
		types[typ] = true
	}
	fb := upstream.NewBackend(c)
	router := routing.NewRouter(watcher, types, legacy.New(db, reg), fb, mirror.NewOutbox(ctl.DB, log, prometheus.NewRegistry()), nil)
	router.ServeUpstreamOnly(only)
	is := testutil.NewIssuer(t)
	hs := testutil.Serve(t, func(base string) http.Handler {
		return facade.New(facade.Config{
			Catalog: cat, Router: router, Sealer: testutil.Sealer(t), Log: log, Metrics: prometheus.NewRegistry(),
			Auth:    auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL}),
			BaseURL: base,
		}).Handler()
	})
	return &upstreamWorld{t: t, url: hs.URL, is: is, fhir: fb}
}

// create stores a resource on the FHIR server directly and returns its id.
func (w *upstreamWorld) create(body string) string {
	w.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		w.t.Fatal(err)
	}
	r, _, err := w.fhir.Create(context.Background(), m["resourceType"].(string), m, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.ID
}

// token has scope and, when patient != "", a patient claim.
func (w *upstreamWorld) token(scope, patient string) string {
	c := w.is.Claims("user", scope)
	if patient != "" {
		c["patient"] = patient
	}
	return w.is.Token(w.t, c)
}

// do sends a request and returns the status and the ids ("Type/id") of
// the answer: the resource, or a Bundle's entries in order.
func (w *upstreamWorld) do(tok, method, path, body string) (int, []string, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r struct {
		ResourceType, ID string
		Entry            []struct {
			Resource struct{ ResourceType, ID string }
		}
	}
	_ = json.Unmarshal(raw, &r)
	var ids []string
	if r.ResourceType == "Bundle" {
		for _, e := range r.Entry {
			ids = append(ids, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
	} else if r.ID != "" {
		ids = []string{r.ResourceType + "/" + r.ID}
	}
	return res.StatusCode, ids, raw
}

// TestUpstreamOnlyTypes: types with no mapping spec are served from the
// FHIR server, described by its CapabilityStatement and R4's definitions:
// reads, searches, _include and _revinclude across backends, and patient/
// scopes confined through CompartmentDefinition/patient (or refused where
// the type cannot be confined).
func TestUpstreamOnlyTypes(t *testing.T) {
	w := newUpstreamWorld(t)
	// (Organization, Practitioner, Condition and MedicationRequest have
	// specs: these types have none)
	hs := w.create(`{"resourceType":"HealthcareService","name":"Acme Clinic"}`)
	w.create(`{"resourceType":"HealthcareService","name":"Other Hospital"}`)
	dev := w.create(`{"resourceType":"Device","deviceName":[{"name":"pump","type":"user-friendly-name"}]}`)
	sched := w.create(`{"resourceType":"Schedule","actor":[{"reference":"Device/` + dev + `"}]}`)
	slot := w.create(`{"resourceType":"Slot","schedule":{"reference":"Schedule/` + sched + `"},"status":"free","start":"2025-01-01T09:00:00Z","end":"2025-01-01T09:30:00Z"}`)
	// Patient 1 and 2 live on legacy; their family histories and reports
	// only upstream (types no spec maps)
	c1 := w.create(`{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/1"},"relationship":{"text":"mother"}}`)
	c2 := w.create(`{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/2"},"relationship":{"text":"father"}}`)
	m1 := w.create(`{"resourceType":"DiagnosticReport","status":"final","subject":{"reference":"Patient/1"},"code":{"text":"cbc"}}`)
	w.create(`{"resourceType":"DiagnosticReport","status":"final","subject":{"reference":"Patient/2"},"code":{"text":"bmp"}}`)
	w.create(`{"resourceType":"Person","link":[{"target":{"reference":"Patient/1"}}]}`)

	system := w.token("system/*.cruds", "")
	pat1 := w.token("patient/FamilyMemberHistory.cruds patient/DiagnosticReport.rs patient/Person.rs patient/HealthcareService.rs patient/Patient.rs", "1")
	cases := []struct {
		name, tok, method, path, body string
		status                        int
		ids                           []string // nil: not checked
	}{
		{"search an upstream-only type", system, "GET", "/fhir/HealthcareService?name=Acme", "", 200, []string{"HealthcareService/" + hs}},
		{"read an upstream-only type", system, "GET", "/fhir/Device/" + dev, "", 200, []string{"Device/" + dev}},
		{"include between upstream-only types", system, "GET", "/fhir/Slot?_id=" + slot + "&_include=Slot:schedule", "", 200,
			[]string{"Slot/" + slot, "Schedule/" + sched}},
		{"include a legacy type from an upstream-only one", system, "GET", "/fhir/FamilyMemberHistory?_id=" + c1 + "&_include=FamilyMemberHistory:patient", "", 200, []string{"FamilyMemberHistory/" + c1, "Patient/1"}},
		{"revinclude an upstream-only type from legacy", system, "GET", "/fhir/Patient?_id=2&_revinclude=FamilyMemberHistory:patient", "", 200, []string{"Patient/2", "FamilyMemberHistory/" + c2}},
		{"not proxied", system, "GET", "/fhir/Subscription", "", 404, nil},
		{"not R4", system, "GET", "/fhir/Project", "", 404, nil},
		{"patient scope: own family histories only", pat1, "GET", "/fhir/FamilyMemberHistory", "", 200, []string{"FamilyMemberHistory/" + c1}},
		{"patient scope: another patient's family history", pat1, "GET", "/fhir/FamilyMemberHistory/" + c2, "", 404, nil},
		{"patient scope: own family history", pat1, "GET", "/fhir/FamilyMemberHistory/" + c1, "", 200, []string{"FamilyMemberHistory/" + c1}},
		{"patient scope: include stays in the compartment", pat1, "GET", "/fhir/FamilyMemberHistory?_include=FamilyMemberHistory:patient", "", 200, []string{"FamilyMemberHistory/" + c1, "Patient/1"}},
		{"patient scope: write for another patient", pat1, "POST", "/fhir/FamilyMemberHistory", `{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/2"},"relationship":{"text":"x"}}`, 403, nil},
		{"patient scope: write for own patient", pat1, "POST", "/fhir/FamilyMemberHistory", `{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/1"},"relationship":{"text":"x"}}`, 201, nil},
		// the compartment's subject (Group, Device, Location or Patient) is confined by
		// patient, the same element narrowed to Patient
		{"patient scope: multi-target compartment parameter", pat1, "GET", "/fhir/DiagnosticReport", "", 200, []string{"DiagnosticReport/" + m1}},
		// Person's compartment parameter is nested (link.target)
		{"patient scope: type that cannot be confined", pat1, "GET", "/fhir/Person", "", 403, nil},
		{"patient scope: type outside the compartment", pat1, "GET", "/fhir/HealthcareService", "", 403, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, ids, raw := w.do(c.tok, c.method, c.path, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %.400s", status, c.status, raw)
			}
			if c.ids != nil && !slices.Equal(ids, c.ids) {
				t.Fatalf("ids %v, want %v", ids, c.ids)
			}
			if status >= 400 && !bytes.Contains(raw, []byte(`"OperationOutcome"`)) {
				t.Fatalf("error without an OperationOutcome: %.300s", raw)
			}
		})
	}
}

// TestUpstreamOnlyMetadata: the facade's CapabilityStatement lists the
// upstream-only types, answered by the FHIR server, with the includes R4
// gives them.
func TestUpstreamOnlyMetadata(t *testing.T) {
	w := newUpstreamWorld(t)
	status, _, raw := w.do(w.token("system/*.read", ""), "GET", "/fhir/metadata", "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type          string
				SearchInclude []string
				Extension     []struct{ ValueCode string }
			}
		}
	}
	if err := json.Unmarshal(raw, &cs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	incs := map[string][]string{}
	for _, r := range cs.Rest[0].Resource {
		got[r.Type] = r.Extension[0].ValueCode
		incs[r.Type] = r.SearchInclude
	}
	for typ, want := range map[string]string{"Patient": "legacy", "Observation": "legacy", "Condition": "legacy", "Organization": "legacy", "HealthcareService": "fhir", "DiagnosticReport": "fhir", "Device": "fhir", "Subscription": "", "SearchParameter": ""} {
		if got[typ] != want {
			t.Errorf("%s answered by %q, want %q", typ, got[typ], want)
		}
	}
	if !slices.Contains(incs["DiagnosticReport"], "DiagnosticReport:patient") || slices.Contains(incs["DiagnosticReport"], "DiagnosticReport:subject") {
		t.Errorf("DiagnosticReport includes %v: want DiagnosticReport:patient (one target), not DiagnosticReport:subject (four)", incs["DiagnosticReport"])
	}
}
