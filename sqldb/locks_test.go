package sqldb

import "testing"

// TestCoordination: which dialect fences with row and advisory locks,
// wakes listeners, takes turns over session or file locks and may hold
// the control store, and the SQL it gets for them.
func TestCoordination(t *testing.T) {
	cases := []struct {
		d                                   Dialect
		want                                Coordination
		forShare, shared, exclude, resource string
	}{
		{Postgres{}, Coordination{RowLocks: true, Notify: true, SessionLocks: true, ControlStore: true},
			" FOR SHARE", "SELECT pg_advisory_xact_lock_shared(727100, hashtext($1))", "SELECT pg_advisory_xact_lock(727100, hashtext($1))",
			"SELECT pg_advisory_xact_lock(727101, hashtext($1))"},
		{SQLite{}, Coordination{FileLocks: true, ControlStore: true}, "", "", "", ""},
		{SQLServer{}, Coordination{}, "", "", "", ""},
		{MySQL{}, Coordination{}, "", "", "", ""},
	}
	for _, c := range cases {
		if co := CoordinationOf(c.d); co != c.want {
			t.Errorf("%s: %+v, want %+v", c.d.Name(), co, c.want)
		}
		if ForShare(c.d) != c.forShare || FenceLock(c.d, true) != c.shared || FenceLock(c.d, false) != c.exclude {
			t.Errorf("%s: %q %q %q", c.d.Name(), ForShare(c.d), FenceLock(c.d, true), FenceLock(c.d, false))
		}
		if ResourceLock(c.d) != c.resource {
			t.Errorf("%s: resource lock %q, want %q", c.d.Name(), ResourceLock(c.d), c.resource)
		}
	}
}

// TestIdentity: the statements that move an identity past explicit keys
// and that allow explicit keys, per dialect.
func TestIdentity(t *testing.T) {
	cases := []struct {
		d                    Dialect
		reset, before, after string
	}{
		{SQLite{}, "", "", ""},
		{Postgres{}, "SELECT setval(pg_get_serial_sequence('visit', 'visit_id'), COALESCE((SELECT MAX(visit_id) FROM visit), 0) + 1, false)", "", ""},
		{SQLServer{}, "DECLARE @m int = (SELECT COALESCE(MAX(visit_id), 0) FROM visit); DBCC CHECKIDENT ('visit', RESEED, @m)",
			"SET IDENTITY_INSERT visit ON; ", "; SET IDENTITY_INSERT visit OFF"},
	}
	for _, c := range cases {
		if got := ResetIdentity(c.d, "visit", "visit_id"); got != c.reset {
			t.Errorf("%s: ResetIdentity %q, want %q", c.d.Name(), got, c.reset)
		}
		if b, a := IdentityInsert(c.d, "visit"); b != c.before || a != c.after {
			t.Errorf("%s: IdentityInsert %q %q", c.d.Name(), b, a)
		}
	}
}
