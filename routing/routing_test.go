package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

func stores(t *testing.T, fn func(t *testing.T, ctl *control.Store)) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctl, err := control.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctl.Close() })
		fn(t, ctl)
	})
}

func TestMoves(t *testing.T) {
	stores(t, func(t *testing.T, ctl *control.Store) {
		ctx := context.Background()
		s := routing.NewStore(ctl.DB)
		if err := s.Ensure(ctx, []string{"Patient", "Encounter"}); err != nil {
			t.Fatal(err)
		}
		set := func(typ, to string, mods ...func(*routing.Move)) (*routing.Plan, error) {
			m := routing.Move{Type: typ, To: routing.State(to), Actor: "tester", Reason: "test"}
			for _, f := range mods {
				f(&m)
			}
			return s.Set(ctx, m)
		}
		refused := []struct {
			typ, to, want string
			mods          []func(*routing.Move)
		}{
			{"Patient", "fhir", "one step at a time", nil},
			{"Patient", "legacy", "already on legacy", nil},
			{"Patient", "sideways", "unknown", nil},
			{"Medication", "shadow", "no route", nil},
			{"Patient", "shadow", "reason is required", []func(*routing.Move){func(m *routing.Move) { m.Reason = " " }}},
			{"Patient", "shadow", "not 7", []func(*routing.Move){func(m *routing.Move) { m.Version = 7 }}},
		}
		for _, c := range refused {
			if _, err := set(c.typ, c.to, c.mods...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s -> %s: got %v, want %q", c.typ, c.to, err, c.want)
			}
		}
		if h, _ := s.History(ctx, ""); len(h) != 0 {
			t.Fatalf("refused moves were journaled: %v", h)
		}
		if p, err := set("Patient", "shadow"); err != nil || !p.Applied || p.Version != 2 {
			t.Fatalf("legacy -> shadow: %+v %v", p, err)
		}
		// the parity guard: no report, then a failing one, then a passing one
		if _, err := set("Patient", "fhir"); !errors.Is(err, routing.ErrRefused) || !strings.Contains(err.Error(), "no parity report") {
			t.Fatalf("no report: %v", err)
		}
		p, err := set("Patient", "fhir", func(m *routing.Move) { m.DryRun = true })
		if err != nil || p.Applied || p.Refused == "" {
			t.Fatalf("dry run should report the refusal: %+v %v", p, err)
		}
		addReport(t, ctl, "Patient", false, 99, 100)
		if _, err := set("Patient", "fhir"); err == nil || !strings.Contains(err.Error(), "does not pass") {
			t.Fatalf("failing report: %v", err)
		}
		addReport(t, ctl, "Patient", true, 100, 100)
		addSync(t, ctl, "Patient", time.Now().Add(time.Minute))
		if _, err := set("Patient", "fhir"); err == nil || !strings.Contains(err.Error(), "older than the last sync") {
			t.Fatalf("report older than sync: %v", err)
		}
		p, err = set("Patient", "fhir", func(m *routing.Move) { m.Force = true; m.Reason = "sync clock skew, checked by hand" })
		if err != nil || !p.Forced || p.ParityReport == nil {
			t.Fatalf("forced: %+v %v", p, err)
		}
		if _, err := set("Patient", "fhir-only"); err == nil || !strings.Contains(err.Error(), "--confirm") {
			t.Fatalf("fhir-only without confirm: %v", err)
		}
		if _, err := set("Patient", "fhir-only", func(m *routing.Move) { m.Confirm = true }); err != nil {
			t.Fatal(err)
		}
		if _, err := set("Patient", "fhir"); err == nil || !strings.Contains(err.Error(), "final") {
			t.Fatalf("back from fhir-only: %v", err)
		}
		h, err := s.History(ctx, "Patient")
		if err != nil || len(h) != 3 || !h[1].Forced || h[1].Reason != "sync clock skew, checked by hand" || h[2].To != routing.FHIROnly {
			t.Fatalf("journal: %+v %v", h, err)
		}
		// the journal is append-only
		if _, err := ctl.DB.ExecContext(ctx, "DELETE FROM route_event"); err == nil {
			t.Fatal("journal rows could be deleted")
		}
		if _, err := ctl.DB.ExecContext(ctx, "UPDATE route_event SET reason = 'x'"); err == nil {
			t.Fatal("journal rows could be edited")
		}
	})
}

func addReport(t *testing.T, ctl *control.Store, typ string, passed bool, matching, total int) {
	d := ctl.DB.Dialect
	at, pass := sqldb.StampArg(d, time.Now()), sqldb.BoolArg(d, passed)
	q := "INSERT INTO parity_report (resource_type, created_at, passed, matching, total, report) VALUES (" +
		d.Placeholder(1) + ", " + d.Placeholder(2) + ", " + d.Placeholder(3) + ", " + d.Placeholder(4) + ", " + d.Placeholder(5) + ", '{}')"
	if _, err := ctl.DB.ExecContext(context.Background(), q, typ, at, pass, matching, total); err != nil {
		t.Fatal(err)
	}
}

func addSync(t *testing.T, ctl *control.Store, typ string, at time.Time) {
	d := ctl.DB.Dialect
	v := sqldb.StampArg(d, at)
	q := "INSERT INTO sync_run (resource_type, started_at, finished_at) VALUES (" + d.Placeholder(1) + ", " + d.Placeholder(2) + ", " + d.Placeholder(3) + ")"
	if _, err := ctl.DB.ExecContext(context.Background(), q, typ, v, v); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherSeesChange: a second process's watcher (another Store on the
// same database) swaps to the new table within its interval.
func TestWatcherSeesChange(t *testing.T) {
	stores(t, func(t *testing.T, ctl *control.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := routing.NewStore(ctl.DB)
		_ = s.Ensure(ctx, []string{"Patient"})
		changed := make(chan struct{}, 1)
		w, err := routing.NewWatcher(ctx, routing.NewStore(ctl.DB), 50*time.Millisecond, func(_, _ *routing.Table) { changed <- struct{}{} })
		if err != nil {
			t.Fatal(err)
		}
		go w.Run(ctx)
		before := w.Current()
		start := time.Now()
		if _, err := s.Set(ctx, routing.Move{Type: "Patient", To: routing.Shadow, Reason: "go", Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
			t.Fatal("watcher did not see the flip within 1 s")
		}
		if w.Current().State("Patient") != routing.Shadow || before.State("Patient") != routing.Legacy {
			t.Fatalf("snapshots: before %s, now %s", before.State("Patient"), w.Current().State("Patient"))
		}
		t.Logf("flip seen after %v", time.Since(start))
	})
}

// TestWatcherListens: on PostgreSQL a flip reaches a watcher whose poll
// interval is an hour, through LISTEN/NOTIFY.
func TestWatcherListens(t *testing.T) {
	ctl, err := control.Open(context.Background(), testutil.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := routing.NewStore(ctl.DB)
	_ = s.Ensure(ctx, []string{"Patient"})
	changed := make(chan struct{}, 4)
	w, err := routing.NewWatcher(ctx, routing.NewStore(ctl.DB), time.Hour, func(_, _ *routing.Table) { changed <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	time.Sleep(200 * time.Millisecond) // the LISTEN is in place
	for _, to := range []routing.State{routing.Shadow, routing.Legacy} {
		start := time.Now()
		if _, err := s.Set(ctx, routing.Move{Type: "Patient", To: to, Reason: "notify", Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changed:
			t.Logf("flip to %s seen after %v", to, time.Since(start))
		case <-time.After(2 * time.Second):
			t.Fatalf("no notification for the flip to %s", to)
		}
		if w.Current().State("Patient") != to {
			t.Fatalf("state %s", w.Current().State("Patient"))
		}
	}
}
