package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

func open(t *testing.T, dsn string) *control.Store {
	t.Helper()
	s, err := control.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// links are n links after from (the hashes only need to differ: hashing
// is package audit's).
func links(from control.AuditPos, at time.Time, n int) []control.AuditLink {
	out := make([]control.AuditLink, n)
	prev := from.Hash
	for i := range out {
		seq := from.Seq + int64(i) + 1
		h := prev[:len(prev)-1] + string(rune('a'+seq%26))
		out[i] = control.AuditLink{Seq: seq, Recorded: at, Body: `{"time":"x"}`, PrevHash: prev, Hash: h}
		prev = h
	}
	return out
}

// TestAuditAppendCAS: an append moves the head only from where it says it
// starts; an append from a head that moved stores nothing and reports it,
// on both dialects.
func TestAuditAppendCAS(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		genesis, err := s.AuditHead(ctx)
		if err != nil || genesis.Seq != 0 || len(genesis.Hash) != 64 {
			t.Fatalf("genesis %+v %v", genesis, err)
		}
		at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		first := links(genesis, at, 3)
		if moved, err := s.AuditAppend(ctx, genesis, first); err != nil || !moved {
			t.Fatalf("first append: moved %v, %v", moved, err)
		}
		head, err := s.AuditHead(ctx)
		if want := (control.AuditPos{Seq: 3, Hash: first[2].Hash}); err != nil || head != want {
			t.Fatalf("head %+v %v, want %+v", head, err, want)
		}
		// a second appender that still believes in the genesis head misses
		if moved, err := s.AuditAppend(ctx, genesis, links(genesis, at, 2)); err != nil || moved {
			t.Fatalf("stale append: moved %v, %v; want a miss", moved, err)
		}
		if n, err := s.AuditCount(ctx); err != nil || n != 3 {
			t.Fatalf("%d records after a miss (%v), want 3", n, err)
		}
		if after, _ := s.AuditHead(ctx); after != head {
			t.Fatalf("a miss moved the head to %+v", after)
		}
		if moved, err := s.AuditAppend(ctx, head, links(head, at.Add(time.Hour), 2)); err != nil || !moved {
			t.Fatalf("append on the new head: moved %v, %v", moved, err)
		}

		got, err := s.AuditLinks(ctx, 2, 2)
		if err != nil || len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 || got[1].Hash != first[2].Hash || got[1].PrevHash != first[1].Hash {
			t.Fatalf("links from 2: %+v %v", got, err)
		}
		// the recorded column keeps microseconds, truncated
		if !got[0].RecordedOK || !got[0].Recorded.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("recorded %v (%v), want %v", got[0].Recorded, got[0].RecordedOK, at.Truncate(time.Microsecond))
		}
		since, err := s.AuditSince(ctx, 1, at.Add(time.Minute), 10)
		if err != nil || len(since) != 2 || since[0].Seq != 4 || since[1].Seq != 5 {
			t.Fatalf("since: %+v %v", since, err)
		}
		if all, err := s.AuditSince(ctx, 1, at, 10); err != nil || len(all) != 4 || all[0].Seq != 2 {
			t.Fatalf("since, after 1: %+v %v", all, err)
		}
	})
}
