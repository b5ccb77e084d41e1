package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Bulk $export jobs (tables bulk_job, bulk_part): written and read by
// package bulk through these methods only. A job runs under a lease: the
// facade holding it renews it with every page it commits, and one whose
// lease ran out (its facade died) is claimed by another.

// Bulk job states.
const (
	BulkQueued    = "queued"
	BulkRunning   = "running"
	BulkDone      = "done"
	BulkFailed    = "failed"
	BulkCancelled = "cancelled"
)

// ErrBulkBusy is returned by CreateBulkJob when the store already holds
// the most active (queued or running) jobs allowed.
var ErrBulkBusy = errors.New("too many bulk export jobs")

// ErrBulkLeaseLost is returned by SaveBulkPart when the job is no longer
// this worker's (cancelled, or claimed by another facade after the lease
// ran out): the worker must stop without writing further.
var ErrBulkLeaseLost = errors.New("bulk export job lease lost")

// BulkJob is one export job.
type BulkJob struct {
	ID, Owner, Request, Spec, Status string
	TransactionTime, CreatedAt       time.Time
	FinishedAt                       time.Time // zero while active
	Error                            string
	LeaseOwner                       string
}

// BulkPart is one output file of a job and where its export stands.
type BulkPart struct {
	Seq                  int
	Type, Query, Backend string
	Cursor               string
	Pages                int
	Lines, Bytes         int64
	ErrLines, ErrBytes   int64
	Done                 bool
}

const bulkJobCols = "id, owner, request, spec, status, transaction_time, created_at, finished_at, error, lease_owner"

func scanBulkJob(sc interface{ Scan(...any) error }) (*BulkJob, error) {
	var j BulkJob
	var tt, ca, fa any
	var e, lo sql.NullString
	if err := sc.Scan(&j.ID, &j.Owner, &j.Request, &j.Spec, &j.Status, &tt, &ca, &fa, &e, &lo); err != nil {
		return nil, err
	}
	j.TransactionTime, j.CreatedAt, j.FinishedAt = ParseTime(tt), ParseTime(ca), ParseTime(fa)
	j.Error, j.LeaseOwner = e.String, lo.String
	return &j, nil
}

// CreateBulkJob stores a queued job and its parts in one transaction,
// unless maxActive jobs are already queued or running (ErrBulkBusy). The
// count and the insert are serialised (a table lock on PostgreSQL,
// SQLite's one writer), so concurrent kick-offs cannot exceed the limit.
func (s *Store) CreateBulkJob(ctx context.Context, j BulkJob, parts []BulkPart, maxActive int) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("control: bulk job: %w", err)
	}
	defer tx.Rollback()
	if s.DB.Dialect.Name() == "postgres" {
		// SHARE ROW EXCLUSIVE conflicts with itself: one kick-off at a time
		// counts and inserts; readers and workers' updates of other rows
		// are not blocked for longer than this short transaction
		if _, err := tx.ExecContext(ctx, "LOCK TABLE bulk_job IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("control: bulk job: %w", err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM bulk_job WHERE status IN ('"+BulkQueued+"', '"+BulkRunning+"')").Scan(&n); err != nil {
		return fmt.Errorf("control: bulk job: %w", err)
	}
	if maxActive > 0 && n >= maxActive {
		return fmt.Errorf("%w: %d active (limit %d)", ErrBulkBusy, n, maxActive)
	}
	q := fmt.Sprintf("INSERT INTO bulk_job (id, owner, request, spec, status, transaction_time, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7))
	if _, err := tx.ExecContext(ctx, q, j.ID, j.Owner, j.Request, j.Spec, BulkQueued, s.ts(j.TransactionTime), s.ts(j.CreatedAt)); err != nil {
		return fmt.Errorf("control: bulk job: %w", err)
	}
	q = fmt.Sprintf("INSERT INTO bulk_part (job_id, seq, resource_type, query) VALUES (%s, %s, %s, %s)", s.ph(1), s.ph(2), s.ph(3), s.ph(4))
	for _, p := range parts {
		if _, err := tx.ExecContext(ctx, q, j.ID, p.Seq, p.Type, p.Query); err != nil {
			return fmt.Errorf("control: bulk part: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("control: bulk job: %w", err)
	}
	return nil
}

// BulkJob returns the job and its parts in order (nil when unknown).
func (s *Store) BulkJob(ctx context.Context, id string) (*BulkJob, []BulkPart, error) {
	j, err := scanBulkJob(s.DB.QueryRowContext(ctx, "SELECT "+bulkJobCols+" FROM bulk_job WHERE id = "+s.ph(1), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("control: bulk job: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, "SELECT seq, resource_type, query, backend, cursor, pages, lines, bytes, err_lines, err_bytes, done FROM bulk_part WHERE job_id = "+s.ph(1)+" ORDER BY seq", id)
	if err != nil {
		return nil, nil, fmt.Errorf("control: bulk parts: %w", err)
	}
	defer rows.Close()
	var parts []BulkPart
	for rows.Next() {
		var p BulkPart
		if err := rows.Scan(&p.Seq, &p.Type, &p.Query, &p.Backend, &p.Cursor, &p.Pages, &p.Lines, &p.Bytes, &p.ErrLines, &p.ErrBytes, &p.Done); err != nil {
			return nil, nil, fmt.Errorf("control: bulk parts: %w", err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("control: bulk parts: %w", err)
	}
	return j, parts, nil
}

// ClaimBulkJob gives worker the oldest active job nobody holds a live
// lease on (nil: none), leased until now+lease. On PostgreSQL the
// candidate row is locked FOR UPDATE SKIP LOCKED, so facades claiming at
// the same moment each get a different job instead of queueing on one;
// SQLite has one writer at a time, so the same transaction suffices.
func (s *Store) ClaimBulkJob(ctx context.Context, worker string, now time.Time, lease time.Duration) (*BulkJob, error) {
	q := "SELECT id FROM bulk_job WHERE status IN ('" + BulkQueued + "', '" + BulkRunning + "') AND lease_until < " + s.ph(1) + " ORDER BY created_at, id LIMIT 1"
	// idle workers poll: look without a transaction first (on SQLite every
	// transaction takes the one write lock) and open one only when there
	// is something to claim
	var id string
	err := s.DB.QueryRowContext(ctx, q, now.UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	defer tx.Rollback()
	if s.DB.Dialect.Name() == "postgres" {
		q += " FOR UPDATE SKIP LOCKED"
	}
	err = tx.QueryRowContext(ctx, q, now.UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	q = fmt.Sprintf("UPDATE bulk_job SET status = '%s', lease_owner = %s, lease_until = %s WHERE id = %s", BulkRunning, s.ph(1), s.ph(2), s.ph(3))
	if _, err := tx.ExecContext(ctx, q, worker, now.Add(lease).UnixMilli(), id); err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	j, err := scanBulkJob(tx.QueryRowContext(ctx, "SELECT "+bulkJobCols+" FROM bulk_job WHERE id = "+s.ph(1), id))
	if err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("control: claim bulk job: %w", err)
	}
	return j, nil
}

// SaveBulkPart commits where a part stands and renews the worker's lease,
// in one statement pair of one transaction — only while the job is still
// running under worker's lease (ErrBulkLeaseLost otherwise, and nothing is
// changed).
func (s *Store) SaveBulkPart(ctx context.Context, jobID, worker string, p BulkPart, now time.Time, lease time.Duration) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("control: bulk part: %w", err)
	}
	defer tx.Rollback()
	if err := s.renew(ctx, tx, jobID, worker, now, lease); err != nil {
		return err
	}
	q := fmt.Sprintf("UPDATE bulk_part SET backend = %s, cursor = %s, pages = %s, lines = %s, bytes = %s, err_lines = %s, err_bytes = %s, done = %s WHERE job_id = %s AND seq = %s",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7), s.ph(8), s.ph(9), s.ph(10))
	if _, err := tx.ExecContext(ctx, q, p.Backend, p.Cursor, p.Pages, p.Lines, p.Bytes, p.ErrLines, p.ErrBytes, p.Done, jobID, p.Seq); err != nil {
		return fmt.Errorf("control: bulk part: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("control: bulk part: %w", err)
	}
	return nil
}

// renew extends worker's lease on a running job (ErrBulkLeaseLost when it
// is not worker's any more).
func (s *Store) renew(ctx context.Context, q Querier, jobID, worker string, now time.Time, lease time.Duration) error {
	res, err := q.ExecContext(ctx, fmt.Sprintf("UPDATE bulk_job SET lease_until = %s WHERE id = %s AND lease_owner = %s AND status = '%s'",
		s.ph(1), s.ph(2), s.ph(3), BulkRunning), now.Add(lease).UnixMilli(), jobID, worker)
	if err != nil {
		return fmt.Errorf("control: bulk lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: job %s", ErrBulkLeaseLost, jobID)
	}
	return nil
}

// RenewBulkLease extends worker's lease without committing a page (a long
// page of a slow backend).
func (s *Store) RenewBulkLease(ctx context.Context, jobID, worker string, now time.Time, lease time.Duration) error {
	return s.renew(ctx, s.DB, jobID, worker, now, lease)
}

// FinishBulkJob ends worker's running job as done or failed (with a
// public reason), releasing its lease (ErrBulkLeaseLost when it is not
// worker's any more).
func (s *Store) FinishBulkJob(ctx context.Context, jobID, worker, status, reason string, now time.Time) error {
	var e any
	if reason != "" {
		e = reason
	}
	res, err := s.DB.ExecContext(ctx, fmt.Sprintf("UPDATE bulk_job SET status = %s, error = %s, finished_at = %s, lease_owner = NULL, lease_until = 0 WHERE id = %s AND lease_owner = %s AND status = '%s'",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), BulkRunning), status, e, s.ts(now), jobID, worker)
	if err != nil {
		return fmt.Errorf("control: finish bulk job: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: job %s", ErrBulkLeaseLost, jobID)
	}
	return nil
}

// ReleaseBulkJob gives up worker's lease on a job still running (a facade
// shutting down), so that another facade — or this one restarted — claims
// it at once instead of after the lease runs out.
func (s *Store) ReleaseBulkJob(ctx context.Context, jobID, worker string) error {
	_, err := s.DB.ExecContext(ctx, fmt.Sprintf("UPDATE bulk_job SET lease_owner = NULL, lease_until = 0 WHERE id = %s AND lease_owner = %s",
		s.ph(1), s.ph(2)), jobID, worker)
	if err != nil {
		return fmt.Errorf("control: release bulk job: %w", err)
	}
	return nil
}

// CancelBulkJob marks a job cancelled (found false when it is unknown or
// already cancelled). Its worker notices at its next commit and stops.
func (s *Store) CancelBulkJob(ctx context.Context, jobID string, now time.Time) (found bool, err error) {
	res, err := s.DB.ExecContext(ctx, fmt.Sprintf("UPDATE bulk_job SET status = '%s', finished_at = %s, lease_owner = NULL, lease_until = 0 WHERE id = %s AND status <> '%s'",
		BulkCancelled, s.ph(1), s.ph(2), BulkCancelled), s.ts(now), jobID)
	if err != nil {
		return false, fmt.Errorf("control: cancel bulk job: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishedBulkJobs lists the jobs that ended (done or failed) and still
// have their files, oldest first.
func (s *Store) FinishedBulkJobs(ctx context.Context) ([]BulkJob, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT "+bulkJobCols+" FROM bulk_job WHERE status IN ('"+BulkDone+"', '"+BulkFailed+"') ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("control: bulk jobs: %w", err)
	}
	defer rows.Close()
	var out []BulkJob
	for rows.Next() {
		j, err := scanBulkJob(rows)
		if err != nil {
			return nil, fmt.Errorf("control: bulk jobs: %w", err)
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// ActiveBulkJobs counts the queued and running jobs.
func (s *Store) ActiveBulkJobs(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, "SELECT count(*) FROM bulk_job WHERE status IN ('"+BulkQueued+"', '"+BulkRunning+"')").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("control: bulk jobs: %w", err)
	}
	return n, nil
}
