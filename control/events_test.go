package control_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestEventCursorOwner: only the publisher holding a sink's lease moves
// its cursor; a dead letter never moves it backwards.
func TestEventCursorOwner(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Now()
		if _, ok, err := s.ClaimEventCursor(ctx, "hook", "a", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := s.AdvanceEventCursor(ctx, "hook", "b", 5); !errors.Is(err, control.ErrEventLeaseLost) {
			t.Fatalf("advance by a publisher without the lease: %v", err)
		}
		if _, err := s.FailEventCursor(ctx, "hook", "b", "x"); !errors.Is(err, control.ErrEventLeaseLost) {
			t.Fatalf("fail by a publisher without the lease: %v", err)
		}
		if err := s.AdvanceEventCursor(ctx, "hook", "a", 5); err != nil {
			t.Fatalf("advance by the owner: %v", err)
		}
		if err := s.DeadLetterEvent(ctx, "hook", "a", 3, 8, "gone"); !errors.Is(err, control.ErrEventLeaseLost) {
			t.Fatalf("a dead letter behind the cursor: %v", err)
		}
		if dl, err := s.EventDeadLetters(ctx, "hook"); err != nil || len(dl) != 0 {
			t.Fatalf("dead letters %+v %v", dl, err)
		}
		if pos, ok, err := s.ClaimEventCursor(ctx, "hook", "a", now, now.Add(time.Minute)); err != nil || !ok || pos != 5 {
			t.Fatalf("cursor at %d (%v %v), want 5", pos, ok, err)
		}
	})
}
