package runs_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/runs"
)

// TestMoveAudited: a dry run leaves no audit record; a move and a refused
// move each leave one naming the actor, the refusal marked as a failure.
func TestMoveAudited(t *testing.T) {
	ctx := context.Background()
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	routes := routing.NewStore(ctl.DB)
	if err := routes.Ensure(ctx, []string{"Patient"}); err != nil {
		t.Fatal(err)
	}
	a := runs.Actor{User: "eng-1", ClientID: "console", Source: "console"}
	for _, c := range []struct {
		m       routing.Move
		refused bool
		records int // audit records after the step
	}{
		{routing.Move{Type: "Patient", To: routing.Shadow, Reason: "look", DryRun: true}, false, 0},
		{routing.Move{Type: "Patient", To: routing.Shadow, Reason: "go", Actor: "eng-1"}, false, 1},
		{routing.Move{Type: "Patient", To: routing.FHIR, Reason: "no parity yet", Actor: "eng-1"}, true, 2},
	} {
		_, err := runs.Move(ctx, routes, ctl, a, c.m)
		if got := errors.Is(err, routing.ErrRefused); got != c.refused {
			t.Fatalf("%+v: %v", c.m, err)
		}
		var recs []*audit.Record
		_ = (&audit.Store{DB: ctl.DB}).Each(ctx, time.Time{}, func(r *audit.Record) error { recs = append(recs, r); return nil })
		if len(recs) != c.records {
			t.Fatalf("%+v: %d audit records, want %d", c.m, len(recs), c.records)
		}
		if n := len(recs); n > 0 {
			last := recs[n-1]
			if last.User != "eng-1" || last.Source != "console" || last.Interaction != "route-set" || (last.Status >= 400) != c.refused {
				t.Errorf("%+v: audit record %+v", c.m, last)
			}
		}
	}
}
