package control_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestConsoleReads: the console's reads and outbox actions on both
// dialects — reports newest first with bodies, the last sync run, outbox
// counts per type, retry and skip of failed rows only, and the console's
// journal filtered by type and action.
func TestConsoleReads(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
		for i, passed := range []bool{false, true} {
			if _, err := s.StoreParityReport(ctx, control.ParityReport{Type: "Patient", At: at.Add(time.Duration(i) * time.Minute), Passed: passed, Matching: int64(9 + i), Total: 10, Body: `{"schema":1}`}); err != nil {
				t.Fatal(err)
			}
		}
		reps, err := s.ParityReports(ctx, "Patient", 10)
		if err != nil || len(reps) != 2 || !reps[0].Passed || reps[0].Matching != 10 || reps[0].Body != `{"schema":1}` || !reps[0].At.Equal(at.Add(time.Minute)) {
			t.Fatalf("reports %+v %v", reps, err)
		}
		if r, found, err := s.ParityReportByID(ctx, reps[1].ID); err != nil || !found || r.Passed || r.Type != "Patient" {
			t.Fatalf("report by id %+v %v %v", r, found, err)
		}
		if _, found, err := s.ParityReportByID(ctx, 999999); err != nil || found {
			t.Fatalf("missing report: %v %v", found, err)
		}
		if _, found, err := s.LastSyncRun(ctx, "Patient"); err != nil || found {
			t.Fatalf("no sync yet: %v %v", found, err)
		}
		run, err := s.StartSyncRun(ctx, "Patient", "full", at)
		if err != nil {
			t.Fatal(err)
		}
		if r, found, err := s.LastSyncRun(ctx, "Patient"); err != nil || !found || !r.Finished.IsZero() || r.Mode != "full" {
			t.Fatalf("running sync %+v %v %v", r, found, err)
		}
		if err := s.FinishSyncRun(ctx, "Patient", run, control.SyncTotals{Written: 7, Failed: 1}, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if r, found, err := s.LastSyncRun(ctx, "Patient"); err != nil || !found || !r.Finished.Equal(at.Add(time.Minute)) || r.Written != 7 || r.Failed != 1 {
			t.Fatalf("finished sync %+v %v %v", r, found, err)
		}

		for _, id := range []string{"1", "2", "3"} {
			if err := s.EnqueueOutbox(ctx, s.DB, control.OutboxPending, "", "fhir", "Patient", id); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.OutboxNext(ctx, 10)
		if err != nil || len(rows) != 3 {
			t.Fatalf("outbox %v %v", rows, err)
		}
		for _, r := range rows[:2] {
			if err := s.FinishOutbox(ctx, r.ID, control.OutboxFailed, "HTTP 422"); err != nil {
				t.Fatal(err)
			}
		}
		if c, err := s.OutboxCountsByType(ctx); err != nil || c["Patient"] != (control.OutboxCounts{Pending: 1, Failed: 2}) {
			t.Fatalf("counts %+v %v", c, err)
		}
		if err := s.RequeueFailedOutbox(ctx, rows[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SkipFailedOutbox(ctx, rows[1].ID, "skipped by x"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{rows[0].ID, rows[1].ID, rows[2].ID} {
			if err := s.SkipFailedOutbox(ctx, id, "again"); !errors.Is(err, control.ErrNotFailed) {
				t.Errorf("skip of row %d that is not failed: %v", id, err)
			}
		}
		if c, err := s.OutboxCountsByType(ctx); err != nil || c["Patient"] != (control.OutboxCounts{Pending: 2}) {
			t.Fatalf("counts after retry and skip %+v %v", c, err)
		}

		for _, a := range []control.ConsoleAction{
			{At: at, Actor: "a", Action: "sync", Type: "Patient", OK: true, Detail: "3 written"},
			{At: at.Add(time.Second), Actor: "b", Action: "parity", Type: "Patient", OK: false, Detail: "FAIL"},
			{At: at.Add(2 * time.Second), Actor: "a", Action: "audit-verify", OK: true, Detail: "whole"},
		} {
			if err := s.RecordConsoleAction(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			typ, action string
			want        []string
		}{
			{"", "", []string{"audit-verify", "parity", "sync"}},
			{"Patient", "", []string{"parity", "sync"}},
			{"", "parity", []string{"parity"}},
			{"Encounter", "", nil},
		} {
			got, err := s.ConsoleActions(ctx, c.typ, c.action, 10)
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("%q/%q: %+v %v", c.typ, c.action, got, err)
			}
			for i := range got {
				if got[i].Action != c.want[i] {
					t.Errorf("%q/%q: %d is %s, want %s", c.typ, c.action, i, got[i].Action, c.want[i])
				}
			}
		}
		if err := s.EnsureRoute(ctx, "Patient", at); err != nil {
			t.Fatal(err)
		}
		for i, to := range []string{"shadow", "legacy"} {
			tx, _ := s.DB.BeginTx(ctx, nil)
			from := map[string]string{"shadow": "legacy", "legacy": "shadow"}[to]
			if moved, err := s.MoveRoute(ctx, tx, control.RouteMove{Type: "Patient", From: from, To: to, Version: i + 1, Actor: "x", Reason: "step " + to, At: at}); err != nil || !moved {
				t.Fatal(moved, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if last, err := s.LastRouteEvents(ctx); err != nil || len(last) != 1 || last["Patient"].Reason != "step legacy" || last["Patient"].Version != 3 {
			t.Fatalf("last route events %+v %v", last, err)
		}
		if got, _ := s.ConsoleActions(ctx, "", "parity", 1); got[0].OK || got[0].Actor != "b" || !got[0].At.Equal(at.Add(time.Second)) {
			t.Errorf("parity action %+v", got[0])
		}
	})
}

// TestConsoleRevoked: a revoked session is known on both dialects, a
// second revoke of it is no error, and a row past its expiry is swept by
// the next revoke.
func TestConsoleRevoked(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		for _, c := range []struct {
			sid     string
			expires time.Time
		}{
			{"old", time.Now().Add(-time.Minute)},
			{"a", time.Now().Add(time.Hour)},
			{"a", time.Now().Add(time.Hour)},
		} {
			if err := s.RevokeConsoleSession(ctx, c.sid, c.expires); err != nil {
				t.Fatalf("revoke %s: %v", c.sid, err)
			}
		}
		for sid, want := range map[string]bool{"a": true, "b": false, "old": false} {
			if got, err := s.ConsoleSessionRevoked(ctx, sid); err != nil || got != want {
				t.Errorf("revoked(%s) = %v, %v; want %v", sid, got, err, want)
			}
		}
	})
}

// TestNoReadPool: the control store runs no legacy reads, so on
// PostgreSQL it keeps no native read pool (nor a connection for one).
func TestNoReadPool(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		if st := open(t, dsn).DB.ReadPoolStat(); st != nil {
			t.Fatalf("the control store has a read pool: %d connections", st.TotalConns())
		}
	})
}
