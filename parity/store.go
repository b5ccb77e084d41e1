package parity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

type staging struct {
	ctl *control.Store
	run string
}

func (s staging) ph(n int) string { return s.ctl.DB.Dialect.Placeholder(n) }

// add stages (id, hash) of a page in one statement.
func (s staging) add(ctx context.Context, side string, rs []*backend.Resource) error {
	if len(rs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO parity_item (run_key, side, id, hash) VALUES ")
	args := make([]any, 0, len(rs)*4)
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "(%s, %s, %s, %s)", s.ph(n+1), s.ph(n+2), s.ph(n+3), s.ph(n+4))
		args = append(args, s.run, side, r.ID, compare.Hash(r.JSON))
	}
	// a server listing one id twice (paging while it changes) is counted once
	b.WriteString(" ON CONFLICT DO NOTHING")
	if _, err := s.ctl.DB.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("stage: %s", sqldb.Describe(err))
	}
	return nil
}

// join walks the full outer join of both sides, ordered by id.
func (s staging) join(ctx context.Context, fn func(id, legacyHash, fhirHash string) error) error {
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
	rows, err := s.ctl.DB.QueryContext(ctx, q, s.run, s.run)
	if err != nil {
		return fmt.Errorf("join: %s", sqldb.Describe(err))
	}
	defer rows.Close()
	// the callback reads legacy and the FHIR server, never the control
	// store, so streaming here holds one control connection and no memory
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

func (s staging) cleanup(ctx context.Context) {
	_, _ = s.ctl.DB.ExecContext(ctx, "DELETE FROM parity_item WHERE run_key = "+s.ph(1), s.run)
}

// store writes the report row the flip guard reads (the samples, which hold
// PHI, stay in the files a reviewer is given, not in the control store).
func store(ctx context.Context, ctl *control.Store, rep *Report, total int) (int64, error) {
	d := ctl.DB.Dialect
	slim := *rep
	slim.Samples = nil
	body, _ := json.Marshal(slim)
	at, passed := sqldb.StampArg(d, rep.Finished), sqldb.BoolArg(d, rep.Passed)
	q := fmt.Sprintf("INSERT INTO parity_report (resource_type, created_at, passed, matching, total, report) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
		d.Placeholder(1), d.Placeholder(2), d.Placeholder(3), d.Placeholder(4), d.Placeholder(5), d.Placeholder(6))
	var id int64
	if err := ctl.DB.QueryRowContext(ctx, q, rep.Type, at, passed, rep.Counts.Matching, total, string(body)).Scan(&id); err != nil {
		return 0, fmt.Errorf("parity: store report: %s", sqldb.Describe(err))
	}
	return id, nil
}

// shadowSamples are the shadow route's recent online mismatches (paths only).
func shadowSamples(ctx context.Context, ctl *control.Store, typ string) []string {
	rows, err := ctl.DB.QueryContext(ctx, ctl.DB.Dialect.Select("resource_id, kind, paths", "shadow_mismatch", "resource_type = "+ctl.DB.Dialect.Placeholder(1), "id DESC", 20), typ)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, kind, paths string
		if rows.Scan(&id, &kind, &paths) == nil {
			out = append(out, fmt.Sprintf("%s/%s %s %s", typ, id, kind, paths))
		}
	}
	return out
}
