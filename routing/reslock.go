package routing

import (
	"context"
	"fmt"
	"sync"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// lockResource serializes the writes of one resource while change events
// are on, from before the write until its event is committed: without it
// two writes a few milliseconds apart could queue their events in the
// other order (each queues after its own write, and commits on its own).
// With it, the second write's event row is inserted after the first's is
// committed, so it has the larger id and is sequenced later.
//
// PostgreSQL: an exclusive advisory lock in the fence's transaction
// (released when it commits, after the event row; every facade on the
// store sees it). SQLite, where no transaction spans the write: a lock in
// this process, released once the event is queued. Creates (no id yet)
// and writes inside Transact are not locked.
func (r *Router) lockResource(ctx context.Context, q Enqueuer, typ, id string) (func(), error) {
	if r.events == nil || id == "" {
		return func() {}, nil
	}
	key := typ + "/" + id
	if tq, ok := q.(txQueue); ok {
		if stmt := sqldb.ResourceLock(r.out.DB().Dialect); stmt != "" {
			if _, err := tq.tx.ExecContext(ctx, stmt, key); err != nil {
				return nil, fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
			}
			return func() {}, nil
		}
	}
	return r.resLocks.lock(ctx, key)
}

// keyLocks are mutexes by key, made when first wanted and dropped when no
// one holds or waits for them.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	c     chan struct{} // holds a token while locked
	users int
}

// lock waits for key's lock (or for ctx to end) and returns its release.
func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{c: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	done := func() {
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.c <- struct{}{}:
		return func() { <-l.c; done() }, nil
	case <-ctx.Done():
		done()
		return nil, fmt.Errorf("%w: waiting for another write of %s: %v", backend.ErrUnavailable, key, ctx.Err())
	}
}
