package routing_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade/admin"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestUnmirrorableRows: rows of writes accepted on fhir that legacy cannot
// hold are a state of their own (both control stores accept it), are never
// drained, are counted per type by Statuses and GET /admin/routes, and
// block the move back to shadow with a reason naming them (forceable).
func TestUnmirrorableRows(t *testing.T) {
	stores(t, func(t *testing.T, ctl *control.Store) {
		ctx := context.Background()
		s := routing.NewStore(ctl.DB)
		if err := s.Ensure(ctx, []string{"Patient", "Encounter", "Observation"}); err != nil {
			t.Fatal(err)
		}
		for _, to := range []routing.State{routing.Shadow, routing.FHIR} {
			if _, err := s.Set(ctx, routing.Move{Type: "Patient", To: to, Actor: "t", Reason: "test", Force: true}); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []struct{ typ, id, state string }{
			{"Patient", "f-1", "unmirrorable"}, {"Patient", "f-2", "unmirrorable"}, {"Patient", "f-3", "failed"},
			{"Encounter", "e-1", "unmirrorable"}, {"Patient", "f-4", "done"},
		} {
			addOutbox(t, ctl, r.typ, r.id, r.state)
		}
		want := map[string]int{"Patient": 2, "Encounter": 1, "Observation": 0}
		st, err := s.Statuses(ctx)
		if err != nil || len(st) != 3 {
			t.Fatalf("statuses: %+v %v", st, err)
		}
		for _, r := range st {
			if r.Unmirrorable != want[r.Type] {
				t.Fatalf("%s: %d unmirrorable, want %d", r.Type, r.Unmirrorable, want[r.Type])
			}
		}
		rec := httptest.NewRecorder()
		admin.Routes(s).ServeHTTP(rec, httptest.NewRequest("GET", "/admin/routes", nil))
		var body struct {
			Routes []struct {
				Type         string `json:"type"`
				State        string `json:"state"`
				Unmirrorable *int   `json:"unmirrorable"`
			} `json:"routes"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 || len(body.Routes) != 3 {
			t.Fatalf("/admin/routes: %d %s", rec.Code, rec.Body)
		}
		for _, r := range body.Routes {
			if r.Unmirrorable == nil || *r.Unmirrorable != want[r.Type] || r.State == "" {
				t.Fatalf("/admin/routes: %s", rec.Body)
			}
		}
		// the drainer never tries them
		out := mirror.NewOutbox(ctl.DB, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if n, err := out.Drain(ctx, mirror.Ends{}); n != 0 || err != nil {
			t.Fatalf("drained %d: %v", n, err)
		}
		var attempts int
		if err := ctl.DB.QueryRowContext(ctx, "SELECT COALESCE(SUM(attempts), 0) FROM outbox WHERE state = 'unmirrorable'").Scan(&attempts); err != nil || attempts != 0 {
			t.Fatalf("unmirrorable rows were tried: %d %v", attempts, err)
		}
		back := routing.Move{Type: "Patient", To: routing.Shadow, Actor: "t", Reason: "roll back"}
		_, err = s.Set(ctx, back)
		for _, w := range []string{"1 writes made on FHIR could not be mirrored", "2 writes made on FHIR with Prefer: handling=lenient are unmirrorable", "--force"} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("move back: %v, want %q", err, w)
			}
		}
		back.Force = true
		p, err := s.Set(ctx, back)
		if err != nil || !p.Applied || !p.Forced || !strings.Contains(strings.Join(p.Steps, "\n"), "guard overridden: 1 writes") {
			t.Fatalf("forced move back: %+v %v", p, err)
		}
	})
}

func addOutbox(t *testing.T, ctl *control.Store, typ, id, state string) {
	t.Helper()
	d := ctl.DB.Dialect
	q := "INSERT INTO outbox (target, resource_type, resource_id, created_at, state, last_error) VALUES ('legacy', " +
		d.Placeholder(1) + ", " + d.Placeholder(2) + ", " + d.Placeholder(3) + ", " + d.Placeholder(4) + ", 'x')"
	if _, err := ctl.DB.ExecContext(context.Background(), q, typ, id, sqldb.StampArg(d, time.Now()), state); err != nil {
		t.Fatalf("outbox row %s: %v", state, err)
	}
}
