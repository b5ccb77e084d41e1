package poll_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/events/poll"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
)

// TestLegacyPoller: changes made by SQL in the legacy tables — an update,
// an insert, a delete, and two rows sharing one last-updated time — each
// become exactly one event; polling again (the boundary re-scanned)
// adds nothing; a type leaving legacy loses its watermark.
func TestLegacyPoller(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testutil.SQLite(t)
		reg := testutil.Seed(t, db, 6)
		ctl, err := control.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer ctl.Close()
		polled := true
		p := &poll.Legacy{Backend: legacy.New(db, reg), Ctl: ctl, Queue: events.NewQueue(ctl), Types: []string{"Patient", "Observation"},
			Overlap: time.Second, FullScanEvery: 1, Polled: func(string) bool { return polled }}
		if err := p.Poll(ctx); err != nil { // the baseline: no events
			t.Fatal(err)
		}
		if got := stream(t, ctl); got != "" {
			t.Fatalf("the baseline emitted %s", got)
		}
		ny, _ := time.LoadLocation("America/New_York")
		now := db.Dialect.TimeArg(time.Now().In(ny).Truncate(time.Millisecond))
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE pat_master SET last_nm = 'Bysql', upd_ts = ? WHERE pat_id IN (2, 4)", now) // one timestamp, two rows
		var obs int
		if err := db.QueryRowContext(ctx, "SELECT MIN(result_id) FROM lab_result").Scan(&obs); err != nil {
			t.Fatal(err)
		}
		exec("DELETE FROM lab_result WHERE result_id = ?", obs)
		for range 3 {
			if err := p.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{fmt.Sprintf("Observation/%d deleted", obs), "Patient/2 updated", "Patient/4 updated"}
		if got := stream(t, ctl); got != strings.Join(want, ", ") {
			t.Errorf("events %q, want %q", got, strings.Join(want, ", "))
		}
		// the type leaves legacy: its watermark goes, and coming back
		// starts from a fresh baseline (no events for what it holds)
		polled = false
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := ctl.PollWatermark(ctx, "Patient"); found {
			t.Error("watermark kept for a type that is not polled")
		}
		polled = true
		exec("UPDATE pat_master SET last_nm = 'Whileaway', upd_ts = ? WHERE pat_id = 5", now)
		for range 2 {
			if err := p.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := stream(t, ctl); got != strings.Join(want, ", ") {
			t.Errorf("after the return: %q", got)
		}
	})
}

// stream is the queued events as "Type/id kind", sorted.
func stream(t *testing.T, ctl *control.Store) string {
	t.Helper()
	pub := events.NewPublisher(ctl, events.NewQueue(ctl), nil, events.Options{}, nil, nil)
	if _, err := pub.Sequence(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := events.After(context.Background(), ctl, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Change.Type+"/"+e.Change.ID+" "+string(e.Change.Kind))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// TestLegacyPollerSettle: a change younger than Settle is left for a later
// poll (the facade queues its own writes' events in that time); once it is
// older, it is reported once.
func TestLegacyPollerSettle(t *testing.T) {
	ctx := context.Background()
	db := testutil.SQLite(t)
	reg := testutil.Seed(t, db, 3)
	ctl, err := control.Open(ctx, "sqlite://"+t.TempDir()+"/control.db")
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	settle := 1500 * time.Millisecond
	p := &poll.Legacy{Backend: legacy.New(db, reg), Ctl: ctl, Queue: events.NewQueue(ctl), Types: []string{"Patient"},
		Overlap: time.Second, Settle: settle, FullScanEvery: 1, Polled: func(string) bool { return true }}
	if err := p.Poll(ctx); err != nil { // the baseline
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	changed := time.Now()
	if _, err := db.ExecContext(ctx, "UPDATE pat_master SET last_nm = 'Young', upd_ts = ? WHERE pat_id = 2",
		db.Dialect.TimeArg(changed.In(ny).Truncate(time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stream(t, ctl); got != "" && time.Since(changed) < settle {
		t.Fatalf("a change younger than Settle was reported: %s", got)
	}
	time.Sleep(time.Until(changed.Add(settle + 100*time.Millisecond)))
	for range 2 {
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := stream(t, ctl); got != "Patient/2 updated" {
		t.Fatalf("after Settle: events %q, want Patient/2 updated", got)
	}
}
