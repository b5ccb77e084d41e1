package routing

import (
	"context"
	"fmt"
	"sync"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// lockLocal and lockShared serialize the writes of one resource while
// change events are on, from before the write until its event is
// committed: without them two writes a few milliseconds apart could queue
// their events in the other order (each queues after its own write, and
// commits on its own). With them, the second write's event row is
// inserted after the first's is committed, so it has the larger id and is
// sequenced later. Creates (no id yet) and writes inside Transact are not
// locked.
//
// lockLocal is a lock in this process, taken before the fence's
// transaction begins (waiting writes hold no control-store connection).
// lockShared is, on PostgreSQL, an exclusive advisory lock in the fence's
// transaction (released when it commits, after the event row), which
// every facade on the store sees; SQLite has none, so there the
// serialization is per process.
func (r *Router) lockLocal(ctx context.Context, typ, id string) (func(), error) {
	if r.events == nil || id == "" {
		return func() {}, nil
	}
	return r.resLocks.lock(ctx, typ+"/"+id)
}

// lockShared: see lockLocal.
func (r *Router) lockShared(ctx context.Context, q Enqueuer, typ, id string) error {
	if r.events == nil || id == "" {
		return nil
	}
	tq, ok := q.(txQueue)
	if !ok {
		return nil
	}
	stmt := sqldb.ResourceLock(r.out.DB().Dialect)
	if stmt == "" {
		return nil
	}
	if _, err := tq.tx.ExecContext(ctx, stmt, typ+"/"+id); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the client went away: 499, not 503
		}
		return fmt.Errorf("%w: control store: %s", backend.ErrUnavailable, sqldb.Describe(err))
	}
	return nil
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
		// the bare context error: a client that went away is a 499
		return nil, ctx.Err()
	}
}
