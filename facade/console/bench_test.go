package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade/admin"
	"github.com/fhirfacade/fhirfacade/facade/console"
	"github.com/fhirfacade/fhirfacade/routing"
)

// BenchmarkOverview: one refresh of the overview's table (what every open
// overview asks for every 2 s: routes, newest journal rows, outbox counts,
// last sync and newest parity report per type, rendered) against the
// baseline GET /admin/routes JSON, on the same SQLite control store with
// the demo's 11 types and 200 journal rows.
func BenchmarkOverview(b *testing.B) {
	ctx := context.Background()
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "control.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ctl.Close()
	routes := routing.NewStore(ctl.DB)
	types := []string{"AllergyIntolerance", "Condition", "Encounter", "Immunization", "Location", "MedicationRequest", "Observation", "Organization", "Patient", "Practitioner", "Procedure"}
	if err := routes.Ensure(ctx, types); err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		to := []routing.State{routing.Shadow, routing.Legacy}[(i/len(types))%2]
		if _, err := routes.Set(ctx, routing.Move{Type: types[i%len(types)], To: to, Actor: "bench", Reason: fmt.Sprint("move ", i)}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := console.New(console.Config{Routes: routes, Ctl: ctl, Types: types})
	if err != nil {
		b.Fatal(err)
	}
	first := httptest.NewRecorder()
	req := httptest.NewRequest("GET", console.Base+"/rows", nil)
	req.RemoteAddr = "127.0.0.1:1"
	c.ServeHTTP(first, req)
	cookie := first.Result().Cookies()[0]
	for _, h := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"admin-routes-json", admin.Routes(routes), "/admin/routes"},
		{"console-rows", c, console.Base + "/rows"},
		{"console-page", c, console.Base},
	} {
		b.Run(h.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", h.path, nil)
				req.RemoteAddr = "127.0.0.1:1"
				req.AddCookie(cookie)
				h.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", h.path, rec.Code)
				}
			}
		})
	}
}
