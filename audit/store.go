// Package audit is the facade's tamper-evident audit trail: one record per
// FHIR interaction (refused ones included), route flip, sync or parity run,
// appended to the control store in a SHA-256 hash chain. Verify finds the
// first broken or missing link; Export writes FHIR AuditEvent NDJSON.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// ErrUnavailable is returned when a record could not be stored.
var ErrUnavailable = errors.New("audit store unavailable")

// ErrEdited is returned by Each (and so Export) for a record whose
// recorded column no longer matches the time its hash covers.
var ErrEdited = errors.New("audit record edited")

// Record is one audited event. Its JSON encoding is what the chain hashes,
// so fields are only ever added (with omitempty), never renamed.
type Record struct {
	Seq         int64     `json:"-"`
	Time        time.Time `json:"time"`
	Interaction string    `json:"interaction"` // read, search-type, create, update, delete, route-set, sync, parity, admin, ...
	Type        string    `json:"type,omitempty"`
	Status      int       `json:"status"`
	Outcome     string    `json:"outcome"` // success, denied, invalid, failed
	Detail      string    `json:"detail,omitempty"`
	ClientID    string    `json:"client,omitempty"`
	User        string    `json:"user,omitempty"` // sub or oid, or the OS user for CLI runs
	FHIRUser    string    `json:"fhirUser,omitempty"`
	Issuer      string    `json:"iss,omitempty"`
	Source      string    `json:"source,omitempty"` // client address, or "cli"
	RequestID   string    `json:"requestId,omitempty"`
	Method      string    `json:"method,omitempty"`
	Path        string    `json:"path,omitempty"`
	Query       string    `json:"query,omitempty"` // search parameters as received (PHI: the trail is a PHI store)
	IDs         []string  `json:"ids,omitempty"`
	Patients    []string  `json:"patients,omitempty"`
	Backend     string    `json:"backend,omitempty"`
	// ClientRequestID is the X-Request-Id the client sent (capped): kept
	// for correlation, never used as RequestID, which the server makes.
	ClientRequestID string `json:"clientRequestId,omitempty"`
	// Count is the number of requests an aggregated record stands for
	// (refusals before authentication and rate-limited requests are
	// counted per client or address and window, see Aggregator); 0 is a
	// record of one request. Until is the time of the last one counted.
	Count int       `json:"count,omitempty"`
	Until time.Time `json:"until,omitzero"`
}

// Requests is how many requests r stands for.
func (r *Record) Requests() int { return max(r.Count, 1) }

// OutcomeOf names the outcome of an HTTP status.
func OutcomeOf(status int) string {
	switch {
	case status < 400:
		return "success"
	case status == 401 || status == 403:
		return "denied"
	case status < 500:
		return "invalid"
	}
	return "failed"
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// link is the chain step: hash = SHA-256(prev hash ‖ "\n" ‖ seq ‖ "\n" ‖ body).
// The sequence number is inside the hash, so rows cannot be reordered.
func link(prev string, seq int64, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write([]byte(fmt.Sprint(seq)))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Store appends to and reads the chain in a control store.
type Store struct {
	DB *sqldb.DB

	// PostgreSQL appends: the chain head as this process last wrote it, so
	// a batch is one statement instead of a five-round-trip transaction.
	mu    sync.Mutex
	head  link0
	known bool
}

// link0 is a chain position: the newest record's sequence number and hash.
type link0 struct {
	seq  int64
	hash string
}

// sqliteStamp is fixed-width so SQLite's text comparison orders instants.
const sqliteStamp = "2006-01-02T15:04:05.000000Z"

func (s *Store) stamp(t time.Time) any {
	if s.DB.Dialect.Name() == "sqlite" {
		return t.UTC().Format(sqliteStamp)
	}
	return t.UTC()
}

// Append stores recs as the next links of the chain. Appenders in several
// processes sharing one store extend one chain without forking it.
func (s *Store) Append(ctx context.Context, recs []*Record) error {
	if len(recs) == 0 {
		return nil
	}
	bodies := make([][]byte, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("%w: encode: %v", ErrUnavailable, err)
		}
		bodies[i] = b
	}
	if s.DB.Dialect.Name() == "postgres" {
		return s.appendPG(ctx, recs, bodies)
	}
	return s.appendTx(ctx, recs, bodies)
}

// rows renders the VALUES rows of the links recs add after from (each
// body's hash chains on the one before), with their arguments, and returns
// the new head. tuple renders one row's five placeholders for arguments
// n+1..n+5.
func (s *Store) rows(from link0, recs []*Record, bodies [][]byte, args []any, tuple func(n int) string) (string, []any, link0) {
	var q strings.Builder
	to := from
	for i, r := range recs {
		seq := to.seq + 1
		h := link(to.hash, seq, bodies[i])
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(tuple(len(args)))
		args = append(args, seq, s.stamp(r.Time), string(bodies[i]), to.hash, h)
		to = link0{seq, h}
	}
	return q.String(), args, to
}

// setSeqs gives recs the sequence numbers that end at head.
func setSeqs(recs []*Record, head int64) {
	for i, r := range recs {
		r.Seq = head - int64(len(recs)-1-i)
	}
}

// appendTx appends in one immediate transaction (SQLite: BEGIN IMMEDIATE
// holds the database's write lock, which serialises appenders).
func (s *Store) appendTx(ctx context.Context, recs []*Record, bodies [][]byte) error {
	d := s.DB.Dialect
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer tx.Rollback()
	var from link0
	if err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&from.seq, &from.hash); err != nil {
		return fmt.Errorf("%w: read head: %v", ErrUnavailable, err)
	}
	values, args, to := s.rows(from, recs, bodies, nil, func(n int) string {
		return fmt.Sprintf("(%s, %s, %s, %s, %s)", d.Placeholder(n+1), d.Placeholder(n+2), d.Placeholder(n+3), d.Placeholder(n+4), d.Placeholder(n+5))
	})
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_event (seq, recorded, body, prev_hash, hash) VALUES "+values, args...); err != nil {
		return fmt.Errorf("%w: insert: %v", ErrUnavailable, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", d.Placeholder(1), d.Placeholder(2)), to.seq, to.hash); err != nil {
		return fmt.Errorf("%w: head: %v", ErrUnavailable, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %v", ErrUnavailable, err)
	}
	setSeqs(recs, to.seq)
	return nil
}

// appendPG appends recs in one autocommitted statement that moves the head
// by compare-and-set and inserts the rows only if it moved: on a loaded
// machine each round trip waits for the scheduler, and the sync audit mode
// makes every client wait for the batch (a BEGIN / SELECT FOR UPDATE /
// INSERT / UPDATE / COMMIT transaction cost five). Another process that
// appended in between makes the set miss; the head is then read again and
// the batch rebuilt on top of it, so the chain never forks.
func (s *Store) appendPG(ctx context.Context, recs []*Record, bodies [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !s.known {
			if err := s.DB.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&s.head.seq, &s.head.hash); err != nil {
				return fmt.Errorf("%w: read head: %v", ErrUnavailable, err)
			}
			s.known = true
		}
		from := s.head
		values, args, to := s.rows(from, recs, bodies, make([]any, 4, 4+len(recs)*5), func(n int) string {
			return fmt.Sprintf("($%d::bigint, $%d::timestamptz, $%d::text, $%d::text, $%d::text)", n+1, n+2, n+3, n+4, n+5)
		})
		args[0], args[1], args[2], args[3] = to.seq, to.hash, from.seq, from.hash
		res, err := s.DB.ExecContext(ctx, "WITH h AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1) "+
			"INSERT INTO audit_event (seq, recorded, body, prev_hash, hash) SELECT v.seq, v.recorded, v.body, v.prev_hash, v.hash FROM (VALUES "+
			values+") AS v(seq, recorded, body, prev_hash, hash) CROSS JOIN h", args...)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			// the statement may have committed before the error reached us
			// (a dropped connection): a head that is now exactly where this
			// batch leads means it did, and appending again would repeat it
			s.known = false
			var now link0
			if rerr := s.DB.QueryRowContext(context.WithoutCancel(ctx), "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&now.seq, &now.hash); rerr == nil && now == to {
				s.head, s.known = to, true
				setSeqs(recs, to.seq)
				return nil
			}
			return fmt.Errorf("%w: append: %v", ErrUnavailable, err)
		}
		if n == int64(len(recs)) {
			s.head = to
			setSeqs(recs, to.seq)
			return nil
		}
		// another process moved the head: read it and build on top of it
		s.known = false
		if attempt >= 100 {
			return fmt.Errorf("%w: the chain head kept moving (100 attempts)", ErrUnavailable)
		}
	}
}

// Problem is the first defect Verify found.
type Problem struct {
	Seq    int64
	Reason string
}

func (p *Problem) Error() string { return fmt.Sprintf("audit record %d: %s", p.Seq, p.Reason) }

// Report is the result of Verify.
type Report struct {
	Records  int64
	HeadSeq  int64
	HeadHash string   // with HeadSeq, the anchor to record outside the store
	Problem  *Problem // nil when the chain is whole
}

// Verify walks the whole chain in order and reports the first broken or
// missing link: a row whose body or hash was edited, a gap in the sequence
// (a deleted row), a row whose prev_hash is not its predecessor's hash, or a
// head that points past the last row (a deleted tail). Each anchor's
// record must exist and still have the anchored hash.
func (s *Store) Verify(ctx context.Context, anchors ...Anchor) (*Report, error) {
	rep := &Report{}
	if err := s.DB.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&rep.HeadSeq, &rep.HeadHash); err != nil {
		return nil, fmt.Errorf("read audit head: %w", err)
	}
	headHash := rep.HeadHash
	anchored := make(map[int64]string, len(anchors))
	for _, a := range anchors {
		anchored[a.Seq] = a.Hash
	}
	prev, want := genesis, int64(1)
	const page = 5000
	for {
		rows, err := s.DB.QueryContext(ctx, fmt.Sprintf("SELECT seq, recorded, body, prev_hash, hash FROM audit_event WHERE seq >= %s ORDER BY seq LIMIT %d", s.DB.Dialect.Placeholder(1), page), want)
		if err != nil {
			return nil, fmt.Errorf("read audit records: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			var seq int64
			var recorded any
			var body, ph, h string
			if err := rows.Scan(&seq, &recorded, &body, &ph, &h); err != nil {
				rows.Close()
				return nil, err
			}
			rep.Records++
			switch {
			case seq != want:
				rep.Problem = &Problem{Seq: want, Reason: fmt.Sprintf("missing (the next record present is %d)", seq)}
			case ph != prev:
				rep.Problem = &Problem{Seq: seq, Reason: "prev_hash does not match the previous record's hash"}
			case link(prev, seq, []byte(body)) != h:
				rep.Problem = &Problem{Seq: seq, Reason: "content does not match its hash (edited)"}
			case !recordedMatches(recorded, body):
				rep.Problem = &Problem{Seq: seq, Reason: "recorded time does not match the time its hash covers (edited)"}
			case anchored[seq] != "" && anchored[seq] != h:
				rep.Problem = &Problem{Seq: seq, Reason: "does not match its anchor (the chain was rewritten at or before this record)"}
			}
			if rep.Problem != nil {
				rows.Close()
				return rep, nil
			}
			prev, want = h, seq+1
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		if n < page {
			break
		}
	}
	switch {
	case want-1 < rep.HeadSeq:
		rep.Problem = &Problem{Seq: want, Reason: fmt.Sprintf("missing (the chain head says %d records exist)", rep.HeadSeq)}
	case want-1 > rep.HeadSeq || prev != headHash:
		rep.Problem = &Problem{Seq: want - 1, Reason: "does not match the chain head (records appended outside the chain, or the head edited)"}
	}
	for _, a := range anchors {
		// the tail was cut and the head moved back to match: only an
		// anchor past the end shows it
		if a.Seq >= want && (rep.Problem == nil || a.Seq < rep.Problem.Seq) {
			rep.Problem = &Problem{Seq: a.Seq, Reason: fmt.Sprintf("anchored record missing (the chain ends at %d: its tail was cut)", want-1)}
		}
	}
	return rep, nil
}

// Each calls fn for every record recorded at or after since, in order.
func (s *Store) Each(ctx context.Context, since time.Time, fn func(*Record) error) error {
	after := int64(0)
	const page = 5000
	for {
		rows, err := s.DB.QueryContext(ctx, fmt.Sprintf("SELECT seq, recorded, body FROM audit_event WHERE seq > %s AND recorded >= %s ORDER BY seq LIMIT %d",
			s.DB.Dialect.Placeholder(1), s.DB.Dialect.Placeholder(2), page), after, s.stamp(since))
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		var batch []*Record
		for rows.Next() {
			var seq int64
			var recorded any
			var body string
			if err := rows.Scan(&seq, &recorded, &body); err != nil {
				rows.Close()
				return err
			}
			if !recordedMatches(recorded, body) {
				// the column the --since filter reads was changed: what
				// this export leaves out cannot be trusted either
				rows.Close()
				return fmt.Errorf("%w: record %d: its recorded time does not match the time its hash covers; run `fhirfacade audit verify`", ErrEdited, seq)
			}
			r := &Record{}
			if err := json.Unmarshal([]byte(body), r); err != nil {
				rows.Close()
				return fmt.Errorf("audit record %d: %w", seq, err)
			}
			r.Seq = seq
			batch = append(batch, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Seq
		}
		if len(batch) < page {
			return nil
		}
	}
}

// recordedMatches reports whether the recorded column (the one export
// filters by) holds the time in the hashed body. The column is not in the
// hash itself: it is derived from the body's time when the record is
// appended (truncated to the microsecond both stores keep), so checking
// that it still is covers it by the hash — and every chain written before
// this check verifies unchanged, with no hash version to tell apart.
func recordedMatches(recorded any, body string) bool {
	var col time.Time
	switch x := recorded.(type) {
	case time.Time:
		col = x
	case string, []byte:
		t, err := time.Parse(sqliteStamp, fmt.Sprintf("%s", x))
		if err != nil {
			return false
		}
		col = t
	default:
		return false
	}
	bt, ok := bodyTime(body)
	if !ok {
		return false
	}
	d := col.Sub(bt)
	// PostgreSQL keeps microseconds (the driver truncates, a text-format
	// parameter would round), the SQLite stamp truncates to them
	return d > -time.Microsecond && d < time.Microsecond
}

// bodyTime reads a record body's "time": the first field of every body
// Marshal writes, so it is cut out without decoding the whole record.
func bodyTime(body string) (time.Time, bool) {
	const prefix = `{"time":"`
	if rest, ok := strings.CutPrefix(body, prefix); ok {
		if end := strings.IndexByte(rest, '"'); end > 0 {
			t, err := time.Parse(time.RFC3339Nano, rest[:end])
			return t, err == nil
		}
	}
	var r struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return time.Time{}, false
	}
	return r.Time, true
}

// Count is the number of stored records.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.QueryRowContext(ctx, "SELECT count(*) FROM audit_event").Scan(&n)
	return n, err
}
