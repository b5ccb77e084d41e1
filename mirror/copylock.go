package mirror

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/gofrs/flock"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The copy lock: one copier of mirrored state at a time across every
// process, so that two copies of the same resource cannot finish in the
// wrong order and leave an older state on the target (a sync wave that read
// a row before a facade write would otherwise race the drainer's copy of
// that write). Its holders are the outbox drainer of each facade and
// `fhirfacade sync`, one wave at a time.
//
// The lock is handed over fairly between the two sides. A waiting taker
// holds a marker of its side (shared, dropped once it has the lock). A
// drainer that holds the lock looks for a waiting sync between two rows
// and hands the lock over once its turn has lasted drainTurn; a taker lets
// a waiting taker of the other side go first. While both have work, sync
// waves and drainer turns alternate: a sync waits at most about drainTurn
// plus one row, and the drainer gets a turn after every wave.
//
// The markers only ask; they grant nothing. Every copy (a drainer's row:
// read, write, mark; a sync wave: read, write) still runs whole under the
// exclusive lock, so the order guarantee above is the lock's alone.
//
// PostgreSQL: session advisory locks on one connection per copier.
// SQLite: flock files beside the database (`control.db.copylock`, …),
// taken by `fhirfacade sync` and a running `serve` alike. The server or the
// kernel frees them when their holder dies: there is no row or lease that
// could stay behind. An in-memory database lives in one process and needs
// none.

// Copier says which of the two copiers takes the copy lock.
type Copier int

const (
	// DrainSide is a facade's outbox drainer.
	DrainSide Copier = iota
	// SyncSide is `fhirfacade sync`.
	SyncSide
)

const (
	// drainTurn is how long a drainer keeps the lock at least before it
	// looks for a waiting sync (and how often it looks after that).
	drainTurn = 200 * time.Millisecond
	// handOffLimit bounds how long a taker lets a waiting taker of the
	// other side go first: that one may itself wait behind a third taker,
	// and nobody may wait for ever on a marker.
	handOffLimit = time.Second
	// lockPoll is how often a waiting taker tries again.
	lockPoll = 5 * time.Millisecond
)

// lockName names the copy lock and its markers.
type lockName int

const (
	copyLock    lockName = iota // the lock itself, exclusive
	syncWaits                   // held shared by each sync waiting for the lock
	drainWaits                  // held shared by each drainer waiting for it
	drainerLock                 // one drainer at a time, exclusive, never waited for
)

// lockKeys are the PostgreSQL advisory keys, lockFiles the SQLite files'
// suffixes (the first of each is the copy lock's historic name).
var (
	lockKeys  = [...]int64{727001, 727002, 727003, 727004}
	lockFiles = [...]string{".copylock", ".copylock.sync-waits", ".copylock.drain-waits", ".copylock.drainer"}
)

func (s Copier) waits() lockName {
	if s == SyncSide {
		return syncWaits
	}
	return drainWaits
}

func (s Copier) other() Copier { return 1 - s }

// locks is where one copier takes the copy lock and its markers.
type locks interface {
	try(ctx context.Context, n lockName, shared bool) (bool, error)
	unlock(n lockName, shared bool) error
	// held reports whether another copier holds n (a probe that never
	// waits).
	held(ctx context.Context, n lockName) (bool, error)
	close()
}

// CopyTurns is one copier's access to the copy lock, turn by turn: Take,
// the work, Release (a drainer calls Yield between two rows). After an
// error (a cancelled Take included) it is spent: Close it.
type CopyTurns struct {
	side    Copier
	l       locks
	holding bool
	checked time.Time // the last look for a taker of the other side
	waited  time.Duration
}

// OpenCopyTurns prepares a copier of side over the control store (on
// PostgreSQL it keeps one connection until Close).
func OpenCopyTurns(ctx context.Context, db *sqldb.DB, side Copier) (*CopyTurns, error) {
	c := &CopyTurns{side: side, l: noLocks{}}
	switch co := sqldb.CoordinationOf(db.Dialect); {
	case co.SessionLocks:
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("copy lock: %s", sqldb.Describe(err))
		}
		c.l = &pgLocks{conn: conn}
	case co.FileLocks:
		if db.Path != "" && db.Path != ":memory:" {
			c.l = &fileLocks{base: db.Path}
		}
	}
	return c, nil
}

// Take waits for the copy lock and returns how long it waited. A taker of
// the other side that already waits goes first (for at most handOffLimit).
func (c *CopyTurns) Take(ctx context.Context) (time.Duration, error) {
	asked := time.Now()
	mine, announced := c.side.waits(), false
	announce := func() error {
		return poll(ctx, func() (got bool, err error) {
			got, err = c.l.try(ctx, mine, true)
			announced = got
			return got, err
		})
	}
	// A drainer says it waits before it lets a waiting sync go first, a
	// sync after it has let a waiting drainer go first. So a sync whose
	// wave is shorter than lockPoll cannot take the lock again before the
	// drainer has seen it free, and the two never wait for each other.
	if c.side == DrainSide {
		if err := announce(); err != nil {
			return time.Since(asked), err
		}
	}
	err := c.letOtherFirst(ctx, asked)
	if err == nil && c.side == SyncSide {
		err = announce()
	}
	if err == nil {
		err = poll(ctx, func() (got bool, err error) {
			got, err = c.l.try(ctx, copyLock, false)
			c.holding = got
			return got, err
		})
	}
	if announced {
		if uerr := c.l.unlock(mine, true); err == nil {
			err = uerr
		}
	}
	if err != nil {
		c.Release()
		return time.Since(asked), err
	}
	c.checked = time.Now()
	c.waited = time.Since(asked)
	return c.waited, nil
}

// letOtherFirst waits while a taker of the other side waits (its marker
// is dropped once it has the lock), for at most handOffLimit from asked.
func (c *CopyTurns) letOtherFirst(ctx context.Context, asked time.Time) error {
	for time.Since(asked) < handOffLimit {
		w, err := c.l.held(ctx, c.side.other().waits())
		if err != nil || !w {
			return err
		}
		if err := pause(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Waited is how long the last Take waited.
func (c *CopyTurns) Waited() time.Duration { return c.waited }

// Yield hands the copy lock over when a taker of the other side waits and
// this turn has lasted drainTurn, and returns once it holds the lock again
// (reporting whether it handed it over). Call it between two copies, never
// inside one: the lock keeps each copy whole.
func (c *CopyTurns) Yield(ctx context.Context) (bool, error) {
	if time.Since(c.checked) < drainTurn {
		return false, nil
	}
	c.checked = time.Now()
	w, err := c.l.held(ctx, c.side.other().waits())
	if err != nil || !w {
		return false, err
	}
	c.Release()
	_, err = c.Take(ctx)
	return true, err
}

// Release frees the copy lock; the copier may Take it again.
func (c *CopyTurns) Release() {
	if c.holding {
		c.holding = false
		_ = c.l.unlock(copyLock, false)
	}
}

// Close frees everything the copier holds.
func (c *CopyTurns) Close() {
	c.Release()
	c.l.close()
}

// sole takes the drainer lock without waiting (until Close): one drainer
// at a time drains, the others skip their round instead of queueing for
// the copy lock.
func (c *CopyTurns) sole(ctx context.Context) (bool, error) {
	return c.l.try(ctx, drainerLock, false)
}

func pause(ctx context.Context) error {
	t := time.NewTimer(lockPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("copy lock: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// poll calls try until it succeeds, fails or ctx ends.
func poll(ctx context.Context, try func() (bool, error)) error {
	for {
		got, err := try()
		if err != nil || got {
			return err
		}
		if err := pause(ctx); err != nil {
			return err
		}
	}
}

// pgLocks are session advisory locks on one connection.
type pgLocks struct {
	conn *sql.Conn
	bad  bool
}

// errLost: a query of the copier's session failed (a cancelled wait ends
// the session too); whatever it held is gone with it.
var errLost = errors.New("copy lock: the connection was lost; take a new copier")

func (p *pgLocks) try(ctx context.Context, n lockName, shared bool) (bool, error) {
	if p.bad {
		return false, errLost
	}
	q := "SELECT pg_try_advisory_lock($1)"
	if shared {
		q = "SELECT pg_try_advisory_lock_shared($1)"
	}
	var got bool
	if err := p.conn.QueryRowContext(ctx, q, lockKeys[n]).Scan(&got); err != nil {
		p.bad = true
		return false, fmt.Errorf("copy lock: %s", sqldb.Describe(err))
	}
	return got, nil
}

func (p *pgLocks) unlock(n lockName, shared bool) error {
	if p.bad {
		return errLost
	}
	q := "SELECT pg_advisory_unlock($1)"
	if shared {
		q = "SELECT pg_advisory_unlock_shared($1)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.conn.ExecContext(ctx, q, lockKeys[n]); err != nil {
		// a lock we could not drop must not outlive us: close() discards
		// the session, and the server frees all it held
		p.bad = true
		return fmt.Errorf("copy lock: %s", sqldb.Describe(err))
	}
	return nil
}

func (p *pgLocks) held(ctx context.Context, n lockName) (bool, error) {
	if p.bad {
		return false, errLost
	}
	// CASE keeps the order: unlock only what the probe took
	var w bool
	err := p.conn.QueryRowContext(ctx, "SELECT CASE WHEN pg_try_advisory_lock($1) THEN NOT pg_advisory_unlock($1) ELSE true END", lockKeys[n]).Scan(&w)
	if err != nil {
		p.bad = true
		return false, fmt.Errorf("copy lock: %s", sqldb.Describe(err))
	}
	return w, nil
}

func (p *pgLocks) close() {
	if !p.bad {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := p.conn.ExecContext(ctx, "SELECT pg_advisory_unlock_all()")
		cancel()
		p.bad = err != nil
	}
	if p.bad {
		// back to the pool it would keep whatever it still holds
		_ = p.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = p.conn.Close()
}

// fileLocks are flock files beside a SQLite database.
type fileLocks struct {
	base string
	fl   [len(lockFiles)]*flock.Flock
}

func (f *fileLocks) file(n lockName) *flock.Flock {
	if f.fl[n] == nil {
		f.fl[n] = flock.New(f.base + lockFiles[n])
	}
	return f.fl[n]
}

func (f *fileLocks) try(_ context.Context, n lockName, shared bool) (bool, error) {
	try := f.file(n).TryLock
	if shared {
		try = f.file(n).TryRLock
	}
	got, err := try()
	if err != nil {
		return false, fmt.Errorf("copy lock %s: %w", f.file(n).Path(), err)
	}
	return got, nil
}

func (f *fileLocks) unlock(n lockName, _ bool) error {
	return f.file(n).Unlock()
}

func (f *fileLocks) held(_ context.Context, n lockName) (bool, error) {
	probe := flock.New(f.base + lockFiles[n])
	got, err := probe.TryLock()
	if err != nil {
		return false, fmt.Errorf("copy lock %s: %w", probe.Path(), err)
	}
	if got {
		_ = probe.Unlock()
	}
	return !got, nil
}

func (f *fileLocks) close() {
	for _, fl := range f.fl {
		if fl != nil {
			_ = fl.Unlock()
			_ = fl.Close()
		}
	}
}

// noLocks is for a store no other process can reach.
type noLocks struct{}

func (noLocks) try(context.Context, lockName, bool) (bool, error) { return true, nil }
func (noLocks) unlock(lockName, bool) error                       { return nil }
func (noLocks) held(context.Context, lockName) (bool, error)      { return false, nil }
func (noLocks) close()                                            {}
