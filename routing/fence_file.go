package routing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/fhirfacade/fhirfacade/backend"
)

// fileFence is the write fence of a SQLite control store, kept outside the
// database: a reader-writer lock on "<control.db>.fence" (flock), held
// shared by every fenced write and exclusively by a route move, across
// every process that opens the store (`serve`, `route set`). Holding
// SQLite's own write lock for the whole of a write instead — which the
// fence did at first — stalled the facade: the write goes on to the legacy
// database, the id map and the audit trail, which need that same lock from
// other connections, and everything waited for the busy timeout.
//
// flock has no queue: a move waiting for the exclusive lock would starve
// while writes keep overlapping. So a move first takes a gate
// ("<control.db>.fence.gate") exclusively; every write waits at the gate
// before it joins, and the move then only waits for the writes already in
// flight. The kernel frees both locks when their holder dies, so a killed
// `route set` leaves nothing behind.
type fileFence struct {
	gatePath, fencePath string

	// local keeps a move and this process's writes apart without flock
	// calls (a pending move also stops new local writes: RWMutex).
	local sync.RWMutex

	mu     sync.Mutex // guards n and shared
	n      int        // this process's writes in flight
	shared *flock.Flock
	gate   *flock.Flock
}

// fenceRetry is how often a contended flock is tried again.
const fenceRetry = 2 * time.Millisecond

var (
	fencesMu sync.Mutex
	fences   = map[string]*fileFence{}
)

// fenceFor is the process's one fence of the SQLite database at path:
// the outbox (writes) and the store (moves) of one process must share it.
func fenceFor(path string) *fileFence {
	fencesMu.Lock()
	defer fencesMu.Unlock()
	if f, ok := fences[path]; ok {
		return f
	}
	f := &fileFence{gatePath: path + ".fence.gate", fencePath: path + ".fence"}
	f.shared, f.gate = flock.New(f.fencePath), flock.New(f.gatePath)
	fences[path] = f
	return f
}

// enter admits a write; the returned func ends it.
func (f *fileFence) enter(ctx context.Context) (func(), error) {
	f.local.RLock()
	// wait while a move (of any process) holds the gate
	if err := f.passGate(ctx); err != nil {
		f.local.RUnlock()
		return nil, err
	}
	f.mu.Lock()
	if f.n == 0 {
		ok, err := f.shared.TryRLockContext(ctx, fenceRetry)
		if err != nil || !ok {
			f.mu.Unlock()
			f.local.RUnlock()
			return nil, fenceErr(err)
		}
	}
	f.n++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.n--
		if f.n == 0 {
			_ = f.shared.Unlock()
		}
		f.mu.Unlock()
		f.local.RUnlock()
	}, nil
}

// passGate waits until no move holds the gate. Taking the gate shared and
// releasing it at once is enough: a write that got past it before a move
// closed it is one the move waits for on the fence.
func (f *fileFence) passGate(ctx context.Context) error {
	g := flock.New(f.gatePath)
	ok, err := g.TryRLockContext(ctx, fenceRetry)
	if err != nil || !ok {
		return fenceErr(err)
	}
	return g.Close()
}

// exclusive stops new writes, waits for those in flight and returns the
// func that lets writes go on.
func (f *fileFence) exclusive(ctx context.Context) (func(), error) {
	f.local.Lock()
	gate := flock.New(f.gatePath)
	if ok, err := gate.TryLockContext(ctx, fenceRetry); err != nil || !ok {
		f.local.Unlock()
		return nil, fenceErr(err)
	}
	fence := flock.New(f.fencePath)
	if ok, err := fence.TryLockContext(ctx, fenceRetry); err != nil || !ok {
		_ = gate.Close()
		f.local.Unlock()
		return nil, fenceErr(err)
	}
	return func() {
		_ = fence.Close()
		_ = gate.Close()
		f.local.Unlock()
	}, nil
}

func fenceErr(err error) error {
	if err == nil {
		err = context.DeadlineExceeded
	}
	return fmt.Errorf("%w: write fence: %v", backend.ErrUnavailable, err)
}
