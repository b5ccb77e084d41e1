package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The audit chain (tables audit_event, audit_head): package audit hashes
// the records and decides what to append; this file only stores and reads
// the links. audit_head holds the newest link, so a cut tail shows.

// AuditPos is a chain position: the newest link's sequence number and hash.
type AuditPos struct {
	Seq  int64
	Hash string
}

// AuditLink is one stored link of the chain.
type AuditLink struct {
	Seq int64
	// Recorded is the recorded column (the one AuditSince filters by);
	// RecordedOK is false when it does not hold a time in the stored
	// format (an edited row).
	Recorded   time.Time
	RecordedOK bool
	Body       string
	PrevHash   string
	Hash       string
}

// AuditHead reads the chain head.
func (s *Store) AuditHead(ctx context.Context) (AuditPos, error) {
	return auditHead(ctx, s.DB)
}

func auditHead(ctx context.Context, q Querier) (AuditPos, error) {
	var p AuditPos
	if err := q.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&p.Seq, &p.Hash); err != nil {
		return p, fmt.Errorf("read audit head: %w", err)
	}
	return p, nil
}

// AuditAppend stores links (which continue the chain from from, in order)
// and moves the head to the last of them — only if the head is still at
// from: a compare-and-set, so appenders in several processes extend one
// chain without forking it. moved is false when another appender moved
// the head first (nothing was stored: read the head and build again).
func (s *Store) AuditAppend(ctx context.Context, from AuditPos, links []AuditLink) (moved bool, err error) {
	if len(links) == 0 {
		return true, nil
	}
	if sqldb.CoordinationOf(s.DB.Dialect).RowLocks {
		// writers run concurrently (a read of the head in a transaction
		// would not hold it): the compare-and-set is one statement
		return s.auditAppendOne(ctx, from, links)
	}
	return s.auditAppendTx(ctx, from, links)
}

// auditValues renders the VALUES rows of links after the arguments in
// args, and returns them with the links' arguments appended. tuple renders
// one row's five placeholders for arguments n+1..n+5.
func (s *Store) auditValues(links []AuditLink, args []any, tuple func(n int) string) (string, []any) {
	var q strings.Builder
	for i, l := range links {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(tuple(len(args)))
		args = append(args, l.Seq, sqldb.SortableStampArg(s.DB.Dialect, l.Recorded), l.Body, l.PrevHash, l.Hash)
	}
	return q.String(), args
}

// auditAppendOne is AuditAppend as one autocommitted statement that moves
// the head by compare-and-set and inserts the rows only if it moved
// (PostgreSQL): on a loaded machine each round trip waits for the
// scheduler, and the sync audit mode makes every client wait for the
// batch (a BEGIN / SELECT FOR UPDATE / INSERT / UPDATE / COMMIT
// transaction cost five).
func (s *Store) auditAppendOne(ctx context.Context, from AuditPos, links []AuditLink) (bool, error) {
	to := links[len(links)-1]
	values, args := s.auditValues(links, []any{to.Seq, to.Hash, from.Seq, from.Hash}, func(n int) string {
		return fmt.Sprintf("($%d::bigint, $%d::timestamptz, $%d::text, $%d::text, $%d::text)", n+1, n+2, n+3, n+4, n+5)
	})
	res, err := s.DB.ExecContext(ctx, "WITH h AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1) "+
		"INSERT INTO audit_event (seq, recorded, body, prev_hash, hash) SELECT v.seq, v.recorded, v.body, v.prev_hash, v.hash FROM (VALUES "+
		values+") AS v(seq, recorded, body, prev_hash, hash) CROSS JOIN h", args...)
	if err != nil {
		return false, fmt.Errorf("append: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("append: %w", err)
	}
	return n == int64(len(links)), nil
}

// auditAppendTx is AuditAppend in one immediate transaction (SQLite: the
// database's write lock, taken at BEGIN, serialises appenders), which
// stores nothing unless the head it reads is still from.
func (s *Store) auditAppendTx(ctx context.Context, from AuditPos, links []AuditLink) (bool, error) {
	d := s.DB.Dialect
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	head, err := auditHead(ctx, tx)
	if err != nil || head != from {
		return false, err
	}
	values, args := s.auditValues(links, nil, func(n int) string {
		return fmt.Sprintf("(%s, %s, %s, %s, %s)", d.Placeholder(n+1), d.Placeholder(n+2), d.Placeholder(n+3), d.Placeholder(n+4), d.Placeholder(n+5))
	})
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_event (seq, recorded, body, prev_hash, hash) VALUES "+values, args...); err != nil {
		return false, fmt.Errorf("insert: %w", err)
	}
	to := links[len(links)-1]
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", s.ph(1), s.ph(2)), to.Seq, to.Hash); err != nil {
		return false, fmt.Errorf("head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// AuditLinks lists up to limit links from sequence number fromSeq on, in
// order.
func (s *Store) AuditLinks(ctx context.Context, fromSeq int64, limit int) ([]AuditLink, error) {
	return s.auditLinks(ctx, fmt.Sprintf("seq >= %s ORDER BY seq LIMIT %d", s.ph(1), limit), fromSeq)
}

// AuditSince lists up to limit links after sequence number afterSeq
// recorded at or after since, in order.
func (s *Store) AuditSince(ctx context.Context, afterSeq int64, since time.Time, limit int) ([]AuditLink, error) {
	return s.auditLinks(ctx, fmt.Sprintf("seq > %s AND recorded >= %s ORDER BY seq LIMIT %d", s.ph(1), s.ph(2), limit),
		afterSeq, sqldb.SortableStampArg(s.DB.Dialect, since))
}

func (s *Store) auditLinks(ctx context.Context, where string, args ...any) ([]AuditLink, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT seq, recorded, body, prev_hash, hash FROM audit_event WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit records: %w", err)
	}
	defer rows.Close()
	var out []AuditLink
	for rows.Next() {
		var l AuditLink
		var recorded any
		if err := rows.Scan(&l.Seq, &recorded, &l.Body, &l.PrevHash, &l.Hash); err != nil {
			return nil, fmt.Errorf("read audit records: %w", err)
		}
		l.Recorded, l.RecordedOK = auditStamp(recorded)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit records: %w", err)
	}
	return out, nil
}

// auditStamp reads a recorded column: timestamptz, or SQLite text in
// exactly the layout it is written in (sqldb.SortableStamp: any other
// text would sort out of order, so it counts as edited).
func auditStamp(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string, []byte:
		t, err := time.Parse(sqldb.SortableStamp, fmt.Sprintf("%s", x))
		return t, err == nil
	}
	return time.Time{}, false
}

// AuditCount is the number of stored links.
func (s *Store) AuditCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.DB.QueryRowContext(ctx, "SELECT count(*) FROM audit_event").Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit records: %w", err)
	}
	return n, nil
}
