package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Reads and the two outbox actions the migration console needs (package
// facade/console): listings of parity reports and sync runs, per-type
// outbox counts, and retrying or skipping a failed mirror row.

// ParityReports lists typ's stored reports, newest first, at most limit,
// with their JSON bodies.
func (s *Store) ParityReports(ctx context.Context, typ string, limit int) ([]ParityReport, error) {
	q := s.DB.Dialect.Select("id, resource_type, created_at, passed, matching, total, report", "parity_report", "resource_type = "+s.ph(1), "id DESC", limit)
	rows, err := s.DB.QueryContext(ctx, q, typ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ParityReport
	for rows.Next() {
		r, err := scanParityReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ParityReportByID reads one stored report (found false: no such id).
func (s *Store) ParityReportByID(ctx context.Context, id int64) (r ParityReport, found bool, err error) {
	row := s.DB.QueryRowContext(ctx, "SELECT id, resource_type, created_at, passed, matching, total, report FROM parity_report WHERE id = "+s.ph(1), id)
	r, err = scanParityReport(row)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

func scanParityReport(sc interface{ Scan(...any) error }) (ParityReport, error) {
	var r ParityReport
	var at any
	var body sql.NullString
	if err := sc.Scan(&r.ID, &r.Type, &at, &r.Passed, &r.Matching, &r.Total, &body); err != nil {
		return r, err
	}
	r.At, r.Body = ParseTime(at), body.String
	return r, nil
}

// SyncRun is one recorded sync run of a type.
type SyncRun struct {
	ID                       int64
	Type, Mode               string
	Started, Finished        time.Time // Finished zero: not finished
	Written, Failed, Deleted int
}

// LastSyncRun is typ's newest sync run, finished or not (found false: none).
func (s *Store) LastSyncRun(ctx context.Context, typ string) (r SyncRun, found bool, err error) {
	var started, finished any
	err = s.DB.QueryRowContext(ctx, s.DB.Dialect.Select("id, resource_type, mode, started_at, finished_at, written, failed, deleted", "sync_run", "resource_type = "+s.ph(1), "id DESC", 1), typ).
		Scan(&r.ID, &r.Type, &r.Mode, &started, &finished, &r.Written, &r.Failed, &r.Deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	r.Started = ParseTime(started)
	if finished != nil {
		r.Finished = ParseTime(finished)
	}
	return r, true, nil
}

// OutboxCounts are a type's outbox rows by state (done rows not counted).
type OutboxCounts struct {
	Pending, Failed, Unmirrorable int
}

// OutboxCountsByType counts the outbox rows not done, per type and state.
func (s *Store) OutboxCountsByType(ctx context.Context) (map[string]OutboxCounts, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT resource_type, state, COUNT(*) FROM outbox WHERE state <> '"+OutboxDone+"' GROUP BY resource_type, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]OutboxCounts{}
	for rows.Next() {
		var typ, state string
		var n int
		if err := rows.Scan(&typ, &state, &n); err != nil {
			return nil, err
		}
		c := out[typ]
		switch state {
		case OutboxPending:
			c.Pending = n
		case OutboxFailed:
			c.Failed = n
		case OutboxUnmirrorable:
			c.Unmirrorable = n
		}
		out[typ] = c
	}
	return out, rows.Err()
}

// ErrNotFailed: the outbox row is not (or no longer) in state failed.
var ErrNotFailed = errors.New("control: the outbox row is not failed")

// RequeueFailedOutbox puts a failed row back in the queue (state pending,
// attempts reset) so the drainer copies the resource's current state again.
func (s *Store) RequeueFailedOutbox(ctx context.Context, id int64) error {
	return s.settleFailed(ctx, fmt.Sprintf("UPDATE outbox SET state = '"+OutboxPending+"', attempts = 0 WHERE id = %s AND state = '"+OutboxFailed+"'", s.ph(1)), id)
}

// SkipFailedOutbox closes a failed row without copying (state done, the
// note kept as its last error): someone decided the copy is not needed.
func (s *Store) SkipFailedOutbox(ctx context.Context, id int64, note string) error {
	return s.settleFailed(ctx, fmt.Sprintf("UPDATE outbox SET state = '"+OutboxDone+"', done_at = %s, last_error = %s WHERE id = %s AND state = '"+OutboxFailed+"'", s.ph(1), s.ph(2), s.ph(3)),
		s.ts(time.Now()), note, id)
}

func (s *Store) settleFailed(ctx context.Context, q string, args ...any) error {
	res, err := s.DB.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFailed
	}
	return nil
}

// ConsoleAction is one row of the console's own journal (table
// console_action).
type ConsoleAction struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string // sync, parity, outbox-retry, outbox-skip, audit-verify
	Type   string // "" when the action is not about one type
	OK     bool
	Detail string
}

// RecordConsoleAction appends a console action to its journal.
func (s *Store) RecordConsoleAction(ctx context.Context, a ConsoleAction) error {
	q := fmt.Sprintf("INSERT INTO console_action (at, actor, action, resource_type, ok, detail) VALUES (%s, %s, %s, %s, %s, %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6))
	_, err := s.DB.ExecContext(ctx, q, s.ts(a.At), a.Actor, a.Action, a.Type, sqldb.BoolArg(s.DB.Dialect, a.OK), a.Detail)
	return err
}

// ConsoleActions lists the newest limit console actions, newest first,
// of typ ("" every type) and action ("" every action).
func (s *Store) ConsoleActions(ctx context.Context, typ, action string, limit int) ([]ConsoleAction, error) {
	where, args := "1 = 1", []any{}
	for _, f := range []struct{ col, val string }{{"resource_type", typ}, {"action", action}} {
		if f.val != "" {
			args = append(args, f.val)
			where += " AND " + f.col + " = " + s.ph(len(args))
		}
	}
	rows, err := s.DB.QueryContext(ctx, s.DB.Dialect.Select("id, at, actor, action, resource_type, ok, detail", "console_action", where, "id DESC", limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConsoleAction
	for rows.Next() {
		var a ConsoleAction
		var at any
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.Type, &a.OK, &a.Detail); err != nil {
			return nil, err
		}
		a.At = ParseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastRouteEvents is each type's newest journal row (the overview's
// "who moved it, when and why"), one query however long the journal.
func (s *Store) LastRouteEvents(ctx context.Context) (map[string]RouteEvent, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT id, resource_type, from_state, to_state, version, actor, reason, forced, at FROM route_event WHERE id IN (SELECT MAX(id) FROM route_event GROUP BY resource_type)")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]RouteEvent{}
	for rows.Next() {
		var e RouteEvent
		var at any
		if err := rows.Scan(&e.ID, &e.Type, &e.From, &e.To, &e.Version, &e.Actor, &e.Reason, &e.Forced, &at); err != nil {
			return nil, err
		}
		e.At = ParseTime(at)
		out[e.Type] = e
	}
	return out, rows.Err()
}

// RevokeConsoleSession records that the console session whose id hashes
// to sidHash was signed out; it stays refused until expires, when its
// cookie would have expired anyway. Earlier expired rows are swept here.
func (s *Store) RevokeConsoleSession(ctx context.Context, sidHash string, expires time.Time) error {
	if _, err := s.DB.ExecContext(ctx, "DELETE FROM console_revoked WHERE expires_unix < "+s.ph(1), time.Now().Unix()); err != nil {
		return fmt.Errorf("control: sweep revoked console sessions: %w", err)
	}
	// a second sign-out of the same session (two tabs) is not an error
	// (the control store is PostgreSQL or SQLite: both have ON CONFLICT)
	q := fmt.Sprintf("INSERT INTO console_revoked (sid_hash, expires_unix) VALUES (%s, %s) ON CONFLICT (sid_hash) DO NOTHING", s.ph(1), s.ph(2))
	if _, err := s.DB.ExecContext(ctx, q, sidHash, expires.Unix()); err != nil {
		return fmt.Errorf("control: revoke console session: %w", err)
	}
	return nil
}

// ConsoleSessionRevoked reports whether the session whose id hashes to
// sidHash was signed out.
func (s *Store) ConsoleSessionRevoked(ctx context.Context, sidHash string) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM console_revoked WHERE sid_hash = "+s.ph(1), sidHash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("control: read revoked console sessions: %w", err)
	}
	return n > 0, nil
}
