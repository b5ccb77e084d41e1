package routing

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestKeyLocksCancel: a write waiting behind another write of the same
// resource ends with the bare context error when its client goes away (the
// facade answers 499 to that, not 503); a different resource does not
// wait; the key is released for the next writer.
func TestKeyLocksCancel(t *testing.T) {
	var k keyLocks
	ctx := context.Background()
	unlock, err := k.lock(ctx, "Patient/1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := k.lock(ctx, "Patient/2")
	if err != nil {
		t.Fatalf("another resource waited: %v", err)
	}
	other()
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := k.lock(cctx, "Patient/1"); !errors.Is(err, context.DeadlineExceeded) || err != cctx.Err() {
		t.Fatalf("waiting past the client's deadline: %v, want the bare context error", err)
	}
	unlock()
	again, err := k.lock(ctx, "Patient/1")
	if err != nil {
		t.Fatal(err)
	}
	again()
	if len(k.m) != 0 {
		t.Fatalf("%d keys left after every holder and waiter ended", len(k.m))
	}
}
