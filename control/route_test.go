package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestMoveRouteCAS: a move applies only from the version it read, writes
// its journal row with it, and a move from a stale version changes
// nothing; on both dialects.
func TestMoveRouteCAS(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		for range 2 { // ensuring twice keeps the one row
			if err := s.EnsureRoute(ctx, "Patient", at); err != nil {
				t.Fatal(err)
			}
		}
		move := func(m control.RouteMove) bool {
			t.Helper()
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			r, found, err := s.RouteForMove(ctx, tx, m.Type)
			if err != nil || !found || r.State != m.From {
				t.Fatalf("route for move: %+v %v %v", r, found, err)
			}
			moved, err := s.MoveRoute(ctx, tx, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			return moved
		}
		pr := int64(7)
		if !move(control.RouteMove{Type: "Patient", From: "legacy", To: "shadow", Version: 1, Actor: "a", Reason: "r", At: at.Add(time.Minute)}) {
			t.Fatal("the move from the current version missed")
		}
		if move(control.RouteMove{Type: "Patient", From: "shadow", To: "fhir", Version: 1, Actor: "b", Reason: "stale", At: at}) {
			t.Fatal("a move from a stale version applied")
		}
		if !move(control.RouteMove{Type: "Patient", From: "shadow", To: "fhir", Version: 2, Actor: "c", Reason: "r2", Forced: true, ParityReport: &pr, At: at.Add(2 * time.Minute)}) {
			t.Fatal("the second move missed")
		}

		routes, err := s.Routes(ctx)
		if err != nil || len(routes) != 1 || routes[0].State != "fhir" || routes[0].Version != 3 || routes[0].UpdatedBy != "c" || !routes[0].UpdatedAt.Equal(at.Add(2*time.Minute)) {
			t.Fatalf("routes %+v %v", routes, err)
		}
		if n, err := s.RouteSerial(ctx); err != nil || n != 3 {
			t.Fatalf("serial %d %v", n, err)
		}
		ev, err := s.RouteEvents(ctx, "Patient")
		if err != nil || len(ev) != 2 || ev[0].From != "legacy" || ev[0].Version != 2 || ev[0].ParityReport != nil || ev[0].Forced ||
			ev[1].To != "fhir" || ev[1].Version != 3 || !ev[1].Forced || ev[1].ParityReport == nil || *ev[1].ParityReport != 7 || ev[1].Actor != "c" {
			t.Fatalf("journal %+v %v", ev, err)
		}
		if entered, ok, err := s.ShadowEnteredAt(ctx, s.DB, "Patient"); err != nil || !ok || !entered.Equal(at.Add(time.Minute)) {
			t.Fatalf("shadow entered at %v %v %v", entered, ok, err)
		}
		if _, ok, err := s.ShadowEnteredAt(ctx, s.DB, "Observation"); err != nil || ok {
			t.Fatalf("Observation never entered shadow: %v %v", ok, err)
		}
		if st, found, err := s.RouteStateForWrite(ctx, s.DB, "Patient", false); err != nil || !found || st != "fhir" {
			t.Fatalf("state for write %q %v %v", st, found, err)
		}
		if _, found, err := s.RouteStateForWrite(ctx, s.DB, "Observation", false); err != nil || found {
			t.Fatalf("a type with no row: %v %v", found, err)
		}
	})
}
