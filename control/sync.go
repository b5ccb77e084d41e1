package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sync runs and checkpoints (tables sync_run, sync_checkpoint): written by
// `fhirfacade sync`, read by it to resume and by the parity guard.

// SyncCheckpoint is where an unfinished sync run of a type stands.
type SyncCheckpoint struct {
	RunID           int64
	Position        string
	Watermark       string
	Written, Failed int
}

// SyncCheckpoint returns the type's checkpoint (nil: no unfinished run).
func (s *Store) SyncCheckpoint(ctx context.Context, typ string) (*SyncCheckpoint, error) {
	var cp SyncCheckpoint
	var wm sql.NullString
	err := s.DB.QueryRowContext(ctx, "SELECT run_id, position, watermark, written, failed FROM sync_checkpoint WHERE resource_type = "+s.ph(1), typ).
		Scan(&cp.RunID, &cp.Position, &wm, &cp.Written, &cp.Failed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control: sync checkpoint: %w", err)
	}
	cp.Watermark = wm.String
	return &cp, nil
}

// LastSyncWatermark is the watermark of the type's newest finished run
// that has one ("" when none).
func (s *Store) LastSyncWatermark(ctx context.Context, typ string) (string, error) {
	var wm sql.NullString
	err := s.DB.QueryRowContext(ctx, "SELECT watermark FROM sync_run WHERE resource_type = "+s.ph(1)+" AND finished_at IS NOT NULL AND watermark IS NOT NULL ORDER BY id DESC LIMIT 1", typ).Scan(&wm)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("control: sync watermark: %w", err)
	}
	return wm.String, nil
}

// StartSyncRun records a new run and returns its id.
func (s *Store) StartSyncRun(ctx context.Context, typ, mode string, at time.Time) (int64, error) {
	q := fmt.Sprintf("INSERT INTO sync_run (resource_type, started_at, mode) VALUES (%s, %s, %s) RETURNING id", s.ph(1), s.ph(2), s.ph(3))
	var id int64
	if err := s.DB.QueryRowContext(ctx, q, typ, s.ts(at), mode).Scan(&id); err != nil {
		return 0, fmt.Errorf("control: start sync run: %w", err)
	}
	return id, nil
}

// SaveSyncCheckpoint records where the type's run stands (upsert).
func (s *Store) SaveSyncCheckpoint(ctx context.Context, typ string, cp SyncCheckpoint, at time.Time) error {
	var w any
	if cp.Watermark != "" {
		w = cp.Watermark
	}
	q := fmt.Sprintf(`INSERT INTO sync_checkpoint (resource_type, run_id, position, watermark, written, failed, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (resource_type) DO UPDATE SET position = excluded.position, written = excluded.written, failed = excluded.failed, updated_at = excluded.updated_at`,
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7))
	if _, err := s.DB.ExecContext(ctx, q, typ, cp.RunID, cp.Position, w, cp.Written, cp.Failed, s.ts(at)); err != nil {
		return fmt.Errorf("control: sync checkpoint: %w", err)
	}
	return nil
}

// SyncTotals are a finished run's counts.
type SyncTotals struct {
	Written, Failed, Deleted int
	Watermark                string
}

// FinishSyncRun closes the run and drops the type's checkpoint in one
// transaction (a run killed before this resumes from the checkpoint).
func (s *Store) FinishSyncRun(ctx context.Context, typ string, run int64, t SyncTotals, at time.Time) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var wm any
	if t.Watermark != "" {
		wm = t.Watermark
	}
	q := fmt.Sprintf("UPDATE sync_run SET finished_at = %s, written = %s, failed = %s, deleted = %s, watermark = %s WHERE id = %s",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6))
	if _, err := tx.ExecContext(ctx, q, s.ts(at), t.Written, t.Failed, t.Deleted, wm, run); err != nil {
		return fmt.Errorf("control: finish sync run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sync_checkpoint WHERE resource_type = "+s.ph(1), typ); err != nil {
		return fmt.Errorf("control: finish sync run: %w", err)
	}
	return tx.Commit()
}

// LastSyncFinished is when the type's newest finished run ended (ok false:
// none), read through q.
func (s *Store) LastSyncFinished(ctx context.Context, q Querier, typ string) (time.Time, bool, error) {
	var at any
	err := q.QueryRowContext(ctx, "SELECT finished_at FROM sync_run WHERE resource_type = "+s.ph(1)+" AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1", typ).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return ParseTime(at), true, nil
}
