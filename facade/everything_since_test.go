package facade

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/search"
)

// stampless is a unit's backend: one Patient and two Observations of
// it, and no update time to search on (as a legacy table without a stamp
// column): a _lastUpdated parameter would be a programming error here.
type stampless struct{}

func (stampless) Name() string { return "stampless" }
func (stampless) Read(_ context.Context, typ, id string) (*backend.Resource, error) {
	if typ == "Patient" && id == "1" {
		return patientOne, nil
	}
	return nil, fmt.Errorf("%s/%s: %w", typ, id, backend.ErrNotFound)
}
func (stampless) Search(_ context.Context, typ string, q *search.Query, _ backend.SearchOptions) (*backend.SearchResult, error) {
	for _, p := range q.Params {
		if p.Name == "_lastUpdated" {
			return nil, fmt.Errorf("%w: no update time", backend.ErrInvalid)
		}
	}
	if typ == "Patient" {
		return &backend.SearchResult{Resources: []*backend.Resource{patientOne}}, nil
	}
	var out []*backend.Resource
	for _, id := range []string{"a", "b"} {
		out = append(out, &backend.Resource{Type: "Observation", ID: id, VersionID: "1",
			JSON: []byte(`{"resourceType":"Observation","id":"` + id + `","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/1"}}`)})
	}
	return &backend.SearchResult{Resources: out}, nil
}
func (stampless) Create(context.Context, string, map[string]any, *search.Query) (*backend.Resource, bool, error) {
	return nil, false, backend.ErrNotSupported
}
func (stampless) Update(context.Context, string, string, map[string]any, string) (*backend.Resource, bool, error) {
	return nil, false, backend.ErrNotSupported
}
func (stampless) Delete(context.Context, string, string, string) error {
	return backend.ErrNotSupported
}
func (stampless) Ping(context.Context) error { return nil }

// listedTypes is a unit's Catalog that lists its types.
type listedTypes map[string]TypeInfo

func (c listedTypes) Types() []string { return []string{"Observation", "Patient"} }
func (c listedTypes) Type(n string) (TypeInfo, bool) {
	t, ok := c[n]
	return t, ok
}

var patientOne = &backend.Resource{Type: "Patient", ID: "1", VersionID: "1", LastUpdated: time.Unix(0, 0),
	JSON: []byte(`{"resourceType":"Patient","id":"1"}`)}

// TestEverythingSinceWithoutStamp: _since on a type whose catalog has no
// _lastUpdated includes all of its resources with a warning entry
// once; with Prefer:
// handling=strict it is a 400 naming the type.
func TestEverythingSinceWithoutStamp(t *testing.T) {
	sealer, err := pagetoken.New(make([]byte, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ref := ParamInfo{Type: "reference", Target: "Patient", Path: "subject"}
	cat := listedTypes{
		"Patient":     {Params: map[string]ParamInfo{"_id": {Type: "token"}}},
		"Observation": {Params: map[string]ParamInfo{"_id": {Type: "token"}, "subject": ref}, Compartment: []string{"subject"}},
	}
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String() + "/fhir"
	hs.Config.Handler = New(Config{Catalog: cat, Router: StaticRouter{Backend: stampless{}, Types: map[string]bool{"Patient": true, "Observation": true}},
		Sealer: sealer, BaseURL: base, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	hs.Start()
	defer hs.Close()
	get := func(hdr string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/Patient/1/$everything?_type=Observation&_since=2020-01-01T00:00:00Z", nil)
		if hdr != "" {
			req.Header.Set("Prefer", hdr)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	status, body := get("")
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType, ID string
			}
			Search struct{ Mode string }
		}
	}
	_ = json.Unmarshal([]byte(body), &b)
	var got []string
	for _, e := range b.Entry {
		got = append(got, e.Search.Mode+" "+e.Resource.ResourceType+"/"+e.Resource.ID)
	}
	if status != 200 || strings.Join(got, ",") != "match Observation/a,match Observation/b,outcome OperationOutcome/" ||
		!strings.Contains(body, "_since cannot be applied to Observation") {
		t.Fatalf("lenient: %d %v\n%s", status, got, body)
	}
	if status, body := get("handling=strict"); status != 400 || !strings.Contains(body, "Observation") {
		t.Fatalf("strict: %d %s", status, body)
	}
}
