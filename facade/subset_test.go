package facade_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// mapRouter routes each type to its own backend.
type mapRouter map[string]backend.Backend

func (m mapRouter) Snapshot() facade.Routes               { return m }
func (m mapRouter) BackendFor(typ string) backend.Backend { return m[typ] }
func (m mapRouter) ByName(name string) backend.Backend {
	for _, be := range m {
		if be.Name() == name {
			return be
		}
	}
	return nil
}

// newRoutedEnv serves the demo data (routedPatients patients) with each
// type on the route named: "legacy" (SQLite) or "fhir" (the test FHIR
// server, the type's resources copied there with PUT as sync does).
func newRoutedEnv(t *testing.T, routes map[string]string) *env {
	t.Helper()
	ctx := context.Background()
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, routedPatients)
	lb := legacy.New(db, reg)
	var fb backend.Backend
	router := mapRouter{}
	for typ, route := range routes {
		if route == "legacy" {
			router[typ] = lb
			continue
		}
		if fb == nil {
			c, err := upstream.New(upstream.Config{BaseURL: testutil.StartFHIRServer(t).URL()})
			if err != nil {
				t.Fatal(err)
			}
			fb = upstream.NewBackend(c)
		}
		copyType(t, ctx, lb, fb, typ)
		router[typ] = fb
	}
	hs := testutil.Serve(t, func(base string) http.Handler {
		return facade.New(facade.Config{
			Catalog: catalog.FromSpecs(reg),
			Router:  router,
			Sealer:  testutil.Sealer(t),
			Log:     slog.New(slog.NewJSONHandler(&discard{}, nil)),
			BaseURL: base,
		}).Handler()
	}, production(0))
	return &env{t: t, srv: hs, db: db}
}

const routedPatients = 3

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// copyType puts every resource of typ from legacy into the FHIR server.
func copyType(t *testing.T, ctx context.Context, from, to backend.Backend, typ string) {
	t.Helper()
	res, err := from.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Resources {
		var m map[string]any
		_ = json.Unmarshal(r.JSON, &m)
		if _, _, err := to.Update(ctx, typ, r.ID, m, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// shape is a resource's sorted top-level keys and whether it is tagged
// SUBSETTED: what _summary and _elements decide, the same on every route.
func shape(res map[string]any) string {
	var keys []string
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tagged := false
	if m, ok := res["meta"].(map[string]any); ok {
		tags, _ := m["tag"].([]any)
		for _, x := range tags {
			tag := x.(map[string]any)
			tagged = tagged || (tag["code"] == "SUBSETTED" && tag["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue")
		}
	}
	if tagged {
		return strings.Join(keys, ",") + " SUBSETTED"
	}
	return strings.Join(keys, ",")
}

// shapes are the shapes of an answer: a resource's, or a Bundle's entries'
// ("mode Type/id shape").
func shapes(r resp) []string {
	if r.body["resourceType"] != "Bundle" {
		return []string{shape(r.body)}
	}
	var out []string
	es, _ := r.body["entry"].([]any)
	for _, x := range es {
		en := x.(map[string]any)
		res := en["resource"].(map[string]any)
		out = append(out, en["search"].(map[string]any)["mode"].(string)+" "+res["resourceType"].(string)+"/"+res["id"].(string)+" "+shape(res))
	}
	return out
}

// subsetCases are the requests and the shape of their first resource.
var subsetCases = []struct {
	name, path, first string
}{
	{"whole read", "/fhir/Patient/1", "address,birthDate,deceasedBoolean,gender,id,identifier,meta,name,resourceType,telecom"},
	{"summary=false", "/fhir/Patient/1?_summary=false", "address,birthDate,deceasedBoolean,gender,id,identifier,meta,name,resourceType,telecom"},
	// Observation.category, interpretation, referenceRange are not summary
	{"summary=true read", "/fhir/Observation/1?_summary=true", "code,effectiveDateTime,encounter,id,identifier,meta,performer,resourceType,status,subject,valueQuantity SUBSETTED"},
	// text mode: text (none stored), id, meta and the mandatory elements
	{"summary=text", "/fhir/Observation/1?_summary=text", "code,id,meta,resourceType,status SUBSETTED"},
	{"summary=data", "/fhir/Encounter/1?_summary=data", "class,id,location,meta,period,resourceType,serviceProvider,serviceType,status,subject SUBSETTED"},
	// _elements: the named ones plus mandatory (code) and modifiers (status)
	{"elements read", "/fhir/Observation/1?_elements=subject,value", "code,id,meta,resourceType,status,subject,valueQuantity SUBSETTED"},
	{"elements choice by type", "/fhir/Observation/1?_elements=valueQuantity", "code,id,meta,resourceType,status,valueQuantity SUBSETTED"},
	{"elements search", "/fhir/Observation?subject=Patient/1&_elements=effective&_count=3", "match Observation/1 code,effectiveDateTime,id,meta,resourceType,status SUBSETTED"},
	{"summary search with include", "/fhir/Observation?_id=1&_summary=true&_include=Observation:subject", "match Observation/1 code,effectiveDateTime,encounter,id,identifier,meta,performer,resourceType,status,subject,valueQuantity SUBSETTED"},
	{"everything summary", "/fhir/Patient/1/$everything?_summary=text&_count=2", "match Patient/1 id,meta,resourceType SUBSETTED"},
}

// TestSubset: _summary and _elements on read, search and $everything give
// the same shapes on legacy and on the FHIR server, tag what they cut, and
// keep the parameters in the paging links.
func TestSubset(t *testing.T) {
	all := func(route string) map[string]string {
		return map[string]string{"Patient": route, "Encounter": route, "Observation": route}
	}
	envs := map[string]*env{"legacy": newRoutedEnv(t, all("legacy")), "fhir": newRoutedEnv(t, all("fhir"))}
	for _, c := range subsetCases {
		t.Run(c.name, func(t *testing.T) {
			var answers [][]string
			for _, route := range []string{"legacy", "fhir"} {
				e := envs[route]
				e.t = t
				r := e.get(c.path)
				e.wantStatus(r, 200, route+" "+c.path)
				got := shapes(r)
				if len(got) == 0 || got[0] != c.first {
					t.Fatalf("%s: first resource %q, want %q", route, got, c.first)
				}
				if next := link(r, "next"); next != "" {
					nr := e.get(next)
					e.wantStatus(nr, 200, "next page")
					if p := shapes(nr); len(p) == 0 || !strings.HasSuffix(p[0], "SUBSETTED") {
						t.Fatalf("%s: the next page lost the subset: %v", route, p)
					}
				}
				answers = append(answers, got)
			}
			if strings.Join(answers[0], "\n") != strings.Join(answers[1], "\n") {
				t.Fatalf("legacy and fhir differ:\n%s\n--\n%s", strings.Join(answers[0], "\n"), strings.Join(answers[1], "\n"))
			}
		})
	}
}

// TestSubsetRefusals: bad _summary and _elements values are 400s naming
// them, on read, search and $everything.
func TestSubsetRefusals(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	for _, c := range []struct{ path, names string }{
		{"/fhir/Patient/1?_summary=maybe", "maybe"},
		{"/fhir/Patient/1?_summary=count", "_summary=count"},
		{"/fhir/Patient/1?_elements=nosuch", "nosuch"},
		{"/fhir/Patient/1?_elements=name,,gender", "empty"},
		{"/fhir/Observation?_elements=birthDate", "birthDate"},
		{"/fhir/Observation?_summary=true&_elements=status", "_elements"},
		{"/fhir/Observation?_total=maybe", "maybe"},
	} {
		r := e.get(c.path)
		e.wantStatus(r, 400, c.path)
		if !strings.Contains(outcomeText(r), c.names) {
			t.Errorf("%s: the OperationOutcome does not name %q: %s", c.path, c.names, outcomeText(r))
		}
	}
}

// TestTotal: _total=accurate and estimate answer the count (legacy counts
// exactly: an estimate may be exact), none and no _total answer none.
func TestTotal(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		e := newEnv(t, open)
		for _, c := range []struct {
			q    string
			want any
		}{{"_total=accurate", float64(20)}, {"_total=estimate", float64(20)}, {"_total=none", nil}, {"", nil}, {"_summary=count", float64(20)}} {
			r := e.get("/fhir/Observation?subject=Patient/2&_count=3&" + c.q)
			e.wantStatus(r, 200, c.q)
			if r.body["total"] != c.want {
				t.Errorf("%s: total %v, want %v", c.q, r.body["total"], c.want)
			}
		}
	})
}
