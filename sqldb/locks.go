package sqldb

import "fmt"

// How each dialect coordinates the control store's concurrent users. The
// control store runs on PostgreSQL or SQLite; SQL Server and MySQL/MariaDB
// are listed with no coordination because they are never a control store
// (control.Open refuses them: ControlStore).

// Coordination is what a dialect offers for coordinating processes that
// share a database.
type Coordination struct {
	// RowLocks: SELECT … FOR SHARE / FOR UPDATE lock single rows, so a
	// transaction can fence one type's writes. Without them (SQLite: a
	// writer locks the whole database) the fence lives outside the
	// database (a file lock).
	RowLocks bool
	// Notify: a committed transaction can wake listeners (LISTEN/NOTIFY);
	// without it watchers poll.
	Notify bool
	// SessionLocks: advisory locks held by one connection until it
	// unlocks them or ends (pg_try_advisory_lock), so processes can take
	// turns over a connection each.
	SessionLocks bool
	// FileLocks: the database is a file on this machine, so processes
	// sharing it can take turns over lock files beside it (flock).
	FileLocks bool
	// ControlStore: the dialect can hold the control store.
	ControlStore bool
}

// CoordinationOf is d's Coordination.
func CoordinationOf(d Dialect) Coordination {
	return coordination[d.Name()]
}

var coordination = map[string]Coordination{
	"postgres":  {RowLocks: true, Notify: true, SessionLocks: true, ControlStore: true},
	"sqlite":    {FileLocks: true, ControlStore: true},
	"sqlserver": {},
	"mysql":     {},
}

// ForShare is the clause that locks the selected rows against change by
// others until the transaction ends ("" without row locks).
func ForShare(d Dialect) string {
	if CoordinationOf(d).RowLocks {
		return " FOR SHARE"
	}
	return ""
}

// ForUpdate is the clause that locks the selected rows exclusively until
// the transaction ends ("" without row locks).
func ForUpdate(d Dialect) string {
	if CoordinationOf(d).RowLocks {
		return " FOR UPDATE"
	}
	return ""
}

// ResourceLock is a statement that takes an exclusive transaction-scoped
// lock named by its one bound text argument (a resource, "Type/id"), in
// a lock class of its own ("" where the dialect has none).
func ResourceLock(d Dialect) string {
	if !CoordinationOf(d).RowLocks {
		return ""
	}
	return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext(%s))", resourceLockClass, d.Placeholder(1))
}

// resourceLockClass keeps the per-resource locks apart from the fence's.
const resourceLockClass = 727101

// fenceLockClass keeps the fence's advisory locks apart from any others
// (the copy lock uses single-key advisory locks).
const fenceLockClass = 727100

// FenceLock is a statement that takes a transaction-scoped lock named by
// its one bound text argument, shared or exclusive ("" where the dialect
// has none). Unlike row locks (FOR SHARE), PostgreSQL queues these fairly:
// a waiting exclusive request holds back new shared ones, so overlapping
// shared holders cannot starve it.
func FenceLock(d Dialect, shared bool) string {
	if !CoordinationOf(d).RowLocks {
		return ""
	}
	fn := "pg_advisory_xact_lock"
	if shared {
		fn += "_shared"
	}
	return fmt.Sprintf("SELECT %s(%d, hashtext(%s))", fn, fenceLockClass, d.Placeholder(1))
}
