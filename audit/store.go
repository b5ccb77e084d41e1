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

	"github.com/fhirfacade/fhirfacade/control"
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

// Store appends to and reads the chain in a control store (package
// control stores the links; the hashing and the chain's rules are here).
type Store struct {
	DB *sqldb.DB

	// the chain head as this process last wrote it, so a batch needs no
	// read of the head first (PostgreSQL: one statement per batch)
	mu    sync.Mutex
	head  control.AuditPos
	known bool
}

func (s *Store) ctl() *control.Store { return &control.Store{DB: s.DB} }

// Append stores recs as the next links of the chain. Appenders in several
// processes sharing one store extend one chain without forking it: each
// batch moves the head by compare-and-set, and another process that
// appended in between makes the set miss; the head is then read again and
// the batch rebuilt on top of it.
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
	ctl := s.ctl()
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !s.known {
			h, err := ctl.AuditHead(ctx)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			s.head, s.known = h, true
		}
		links, to := chain(s.head, recs, bodies)
		moved, err := ctl.AuditAppend(ctx, s.head, links)
		if err != nil {
			// the batch may have committed before the error reached us
			// (a dropped connection): a head that is now exactly where
			// this batch leads means it did, and appending again would
			// repeat it
			s.known = false
			if now, rerr := ctl.AuditHead(context.WithoutCancel(ctx)); rerr == nil && now == to {
				s.head, s.known = to, true
				setSeqs(recs, to.Seq)
				return nil
			}
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if moved {
			s.head = to
			setSeqs(recs, to.Seq)
			return nil
		}
		// another process moved the head: read it and build on top of it
		s.known = false
		if attempt >= 100 {
			return fmt.Errorf("%w: the chain head kept moving (100 attempts)", ErrUnavailable)
		}
	}
}

// chain builds the links recs add after from (each body's hash chains on
// the one before), and returns them with the new head.
func chain(from control.AuditPos, recs []*Record, bodies [][]byte) ([]control.AuditLink, control.AuditPos) {
	links := make([]control.AuditLink, len(recs))
	to := from
	for i, r := range recs {
		seq := to.Seq + 1
		h := link(to.Hash, seq, bodies[i])
		links[i] = control.AuditLink{Seq: seq, Recorded: r.Time, Body: string(bodies[i]), PrevHash: to.Hash, Hash: h}
		to = control.AuditPos{Seq: seq, Hash: h}
	}
	return links, to
}

// setSeqs gives recs the sequence numbers that end at head.
func setSeqs(recs []*Record, head int64) {
	for i, r := range recs {
		r.Seq = head - int64(len(recs)-1-i)
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
	ctl := s.ctl()
	head, err := ctl.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{HeadSeq: head.Seq, HeadHash: head.Hash}
	anchored := make(map[int64]string, len(anchors))
	for _, a := range anchors {
		anchored[a.Seq] = a.Hash
	}
	prev, want := genesis, int64(1)
	const page = 5000
	for {
		links, err := ctl.AuditLinks(ctx, want, page)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			rep.Records++
			switch {
			case l.Seq != want:
				rep.Problem = &Problem{Seq: want, Reason: fmt.Sprintf("missing (the next record present is %d)", l.Seq)}
			case l.PrevHash != prev:
				rep.Problem = &Problem{Seq: l.Seq, Reason: "prev_hash does not match the previous record's hash"}
			case link(prev, l.Seq, []byte(l.Body)) != l.Hash:
				rep.Problem = &Problem{Seq: l.Seq, Reason: "content does not match its hash (edited)"}
			case !recordedMatches(l):
				rep.Problem = &Problem{Seq: l.Seq, Reason: "recorded time does not match the time its hash covers (edited)"}
			case anchored[l.Seq] != "" && anchored[l.Seq] != l.Hash:
				rep.Problem = &Problem{Seq: l.Seq, Reason: "does not match its anchor (the chain was rewritten at or before this record)"}
			}
			if rep.Problem != nil {
				return rep, nil
			}
			prev, want = l.Hash, l.Seq+1
		}
		if len(links) < page {
			break
		}
	}
	switch {
	case want-1 < rep.HeadSeq:
		rep.Problem = &Problem{Seq: want, Reason: fmt.Sprintf("missing (the chain head says %d records exist)", rep.HeadSeq)}
	case want-1 > rep.HeadSeq || prev != head.Hash:
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
	ctl := s.ctl()
	after := int64(0)
	const page = 5000
	for {
		links, err := ctl.AuditSince(ctx, after, since, page)
		if err != nil {
			return err
		}
		batch := make([]*Record, 0, len(links))
		for _, l := range links {
			if !recordedMatches(l) {
				// the column the --since filter reads was changed: what
				// this export leaves out cannot be trusted either
				return fmt.Errorf("%w: record %d: its recorded time does not match the time its hash covers; run `fhirfacade audit verify`", ErrEdited, l.Seq)
			}
			r := &Record{}
			if err := json.Unmarshal([]byte(l.Body), r); err != nil {
				return fmt.Errorf("audit record %d: %w", l.Seq, err)
			}
			r.Seq = l.Seq
			batch = append(batch, r)
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

// recordedMatches reports whether a link's recorded column (the one
// export filters by) holds the time in the hashed body. The column is not
// in the hash itself: it is derived from the body's time when the record
// is appended (truncated to the microsecond both stores keep), so checking
// that it still is covers it by the hash — and every chain written before
// this check verifies unchanged, with no hash version to tell apart.
func recordedMatches(l control.AuditLink) bool {
	if !l.RecordedOK {
		return false
	}
	bt, ok := bodyTime(l.Body)
	if !ok {
		return false
	}
	d := l.Recorded.Sub(bt)
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
	return s.ctl().AuditCount(ctx)
}
