package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Parity runs (tables parity_item, parity_report, shadow_mismatch):
// `fhirfacade parity` stages each side's hashes and stores its report; the
// shadow comparer records online mismatch samples; the parity guard and
// the report read them.

// ParityItem is one resource's normalised hash on one side ("L" legacy,
// "F" FHIR) of a parity run.
type ParityItem struct {
	Side, ID, Hash string
}

// StageParity stages items of run in one statement (an id a server lists
// twice, paging while it changes, is counted once).
func (s *Store) StageParity(ctx context.Context, run string, items []ParityItem) error {
	if len(items) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO parity_item (run_key, side, id, hash) VALUES ")
	args := make([]any, 0, len(items)*4)
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "(%s, %s, %s, %s)", s.ph(n+1), s.ph(n+2), s.ph(n+3), s.ph(n+4))
		args = append(args, run, it.Side, it.ID, it.Hash)
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	if _, err := s.DB.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("control: stage parity: %w", err)
	}
	return nil
}

// JoinParity walks the full outer join of a run's two sides, ordered by
// id; a side without the id has hash "". fn must not use the control
// store (the join holds one connection while it streams).
func (s *Store) JoinParity(ctx context.Context, run string, fn func(id, legacyHash, fhirHash string) error) error {
	// two indexed anti/left joins instead of a FULL OUTER JOIN over
	// subqueries, which SQLite runs as a nested loop (quadratic)
	q := fmt.Sprintf(`SELECT l.id, l.hash, COALESCE(f.hash, '') FROM parity_item l
LEFT JOIN parity_item f ON f.run_key = l.run_key AND f.side = 'F' AND f.id = l.id
WHERE l.run_key = %s AND l.side = 'L'
UNION ALL
SELECT f.id, '', f.hash FROM parity_item f
WHERE f.run_key = %s AND f.side = 'F'
  AND NOT EXISTS (SELECT 1 FROM parity_item l WHERE l.run_key = f.run_key AND l.side = 'L' AND l.id = f.id)
ORDER BY 1`, s.ph(1), s.ph(2))
	rows, err := s.DB.QueryContext(ctx, q, run, run)
	if err != nil {
		return fmt.Errorf("control: join parity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, l, f string
		if err := rows.Scan(&id, &l, &f); err != nil {
			return err
		}
		if err := fn(id, l, f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DropParityStage removes a run's staged hashes.
func (s *Store) DropParityStage(ctx context.Context, run string) {
	_, _ = s.DB.ExecContext(ctx, "DELETE FROM parity_item WHERE run_key = "+s.ph(1), run)
}

// ParityReport is the stored summary of a parity run (no samples: they
// hold PHI and go only to the files a reviewer is given).
type ParityReport struct {
	ID              int64
	Type            string
	At              time.Time
	Passed          bool
	Matching, Total int64
	Body            string // the report as JSON
}

// StoreParityReport stores a report and returns its id.
func (s *Store) StoreParityReport(ctx context.Context, r ParityReport) (int64, error) {
	d := s.DB.Dialect
	q := fmt.Sprintf("INSERT INTO parity_report (resource_type, created_at, passed, matching, total, report) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6))
	var id int64
	if err := s.DB.QueryRowContext(ctx, q, r.Type, s.ts(r.At), sqldb.BoolArg(d, r.Passed), r.Matching, r.Total, r.Body).Scan(&id); err != nil {
		return 0, fmt.Errorf("control: store parity report: %w", err)
	}
	return id, nil
}

// NewestParityReport is the type's newest report (ok false: none), read
// through q; Body is not read.
func (s *Store) NewestParityReport(ctx context.Context, q Querier, typ string) (ParityReport, bool, error) {
	r := ParityReport{Type: typ}
	var at any
	err := q.QueryRowContext(ctx, "SELECT id, created_at, passed, matching, total FROM parity_report WHERE resource_type = "+s.ph(1)+" ORDER BY id DESC LIMIT 1", typ).
		Scan(&r.ID, &at, &r.Passed, &r.Matching, &r.Total)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	r.At = ParseTime(at)
	return r, true, nil
}

// ShadowMismatch is one online comparison sample (paths only: no values,
// so no PHI is copied into the control store).
type ShadowMismatch struct {
	ID, Kind string
	Paths    []string
}

// RecordShadowMismatch adds a sample and keeps the type's newest keep.
func (s *Store) RecordShadowMismatch(ctx context.Context, typ string, m ShadowMismatch, keep int) error {
	q := fmt.Sprintf("INSERT INTO shadow_mismatch (resource_type, resource_id, at, kind, paths) VALUES (%s, %s, %s, %s, %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5))
	if _, err := s.DB.ExecContext(ctx, q, typ, m.ID, s.ts(time.Now()), m.Kind, strings.Join(m.Paths, ",")); err != nil {
		return fmt.Errorf("control: record shadow mismatch: %w", err)
	}
	q = fmt.Sprintf("DELETE FROM shadow_mismatch WHERE resource_type = %s AND id <= (SELECT COALESCE(MAX(id), 0) FROM shadow_mismatch WHERE resource_type = %s) - %d",
		s.ph(1), s.ph(2), keep)
	_, _ = s.DB.ExecContext(ctx, q, typ, typ)
	return nil
}

// ShadowMismatches are the type's newest n samples, newest first.
func (s *Store) ShadowMismatches(ctx context.Context, typ string, n int) ([]ShadowMismatch, error) {
	d := s.DB.Dialect
	rows, err := s.DB.QueryContext(ctx, d.Select("resource_id, kind, paths", "shadow_mismatch", "resource_type = "+s.ph(1), "id DESC", n), typ)
	if err != nil {
		return nil, fmt.Errorf("control: shadow mismatches: %w", err)
	}
	defer rows.Close()
	var out []ShadowMismatch
	for rows.Next() {
		var m ShadowMismatch
		var paths string
		if err := rows.Scan(&m.ID, &m.Kind, &paths); err != nil {
			return nil, err
		}
		if paths != "" {
			m.Paths = strings.Split(paths, ",")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
