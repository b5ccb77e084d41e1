package facade_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// TestEverythingReferenced: on a catalog of the FHIR server's types, the
// Practitioner and Organization a patient's Encounter and Observation
// reference come along once (mode include), and _type leaves them out.
func TestEverythingReferenced(t *testing.T) {
	ctx := context.Background()
	c, err := upstream.New(upstream.Config{BaseURL: testutil.StartFHIRServer(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.FromCapabilities(raw)
	if err != nil {
		t.Fatal(err)
	}
	fb := upstream.NewBackend(c)
	router := mapRouter{}
	for _, typ := range cat.Types() {
		router[typ] = fb
	}
	for _, r := range []string{
		`{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}`,
		`{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}`,
		`{"resourceType":"Practitioner","id":"d1","name":[{"family":"Doc"}]}`,
		`{"resourceType":"Organization","id":"o1","name":"Clinic"}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/d1"}}],"serviceProvider":{"reference":"Organization/o1"}}`,
		`{"resourceType":"Observation","id":"x1","status":"final","code":{"text":"t"},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/d1"}]}`,
		`{"resourceType":"Observation","id":"x2","status":"final","code":{"text":"t"},"subject":{"reference":"Patient/p2"}}`,
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(r), &m)
		if _, _, err := fb.Update(ctx, m["resourceType"].(string), m["id"].(string), m, ""); err != nil {
			t.Fatal(err)
		}
	}
	hs := testutil.Serve(t, func(base string) http.Handler {
		return facade.New(facade.Config{Catalog: cat, Router: router, Sealer: testutil.Sealer(t),
			Log: slog.New(slog.NewJSONHandler(&discard{}, nil)), BaseURL: base}).Handler()
	}, production(0))
	e := &env{t: t, srv: hs}
	for _, c := range []struct{ path, want string }{
		{"/fhir/Patient/p1/$everything?_count=2", "match Patient/p1|match Encounter/e1|include Practitioner/d1|include Organization/o1|match Observation/x1"},
		{"/fhir/Patient/p1/$everything?_type=Encounter,Observation", "match Encounter/e1|match Observation/x1"},
		{"/fhir/Patient/p2/$everything", "match Patient/p2|match Observation/x2"},
	} {
		got, _ := e.walk(c.path)
		if strings.Join(got, "|") != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.path, strings.Join(got, "|"), c.want)
		}
	}
}
