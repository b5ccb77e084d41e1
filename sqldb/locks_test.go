package sqldb

import "testing"

// TestCoordination: which dialect fences with row and advisory locks and
// wakes listeners, and the SQL it gets for them.
func TestCoordination(t *testing.T) {
	cases := []struct {
		d                         Dialect
		rowLocks, notify          bool
		forShare, shared, exclude string
	}{
		{Postgres{}, true, true, " FOR SHARE", "SELECT pg_advisory_xact_lock_shared(727100, hashtext($1))", "SELECT pg_advisory_xact_lock(727100, hashtext($1))"},
		{SQLite{}, false, false, "", "", ""},
		{MySQL{}, false, false, "", "", ""},
	}
	for _, c := range cases {
		co := CoordinationOf(c.d)
		if co.RowLocks != c.rowLocks || co.Notify != c.notify {
			t.Errorf("%s: %+v", c.d.Name(), co)
		}
		if ForShare(c.d) != c.forShare || FenceLock(c.d, true) != c.shared || FenceLock(c.d, false) != c.exclude {
			t.Errorf("%s: %q %q %q", c.d.Name(), ForShare(c.d), FenceLock(c.d, true), FenceLock(c.d, false))
		}
	}
}
