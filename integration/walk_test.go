// Package integration drives the strangler walk end to end: a real legacy
// database, a real control store, the real test FHIR server over HTTP, and
// the facade over HTTP.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/parity"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/syncer"
	"github.com/fhirfacade/fhirfacade/tombstone"
	"github.com/fhirfacade/fhirfacade/upstream"
)

const patients = 12

type world struct {
	t       *testing.T
	ctx     context.Context
	fhirSrv *testutil.FHIRServer
	legacy  *idmap.Backend
	fhir    *upstream.Backend
	// routedLegacy and routedFHIR are the two sides as serve hands them to
	// the router: wrapped in tombstones (the mirror writes around them)
	routedLegacy, routedFHIR backend.Backend
	routes                   *routing.Store
	watcher                  *routing.Watcher
	outbox                   *mirror.Outbox
	router                   *routing.Router
	http                     *httptest.Server
	metrics                  *prometheus.Registry
	// routesDSN is the control store's URL (for a second facade process)
	routesDSN string
	ctl       *control.Store
	// knownFailed is how many failed outbox rows the test has caused on purpose
	knownFailed int
	// with secure: SMART auth from a local issuer, every request of the
	// walk sent with a system token, and the audit trail on
	is    *testutil.Issuer
	token string
	audit *audit.Store
	sent  atomic.Int64
	// bulk runs $export jobs (its workers poll every 200 ms)
	bulk *bulk.Engine
}

func newWorld(t *testing.T, legacyDB *sqldb.DB, controlDSN string) *world {
	return newWorldWith(t, legacyDB, controlDSN, false)
}

func newWorldWith(t *testing.T, legacyDB *sqldb.DB, controlDSN string, secure bool) *world {
	return newWorldOn(t, legacyDB, controlDSN, secure, testutil.Seed(t, legacyDB, patients))
}

// newWorldOn is the walk's world over a seeded legacy database and its
// bound specs (either demo schema).
func newWorldOn(t *testing.T, legacyDB *sqldb.DB, controlDSN string, secure bool, reg *mappings.Registry) *world {
	return newWorldSink(t, legacyDB, controlDSN, secure, reg, nil)
}

// newWorldSink is newWorldOn with the $export files in sink (nil: a
// temporary folder) and the test FHIR server started with fhirEnv (e.g.
// EXPORT=off).
func newWorldSink(t *testing.T, legacyDB *sqldb.DB, controlDSN string, secure bool, reg *mappings.Registry, sink bulk.Sink, fhirEnv ...string) *world {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ctl, err := control.Open(ctx, controlDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	w := &world{t: t, ctx: ctx, metrics: prometheus.NewRegistry(), routesDSN: controlDSN, ctl: ctl}
	w.fhirSrv = testutil.StartFHIRServerEnv(t, fhirEnv...)
	c, err := upstream.New(upstream.Config{BaseURL: w.fhirSrv.URL(), MaxRetries: 1, BreakerFailures: 3, BreakerOpen: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.fhir = upstream.NewBackend(c)
	ids := idmap.New(ctl)
	if err := ids.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	w.legacy = &idmap.Backend{Inner: legacy.New(legacyDB, reg), Map: ids, Reg: reg}
	w.routes = routing.NewStore(ctl.DB)
	if err := w.routes.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	w.watcher, err = routing.NewWatcher(ctx, w.routes, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	go w.watcher.Run(ctx)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	w.outbox = mirror.NewOutbox(ctl.DB, log, w.metrics)
	cmp := compare.NewComparer(ctx, w.fhir, ctl, 1.0, 2, log, w.metrics)
	types := map[string]bool{}
	for _, typ := range reg.Types() {
		types[typ] = true
	}
	w.routedLegacy = &tombstone.Backend{Inner: w.legacy, Store: ctl}
	w.routedFHIR = &tombstone.Backend{Inner: w.fhir, Store: ctl}
	w.router = routing.NewRouter(w.watcher, types, w.routedLegacy, w.routedFHIR, w.outbox, cmp)
	if sink == nil {
		sink = bulk.Dir{Root: t.TempDir()}
	}
	if w.bulk, err = bulk.New(bulk.Config{Store: ctl, Router: w.router, Sink: sink, Exporter: w.fhir, Poll: 200 * time.Millisecond, PageSize: 25, Log: log}); err != nil {
		t.Fatal(err)
	}
	bulkDone := make(chan struct{})
	go func() { w.bulk.Run(ctx); close(bulkDone) }()
	t.Cleanup(func() { cancel(); <-bulkDone })
	cfg := facade.Config{Catalog: catalog.IDMapped(catalog.FromSpecs(reg)), Router: w.router, Sealer: testutil.Sealer(t), Log: log, Metrics: prometheus.NewRegistry(), Bulk: w.bulk}
	if secure {
		w.is = testutil.NewIssuer(t)
		w.token = w.is.Token(t, w.is.Claims("walker", "system/*.cruds"))
		cfg.Auth = auth.NewVerifier(auth.VerifierConfig{Issuers: []string{w.is.URL}, Audiences: []string{w.is.Audience}, JWKSURL: w.is.JWKSURL})
		w.audit = &audit.Store{DB: ctl.DB}
		aw := audit.NewWriter(w.audit)
		done := make(chan struct{})
		go func() { aw.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		cfg.Audit = aw
	}
	w.http = testutil.Serve(t, func(base string) http.Handler {
		cfg.BaseURL = base
		return facade.New(cfg).Handler()
	})
	return w
}

func (w *world) ends() mirror.Ends {
	return mirror.Ends{Legacy: w.legacy, FHIR: w.fhir, Reverse: w.router.Reverse}
}

// flip moves a type and waits until the watcher serves the new state; in a
// secure world it then checks that a patient-scoped token stays inside its
// compartment on the new route.
func (w *world) flip(typ string, to routing.State, force bool) {
	w.t.Helper()
	_, err := w.routes.Set(w.ctx, routing.Move{Type: typ, To: to, Actor: "walk-test", Reason: "integration walk", Force: force, Confirm: to == routing.FHIROnly})
	if err != nil {
		w.t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for w.watcher.Current().State(typ) != to {
		if time.Now().After(deadline) {
			w.t.Fatalf("%s not on %s within 1 s", typ, to)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w.is != nil {
		w.compartment(typ, to)
	}
}

// compartment: patient 5's token reads its own data of typ and nothing of
// patient 6's, by read, search and include.
func (w *world) compartment(typ string, st routing.State) {
	w.t.Helper()
	c := w.is.Claims("patient5", "patient/*.rs")
	c["patient"] = "5"
	tok := "Bearer " + w.is.Token(w.t, c)
	what := fmt.Sprintf("%s on %s", typ, st)
	id6 := map[string]string{"Patient": "6"}[typ]
	r := w.want(w.do("GET", "/fhir/"+typ+"?_count=200&_include="+typ+":"+map[string]string{"Patient": "general-practitioner", "Encounter": "subject", "Observation": "subject"}[typ], "", "Authorization", tok), 200, "compartment search "+what)
	n := 0
	for _, e := range r.body["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		ref := "Patient/" + fmt.Sprint(res["id"])
		if s, ok := res["subject"].(map[string]any); ok {
			ref = s["reference"].(string)
		}
		if res["resourceType"] == "OperationOutcome" {
			continue
		}
		n++
		if ref != "Patient/5" {
			w.t.Fatalf("%s: patient 5's token got %s/%v of %s", what, res["resourceType"], res["id"], ref)
		}
	}
	if n == 0 {
		w.t.Fatalf("%s: patient 5's token sees nothing", what)
	}
	if id6 == "" {
		r := w.want(w.do("GET", "/fhir/"+typ+"?subject=Patient/6&_count=1", "", "Authorization", "Bearer "+w.token), 200, "find patient 6's "+typ)
		id6 = fmt.Sprint(r.body["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["id"])
	}
	w.want(w.do("GET", "/fhir/"+typ+"/"+id6, "", "Authorization", tok), 404, "patient 6's "+typ+" with patient 5's token, "+what)
}

// checkAudit: every request of the walk has its audit record, and the chain
// verifies.
func (w *world) checkAudit() {
	w.t.Helper()
	n, err := w.audit.Count(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if n != w.sent.Load() {
		w.t.Fatalf("%d audit records for %d requests", n, w.sent.Load())
	}
	rep, err := w.audit.Verify(w.ctx)
	if err != nil || rep.Problem != nil {
		w.t.Fatalf("audit verify: %v %v", err, rep.Problem)
	}
	w.t.Logf("audit: %d records for %d requests, chain verified", n, w.sent.Load())
}

// copyAll copies every legacy resource of typ into the FHIR server with
// `sync` (the same code path as the command).
func (w *world) copyAll(typ string) {
	w.t.Helper()
	res, err := (&syncer.Syncer{Legacy: w.legacy, FHIR: w.fhir, Ctl: w.ctl}).Run(w.ctx, syncer.Options{Type: typ, Batch: 200})
	if err != nil || res.Failed > 0 {
		w.t.Fatalf("sync %s: %v %+v", typ, err, res)
	}
}

// toFHIR walks each type to `fhir` the way the guard wants it: sync,
// shadow, a passing parity report, fhir.
func (w *world) toFHIR(types ...string) {
	w.t.Helper()
	for _, typ := range types {
		w.copyAll(typ)
		w.flip(typ, routing.Shadow, false)
		w.prove(typ)
		w.flip(typ, routing.FHIR, false)
	}
}

// prove runs parity for typ and requires it to pass.
func (w *world) prove(typ string) {
	w.t.Helper()
	rep, err := parity.Run(w.ctx, w.legacy, w.fhir, w.ctl, parity.Options{Type: typ})
	if err != nil {
		w.t.Fatal(err)
	}
	if !rep.Passed {
		w.t.Fatalf("parity %s: %+v %+v", typ, rep.Counts, rep.Samples)
	}
}

func (w *world) drain() {
	w.t.Helper()
	for i := 0; i < 50; i++ {
		if _, err := w.outbox.Drain(w.ctx, w.ends()); err != nil {
			w.t.Fatal(err)
		}
		n, _ := w.outbox.Pending(w.ctx, "fhir")
		m, _ := w.outbox.Pending(w.ctx, "legacy")
		if n+m == 0 {
			failed, _ := w.outbox.Failed(w.ctx)
			if len(failed) > w.knownFailed {
				w.t.Fatalf("mirrored writes failed: %v", failed)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatal("outbox does not drain")
}

// same checks that legacy and the FHIR server hold the same resources of typ.
func (w *world) same(typ string) {
	w.t.Helper()
	all := func(b backend.Backend) map[string][]byte {
		out := map[string][]byte{}
		cursor := ""
		for {
			res, err := b.Search(w.ctx, typ, &search.Query{}, backend.SearchOptions{Count: 200, Cursor: cursor})
			if err != nil {
				w.t.Fatal(err)
			}
			for _, r := range res.Resources {
				out[r.ID] = r.JSON
			}
			if res.Next == "" {
				return out
			}
			cursor = res.Next
		}
	}
	l, f := all(w.legacy), all(w.fhir)
	if len(l) != len(f) {
		w.t.Fatalf("%s: legacy has %d, FHIR has %d", typ, len(l), len(f))
	}
	for id, lj := range l {
		fj, ok := f[id]
		if !ok {
			w.t.Fatalf("%s/%s only in legacy", typ, id)
		}
		if d := compare.Diff(lj, fj); len(d) > 0 {
			w.t.Fatalf("%s/%s differs at %v:\nlegacy %s\nfhir   %s", typ, id, d, lj, fj)
		}
	}
}

type resp struct {
	status int
	body   map[string]any
	raw    []byte
	hdr    http.Header
}

func (w *world) do(method, path, body string, hdr ...string) resp {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, w.http.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w.sent.Add(1)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: raw, hdr: res.Header}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (w *world) want(r resp, status int, what string) resp {
	w.t.Helper()
	if r.status != status {
		w.t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.raw)
	}
	return r
}

// rename sends a whole resource back with a new family name (a PUT).
func (w *world) rename(typ, id, family string) {
	w.t.Helper()
	r := w.want(w.do("GET", "/fhir/"+typ+"/"+id, ""), 200, "read "+id)
	r.body["name"].([]any)[0].(map[string]any)["family"] = family
	b, _ := json.Marshal(r.body)
	w.want(w.do("PUT", "/fhir/"+typ+"/"+id, string(b)), 200, "update "+id)
}

func family(r resp) string {
	return r.body["name"].([]any)[0].(map[string]any)["family"].(string)
}

func (w *world) legacyFamily(id string) string {
	w.t.Helper()
	r, err := w.legacy.Read(w.ctx, "Patient", id)
	if err != nil {
		w.t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(r.JSON, &m)
	return m["name"].([]any)[0].(map[string]any)["family"].(string)
}

// TestStranglerWalk: Patient legacy -> shadow -> fhir -> shadow, then
// Encounter and Observation, with the FHIR server killed and restarted in
// the middle of the shadow step; ends with both sides holding the same data.
// walkStores are the legacy databases and control stores the walks run
// on, each fresh per test.
var walkStores = []struct {
	name   string
	legacy func(testing.TB) *sqldb.DB
	ctl    func(t *testing.T) string
}{
	{"sqlite", testutil.SQLite, func(t *testing.T) string { return "sqlite://" + t.TempDir() + "/control.db" }},
	{"postgres", testutil.Postgres, func(t *testing.T) string { return testutil.PostgresDSN(t) }},
	// MariaDB is a legacy database only: its control store is SQLite
	{"mysql", testutil.MySQL, func(t *testing.T) string { return "sqlite://" + t.TempDir() + "/control.db" }},
}

func TestStranglerWalk(t *testing.T) {
	for _, d := range walkStores {
		t.Run(d.name, func(t *testing.T) {
			w := newWorldWith(t, d.legacy(t), d.ctl(t), true)
			walkPatient(w)
			for _, typ := range []string{"Encounter", "Observation"} {
				w.copyAll(typ)
				w.flip(typ, routing.Shadow, false)
				w.same(typ)
				w.prove(typ)
				w.flip(typ, routing.FHIR, false)
				w.want(w.do("GET", "/fhir/"+typ+"?patient=4&_count=100", ""), 200, "search "+typ+" on fhir")
			}
			// every type on fhir: a search with includes is served by FHIR
			r := w.want(w.do("GET", "/fhir/Observation?patient=5&_include=Observation:patient&_count=50", ""), 200, "all on fhir")
			if n := len(r.body["entry"].([]any)); n != seed.ResultsPerPatient+1 {
				t.Fatalf("all-fhir include search: %d entries", n)
			}
			// fhir-only stops the reverse mirror
			w.flip("Observation", routing.FHIROnly, false)
			if !w.router.Reverse("Patient") || w.router.Reverse("Observation") {
				t.Fatal("reverse mirror flags wrong")
			}
			w.checkAudit()
		})
	}
}

func walkPatient(w *world) {
	t := w.t
	// day 0: legacy. Copy Patients into FHIR with sync, then shadow.
	w.copyAll("Patient")
	w.same("Patient")
	w.flip("Patient", routing.Shadow, false)

	// shadow reads come from legacy and are compared in the background
	for i := 1; i <= 3; i++ {
		w.want(w.do("GET", fmt.Sprintf("/fhir/Patient/%d", i), ""), 200, "shadow read")
	}
	deadline := time.Now().Add(5 * time.Second)
	for compareCount(w, "match") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("shadow comparisons: %v matches", compareCount(w, "match"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// a shadow write lands in legacy and is mirrored to FHIR
	w.rename("Patient", "1", "Shadowwrite")
	w.drain()
	if r, err := w.fhir.Read(w.ctx, "Patient", "1"); err != nil || !bytes.Contains(r.JSON, []byte("Shadowwrite")) {
		t.Fatalf("mirror did not reach FHIR: %v", err)
	}

	// the FHIR server dies: shadow keeps serving with writes queued
	w.fhirSrv.Stop()
	start := time.Now()
	w.want(w.do("GET", "/fhir/Patient/2", ""), 200, "shadow read with FHIR down")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("shadow read took %v with FHIR down", d)
	}
	w.rename("Patient", "2", "Duringoutage")
	w.rename("Patient", "2", "Duringoutagetwice")
	created := w.want(w.do("POST", "/fhir/Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"MRN-WALK-1"}],"name":[{"family":"Newduringoutage"}]}`), 201, "create during outage")
	if n, _ := w.outbox.Drain(w.ctx, w.ends()); n != 0 {
		t.Fatalf("drained %d rows while FHIR is down", n)
	}
	if n, _ := w.outbox.Pending(w.ctx, "fhir"); n < 3 {
		t.Fatalf("pending mirror rows: %d", n)
	}
	// it comes back empty (an in-memory server): replay the queue in order,
	// then copy everything again as an operator would after such a loss
	w.fhirSrv.Start()
	time.Sleep(400 * time.Millisecond) // breaker half-open
	w.drain()
	if r, err := w.fhir.Read(w.ctx, "Patient", "2"); err != nil || !bytes.Contains(r.JSON, []byte("Duringoutagetwice")) {
		t.Fatalf("queued write not replayed: %v", err)
	}
	if _, err := w.fhir.Read(w.ctx, "Patient", created.body["id"].(string)); err != nil {
		t.Fatalf("queued create not replayed: %v", err)
	}
	w.copyAll("Patient")
	w.same("Patient")

	// fhir: refused until parity proves the copy, then allowed
	if _, err := w.routes.Set(w.ctx, routing.Move{Type: "Patient", To: routing.FHIR, Actor: "walk", Reason: "try"}); err == nil {
		t.Fatal("flip to fhir without a parity report was allowed")
	}
	w.prove("Patient")
	w.flip("Patient", routing.FHIR, false)
	r := w.want(w.do("GET", "/fhir/Patient/3", ""), 200, "read on fhir")
	// served by the FHIR server: its version, not legacy's (a legacy
	// version is a millisecond time, which a uuid version can also start
	// with, so compare with the server's own)
	if fr, err := w.fhir.Read(w.ctx, "Patient", "3"); err != nil || r.body["meta"].(map[string]any)["versionId"] != fr.VersionID {
		t.Fatalf("Patient/3 not served by the FHIR server (its read: %v): %s", err, r.raw)
	}
	// mixed routes: Observations from legacy, the included Patient from FHIR
	r = w.want(w.do("GET", "/fhir/Observation?patient=3&_include=Observation:patient&_count=50", ""), 200, "mixed include")
	var inc map[string]any
	for _, e := range r.body["entry"].([]any) {
		en := e.(map[string]any)
		if en["search"].(map[string]any)["mode"] == "include" {
			inc = en["resource"].(map[string]any)
		}
	}
	if inc == nil || inc["id"] != "3" || len(inc["meta"].(map[string]any)["versionId"].(string)) < 30 {
		t.Fatalf("included Patient not from FHIR: %v", inc)
	}
	// a write on fhir is mirrored back into legacy
	w.rename("Patient", "3", "Writtenonfhir")
	if got := w.legacyFamily("3"); got == "Writtenonfhir" {
		t.Fatal("legacy changed before the reverse mirror ran")
	}
	w.drain()
	if got := w.legacyFamily("3"); got != "Writtenonfhir" {
		t.Fatalf("reverse mirror: legacy has %q", got)
	}
	// FHIR down on a fhir route: 503 OperationOutcome, fast once the breaker is open
	w.fhirSrv.Stop()
	for i := 0; i < 3; i++ {
		w.do("GET", "/fhir/Patient/4", "")
	}
	start = time.Now()
	r = w.want(w.do("GET", "/fhir/Patient/4", ""), 503, "fhir route with FHIR down")
	if d := time.Since(start); d > 100*time.Millisecond || r.body["resourceType"] != "OperationOutcome" {
		t.Fatalf("503 took %v: %s", d, r.raw)
	}
	w.fhirSrv.Start()
	time.Sleep(400 * time.Millisecond)
	w.copyAll("Patient") // the restarted in-memory server is empty again

	// a Patient created on FHIR gets its id from the FHIR server; the
	// reverse mirror inserts a legacy row (legacy assigns the key) and
	// records the pair in the id map. An Observation created on FHIR that
	// references it is mirrored with the reference translated.
	c := w.want(w.do("POST", "/fhir/Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"MRN-ONFHIR"}],"name":[{"family":"Createdonfhir"}],"gender":"female"}`), 201, "create on fhir")
	newID := c.body["id"].(string)
	if _, err := strconv.Atoi(newID); err == nil {
		t.Fatalf("the FHIR server gave a legacy-like id %q", newID)
	}
	w.drain()
	if failed, _ := w.outbox.Failed(w.ctx); len(failed) != 0 {
		t.Fatalf("reverse mirror of a FHIR create failed: %v", failed)
	}
	lid, ok := w.legacy.Map.ToLegacy("Patient", newID)
	if !ok {
		t.Fatal("no id map entry for the FHIR-created Patient")
	}
	if got := family(w.want(w.do("GET", "/fhir/Patient/"+newID, ""), 200, "read FHIR-created on fhir")); got != "Createdonfhir" {
		t.Fatalf("family %q", got)
	}
	// the mirror is idempotent: copying the same resource again updates
	// the same legacy row
	w.rename("Patient", newID, "Renamedonfhir")
	w.drain()
	if got, _ := w.legacy.Map.ToLegacy("Patient", newID); got != lid {
		t.Fatalf("second mirror moved the pair: %s -> %s", lid, got)
	}
	if got := w.legacyFamily(newID); got != "Renamedonfhir" {
		t.Fatalf("legacy row of the FHIR-created Patient: %q", got)
	}
	// an Observation (on legacy) about the FHIR-created Patient: stored
	// with the legacy key, answered with the FHIR id, found by it
	o := w.want(w.do("GET", "/fhir/Observation/1", ""), 200, "an Observation to copy")
	delete(o.body, "id")
	delete(o.body, "meta")
	o.body["subject"] = map[string]any{"reference": "Patient/" + newID}
	ob, _ := json.Marshal(o.body)
	oc := w.want(w.do("POST", "/fhir/Observation", string(ob)), 201, "Observation about a FHIR-created Patient")
	if ref := oc.body["subject"].(map[string]any)["reference"]; ref != "Patient/"+newID {
		t.Fatalf("created Observation answers subject %v", ref)
	}
	r = w.want(w.do("GET", "/fhir/Observation?patient="+newID, ""), 200, "search by the FHIR-created Patient")
	if n := len(r.body["entry"].([]any)); n != 1 {
		t.Fatalf("Observations of the FHIR-created Patient: %d", n)
	}
	w.copyAll("Patient") // sync PUTs the mapped legacy row to the FHIR id it came from
	if _, err := w.fhir.Read(w.ctx, "Patient", newID); err != nil {
		t.Fatalf("sync lost the FHIR-created Patient: %v", err)
	}
	// back to shadow: legacy answers, and holds what was written on fhir
	w.flip("Patient", routing.Shadow, false)
	if got := family(w.want(w.do("GET", "/fhir/Patient/3", ""), 200, "read after rollback")); got != "Writtenonfhir" {
		t.Fatalf("rollback lost the fhir-route write: %q", got)
	}
	// the FHIR-created Patient answers under the same id from legacy, and
	// searches find it by that id and by reference
	r = w.want(w.do("GET", "/fhir/Patient/"+newID, ""), 200, "FHIR-created Patient after rollback")
	if r.body["id"] != newID || family(r) != "Renamedonfhir" {
		t.Fatalf("after rollback: %s", r.raw)
	}
	r = w.want(w.do("GET", "/fhir/Patient?_id="+newID, ""), 200, "search by FHIR id after rollback")
	if n := len(r.body["entry"].([]any)); n != 1 {
		t.Fatalf("_id search after rollback: %d", n)
	}
	w.want(w.do("GET", "/fhir/Patient/"+lid, ""), 200, "the legacy id reads too")
	w.same("Patient")
	h, _ := w.routes.History(w.ctx, "Patient")
	if len(h) != 3 || h[1].Forced || h[1].ParityReport == nil || h[2].Forced {
		t.Fatalf("journal: %+v", h)
	}
	w.prove("Patient")
	w.flip("Patient", routing.FHIR, false)
}

func compareCount(w *world, result string) float64 {
	mfs, _ := w.metrics.Gather()
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "fhirfacade_shadow_compare_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
