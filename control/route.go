package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The routing table (tables route, route_event): one versioned row per
// resource type and an append-only journal of every move. Package routing
// decides the moves and fences the writes; this file stores them. Errors
// are the driver's, unwrapped: routing reports them through
// sqldb.Describe.

// RouteRow is one row of the routing table.
type RouteRow struct {
	Type      string
	State     string
	Version   int
	UpdatedAt time.Time
	UpdatedBy string
}

// RouteEvent is one journal row.
type RouteEvent struct {
	ID           int64
	Type         string
	From, To     string
	Version      int
	Actor        string
	Reason       string
	Forced       bool
	ParityReport *int64
	At           time.Time
}

// routeChannel is the PostgreSQL channel route moves are announced on
// (MoveRoute notifies, ListenRoutes listens).
const routeChannel = "fhirfacade_routes"

// EnsureRoute gives typ a row in state legacy if it has none.
func (s *Store) EnsureRoute(ctx context.Context, typ string, at time.Time) error {
	q := fmt.Sprintf("INSERT INTO route (resource_type, state, version, updated_at, updated_by) VALUES (%s, 'legacy', 1, %s, 'fhirfacade') ON CONFLICT (resource_type) DO NOTHING", s.ph(1), s.ph(2))
	_, err := s.DB.ExecContext(ctx, q, typ, s.ts(at))
	return err
}

// Routes reads the whole table.
func (s *Store) Routes(ctx context.Context) ([]RouteRow, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT resource_type, state, version, updated_at, updated_by FROM route")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RouteRow
	for rows.Next() {
		var r RouteRow
		var at any
		if err := rows.Scan(&r.Type, &r.State, &r.Version, &at, &r.UpdatedBy); err != nil {
			return nil, err
		}
		r.UpdatedAt = ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RouteSerial is a number that changes whenever any route changes
// (versions only grow): one cheap query for a watcher.
func (s *Store) RouteSerial(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.QueryRowContext(ctx, "SELECT COALESCE(SUM(version), 0) FROM route").Scan(&n)
	return n, err
}

// RouteEvents lists journal rows, oldest first; typ "" lists all.
func (s *Store) RouteEvents(ctx context.Context, typ string) ([]RouteEvent, error) {
	q := "SELECT id, resource_type, from_state, to_state, version, actor, reason, forced, parity_report, at FROM route_event"
	var args []any
	if typ != "" {
		q += " WHERE resource_type = " + s.ph(1)
		args = append(args, typ)
	}
	rows, err := s.DB.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RouteEvent
	for rows.Next() {
		var e RouteEvent
		var at any
		var pr sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Type, &e.From, &e.To, &e.Version, &e.Actor, &e.Reason, &e.Forced, &pr, &at); err != nil {
			return nil, err
		}
		if pr.Valid {
			e.ParityReport = &pr.Int64
		}
		e.At = ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RouteForMove reads typ's route inside a move's transaction tx, locked
// against writes of the type and other moves until tx ends: first the
// type's fence lock, exclusively (new writes of the type queue behind it,
// see RouteStateForWrite), then the row FOR UPDATE (PostgreSQL; SQLite's
// immediate transaction locks the database). found is false when typ has
// no row.
func (s *Store) RouteForMove(ctx context.Context, tx Querier, typ string) (r RouteRow, found bool, err error) {
	d := s.DB.Dialect
	if lock := sqldb.FenceLock(d, false); lock != "" {
		if _, err := tx.ExecContext(ctx, lock, typ); err != nil {
			return r, false, err
		}
	}
	q := "SELECT resource_type, state, version FROM route WHERE resource_type = " + s.ph(1) + sqldb.ForUpdate(d)
	err = tx.QueryRowContext(ctx, q, typ).Scan(&r.Type, &r.State, &r.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// RouteStateForWrite reads typ's state for a write through q. With
// lockShared (a fence transaction on PostgreSQL) it first takes the
// type's fence lock shared — a move's exclusive request, once it waits,
// holds back new writes, where FOR SHARE alone would let overlapping
// writes starve the move — then reads the row FOR SHARE, so no move
// changes it until q's transaction ends. found is false when typ has no
// row.
func (s *Store) RouteStateForWrite(ctx context.Context, q Querier, typ string, lockShared bool) (state string, found bool, err error) {
	d := s.DB.Dialect
	lock := ""
	if lockShared {
		if fence := sqldb.FenceLock(d, true); fence != "" {
			if _, err := q.ExecContext(ctx, fence, typ); err != nil {
				return "", false, err
			}
		}
		lock = sqldb.ForShare(d)
	}
	err = q.QueryRowContext(ctx, "SELECT state FROM route WHERE resource_type = "+s.ph(1)+lock, typ).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return state, err == nil, err
}

// RouteMove is one route change as MoveRoute stores it.
type RouteMove struct {
	Type string
	// From and Version are the state and version the move starts from
	// (the compare-and-set); the route ends at To, version Version+1.
	From, To      string
	Version       int
	Actor, Reason string
	Forced        bool
	ParityReport  *int64
	At            time.Time
}

// MoveRoute changes the route inside tx: a compare-and-set on its
// version, the journal row, and (PostgreSQL) a notification delivered at
// commit to every facade listening (ListenRoutes; polling still catches a
// move if a listener is down). moved is false when the route is no longer
// at m.Version (nothing was changed). The caller commits.
func (s *Store) MoveRoute(ctx context.Context, tx Querier, m RouteMove) (moved bool, err error) {
	res, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE route SET state = %s, version = version + 1, updated_at = %s, updated_by = %s WHERE resource_type = %s AND version = %s",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5)), m.To, s.ts(m.At), m.Actor, m.Type, m.Version)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	var pr any
	if m.ParityReport != nil {
		pr = *m.ParityReport
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO route_event (resource_type, from_state, to_state, version, actor, reason, forced, parity_report, at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7), s.ph(8), s.ph(9)),
		m.Type, m.From, m.To, m.Version+1, m.Actor, m.Reason, sqldb.BoolArg(s.DB.Dialect, m.Forced), pr, s.ts(m.At)); err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	if sqldb.CoordinationOf(s.DB.Dialect).Notify {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify('"+routeChannel+"', $1)", m.Type); err != nil {
			return false, fmt.Errorf("notify: %w", err)
		}
	}
	return true, nil
}

// ShadowEnteredAt is when typ last moved from legacy to shadow (found is
// false when it never did), read through q.
func (s *Store) ShadowEnteredAt(ctx context.Context, q Querier, typ string) (at time.Time, found bool, err error) {
	var v any
	err = q.QueryRowContext(ctx, "SELECT at FROM route_event WHERE resource_type = "+s.ph(1)+" AND from_state = 'legacy' AND to_state = 'shadow' ORDER BY id DESC LIMIT 1", typ).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return ParseTime(v), true, nil
}

// ListenRoutes holds one connection LISTENing for route moves (a store
// whose dialect has sqldb.Coordination.Notify) and sends on wake for each,
// without blocking: a wake-up already pending stands for this one too. It
// returns when the connection fails or ctx ends.
func (s *Store) ListenRoutes(ctx context.Context, wake chan<- struct{}) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("control: listen: not a pgx connection")
		}
		if _, err := pc.Conn().Exec(ctx, "LISTEN "+routeChannel); err != nil {
			return err
		}
		for {
			if _, err := pc.Conn().WaitForNotification(ctx); err != nil {
				return err
			}
			select {
			case wake <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	})
}
