package routing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// TestServeUpstreamOnly: a type with no mapping spec that the FHIR server
// offers is served by the FHIR server, reads and writes, with no route row;
// a mapped type keeps its route even if listed; others are not served.
func TestServeUpstreamOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, 3)
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	store := routing.NewStore(ctl.DB)
	if err := store.Ensure(ctx, reg.Types()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Set(ctx, routing.Move{Type: "Patient", To: routing.Shadow, Actor: "test", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	w, err := routing.NewWatcher(ctx, store, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := upstream.New(upstream.Config{BaseURL: testutil.StartFHIRServer(t).URL()})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{"Patient": true, "Encounter": true, "Observation": true}
	out := mirror.NewOutbox(ctl.DB, slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	leg := legacy.New(db, reg)
	r := routing.NewRouter(w, types, leg, upstream.NewBackend(c), out, nil)
	noFHIR := routing.NewRouter(w, types, leg, nil, out, nil)
	r.ServeUpstreamOnly([]string{"Organization", "Patient"})
	noFHIR.ServeUpstreamOnly([]string{"Organization"})

	org := map[string]any{"resourceType": "Organization", "name": "Acme"}
	cases := []struct {
		name, typ string
		r         *routing.Router
		want      string // backend name, "" not served
		create    error  // what a create answers (nil: created)
	}{
		{"upstream-only type", "Organization", r, "fhir", nil},
		{"mapped type listed too: its route (shadow) wins", "Patient", r, "legacy", nil},
		{"neither mapped nor listed", "Medication", r, "", nil},
		{"upstream-only type, no FHIR server configured", "Organization", noFHIR, "fhir", backend.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := tc.r.Snapshot().BackendFor(tc.typ)
			if tc.want == "" {
				if be != nil {
					t.Fatalf("served by %s", be.Name())
				}
				return
			}
			if be == nil || be.Name() != tc.want {
				t.Fatalf("backend %v, want %s", be, tc.want)
			}
			if tc.typ != "Organization" {
				return
			}
			res, created, err := be.Create(ctx, tc.typ, org, nil)
			if !errors.Is(err, tc.create) || (tc.create == nil && (!created || res.ID == "")) {
				t.Fatalf("create: %v %v %v", res, created, err)
			}
			if tc.create == nil {
				if got, err := be.Read(ctx, tc.typ, res.ID); err != nil || got.ID != res.ID {
					t.Fatalf("read back: %v %v", got, err)
				}
			}
		})
	}
	r.ServeUpstreamOnly(nil)
	if be := r.Snapshot().BackendFor("Organization"); be != nil {
		t.Errorf("Organization still served after the list was emptied")
	}
}
