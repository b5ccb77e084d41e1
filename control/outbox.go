package control

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The outbox of mirrored writes (table outbox): a row says "Type/id
// changed on one side: copy its current state to the other". Rows are
// queued in the write fence's transaction and drained by package mirror.

// Outbox row states.
const (
	OutboxPending = "pending"
	OutboxDone    = "done"
	OutboxFailed  = "failed"
	// OutboxUnmirrorable: a write accepted on `fhir` with Prefer:
	// handling=lenient that legacy cannot hold; never drained.
	OutboxUnmirrorable = "unmirrorable"
)

// OutboxRow is one queued copy.
type OutboxRow struct {
	ID                     int64
	Target, Type, Resource string
	Attempts               int
	LastError              string
}

// EnqueueOutbox adds a row in state through q (the fence's transaction
// where there is one); note is the reason of an unmirrorable row.
func (s *Store) EnqueueOutbox(ctx context.Context, q Querier, state, note, target, typ, id string) error {
	var e any
	if note != "" {
		e = note
	}
	stmt := fmt.Sprintf("INSERT INTO outbox (target, resource_type, resource_id, created_at, state, last_error) VALUES (%s, %s, %s, %s, %s, %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6))
	_, err := q.ExecContext(ctx, stmt, target, typ, id, s.ts(time.Now()), state, e)
	return err
}

// OutboxPending counts rows not yet mirrored toward target.
func (s *Store) OutboxPending(ctx context.Context, target string) (int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE state = '"+OutboxPending+"' AND target = "+s.ph(1), target).Scan(&n)
	return n, err
}

// OutboxPendingFor counts the type's rows not yet mirrored toward target,
// through q (a move counts them in its own transaction).
func (s *Store) OutboxPendingFor(ctx context.Context, q Querier, target, typ string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE state = '"+OutboxPending+"' AND target = "+s.ph(1)+" AND resource_type = "+s.ph(2), target, typ).Scan(&n)
	return n, err
}

// OutboxFailed lists the rows that failed for good, oldest first.
func (s *Store) OutboxFailed(ctx context.Context) ([]OutboxRow, error) {
	return s.outboxRows(ctx, "SELECT id, target, resource_type, resource_id, attempts, COALESCE(last_error, '') FROM outbox WHERE state = '"+OutboxFailed+"' ORDER BY id")
}

// OutboxNext lists the oldest n pending rows.
func (s *Store) OutboxNext(ctx context.Context, n int) ([]OutboxRow, error) {
	return s.outboxRows(ctx, s.DB.Dialect.Select("id, target, resource_type, resource_id, attempts, COALESCE(last_error, '')", "outbox", "state = '"+OutboxPending+"'", "id", n))
}

func (s *Store) outboxRows(ctx context.Context, q string, args ...any) ([]OutboxRow, error) {
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.Target, &r.Type, &r.Resource, &r.Attempts, &r.LastError); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OutboxSameResource lists the pending and unmirrorable rows toward r's
// target for r's resource up to r itself (one copy of the current state
// settles them all).
func (s *Store) OutboxSameResource(ctx context.Context, r OutboxRow) ([]int64, error) {
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf("SELECT id FROM outbox WHERE state IN ('"+OutboxPending+"', '"+OutboxUnmirrorable+"') AND target = %s AND resource_type = %s AND resource_id = %s AND id <= %s",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4)), r.Target, r.Type, r.Resource, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// FinishOutbox marks a row (still pending or unmirrorable) done or failed.
func (s *Store) FinishOutbox(ctx context.Context, id int64, state, msg string) error {
	var e any
	if msg != "" {
		e = msg
	}
	q := fmt.Sprintf("UPDATE outbox SET state = %s, done_at = %s, last_error = %s WHERE id = %s AND state IN ('"+OutboxPending+"', '"+OutboxUnmirrorable+"')",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4))
	_, err := s.DB.ExecContext(ctx, q, state, s.ts(time.Now()), e, id)
	return err
}

// RetryOutbox counts a failed attempt and keeps its reason.
func (s *Store) RetryOutbox(ctx context.Context, id int64, reason string) error {
	q := fmt.Sprintf("UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s", s.ph(1), s.ph(2))
	_, err := s.DB.ExecContext(ctx, q, reason, id)
	return err
}

// OutboxUnmirrorableCounts counts the unmirrorable rows per type.
func (s *Store) OutboxUnmirrorableCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT resource_type, COUNT(*) FROM outbox WHERE state = '"+OutboxUnmirrorable+"' GROUP BY resource_type")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var typ string
		var c int
		if err := rows.Scan(&typ, &c); err != nil {
			return nil, err
		}
		n[typ] = c
	}
	return n, rows.Err()
}

// OutboxUnmirrored counts the writes of typ made on FHIR that legacy does
// not have — failed rows toward legacy and unmirrorable ones — through q.
func (s *Store) OutboxUnmirrored(ctx context.Context, q Querier, typ string) (failed, unmirrorable int, err error) {
	states := "'" + strings.Join([]string{OutboxFailed, OutboxUnmirrorable}, "', '") + "'"
	err = q.QueryRowContext(ctx, "SELECT COALESCE(SUM(CASE WHEN state = '"+OutboxFailed+"' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN state = '"+OutboxUnmirrorable+"' THEN 1 ELSE 0 END), 0) FROM outbox WHERE state IN ("+states+") AND target = 'legacy' AND resource_type = "+s.ph(1), typ).
		Scan(&failed, &unmirrorable)
	return failed, unmirrorable, err
}
