package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Change events (tables change_event, event_cursor, event_dead_letter,
// event_poll, event_poll_key): queued by the write fence and the legacy
// poller, delivered by package events.

// Event kinds, as stored.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	EventDeleted = "deleted"
)

// EventRow is one queued change event.
type EventRow struct {
	Pos                     int64
	EventID                 string
	Type, Resource, Version string
	Kind                    string
	Source                  string // facade or poll
	OccurredAt, QueuedAt    time.Time
}

const eventCols = "pos, event_id, resource_type, resource_id, version_id, kind, source, occurred_at, queued_at"

func (s *Store) eventArgs(e EventRow) []any {
	return []any{e.EventID, e.Type, e.Resource, e.Version, e.Kind, e.Source, s.ts(e.OccurredAt), s.ts(time.Now())}
}

func (s *Store) eventValues() string {
	return fmt.Sprintf("%s, %s, %s, %s, %s, %s, %s, %s", s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7), s.ph(8))
}

// eventSelect is eventValues as a SELECT list: typed, because PostgreSQL
// cannot infer a parameter's type in INSERT ... SELECT.
func (s *Store) eventSelect() string {
	stamp := "timestamptz"
	if s.DB.Dialect.Name() == "sqlite" {
		stamp = "TEXT"
	}
	return fmt.Sprintf("CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS TEXT), CAST(%s AS %s), CAST(%s AS %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5), s.ph(6), s.ph(7), stamp, s.ph(8), stamp)
}

// QueueEvent adds e through q (the write fence's transaction where there
// is one) unless an event of the same identity (type, id, version, kind)
// exists; it reports whether a row was added.
func (s *Store) QueueEvent(ctx context.Context, q Querier, e EventRow) (bool, error) {
	stmt := "INSERT INTO change_event (event_id, resource_type, resource_id, version_id, kind, source, occurred_at, queued_at) VALUES (" +
		s.eventValues() + ") ON CONFLICT (resource_type, resource_id, version_id, kind) DO NOTHING"
	r, err := q.ExecContext(ctx, stmt, s.eventArgs(e)...)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// QueuePolledEvent adds an event the legacy poller found, unless the
// resource already has it: a created or updated event is known when any
// created or updated event has its version (a facade write the poller
// sees again, whichever kind the poller guessed); a deleted event when the
// resource's latest event is a delete.
func (s *Store) QueuePolledEvent(ctx context.Context, e EventRow) (bool, error) {
	var known string
	var args []any
	if e.Kind == EventDeleted {
		known = fmt.Sprintf("SELECT kind FROM change_event WHERE resource_type = CAST(%s AS TEXT) AND resource_id = CAST(%s AS TEXT) ORDER BY id DESC LIMIT 1", s.ph(9), s.ph(10))
		args = []any{e.Type, e.Resource}
		known = "COALESCE((" + known + "), '') = '" + EventDeleted + "'"
	} else {
		known = fmt.Sprintf("EXISTS (SELECT 1 FROM change_event WHERE resource_type = CAST(%s AS TEXT) AND resource_id = CAST(%s AS TEXT) AND version_id = CAST(%s AS TEXT) AND kind IN ('"+EventCreated+"', '"+EventUpdated+"'))", s.ph(9), s.ph(10), s.ph(11))
		args = []any{e.Type, e.Resource, e.Version}
	}
	stmt := "INSERT INTO change_event (event_id, resource_type, resource_id, version_id, kind, source, occurred_at, queued_at) SELECT " +
		s.eventSelect() + " WHERE NOT (" + known + ") ON CONFLICT (resource_type, resource_id, version_id, kind) DO NOTHING"
	r, err := s.DB.ExecContext(ctx, stmt, append(s.eventArgs(e), args...)...)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// SequenceEvents gives up to n committed events without a delivery
// position the next positions, in id order, and returns how many. Rows
// that commit late (PostgreSQL: a smaller id may commit after a larger
// one) simply get a later position: no committed event is skipped by a
// cursor that has moved on. Two facades sequencing at once collide on
// the unique pos; the loser's transaction rolls back and tries later.
func (s *Store) SequenceEvents(ctx context.Context, n int) (int, error) {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var base int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(pos), 0) FROM change_event").Scan(&base); err != nil {
		return 0, err
	}
	stmt := fmt.Sprintf("UPDATE change_event SET pos = %s + s.rn FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM change_event WHERE pos IS NULL ORDER BY id LIMIT %d) AS s WHERE change_event.id = s.id",
		s.ph(1), n)
	r, err := tx.ExecContext(ctx, stmt, base)
	if err != nil {
		return 0, err
	}
	done, _ := r.RowsAffected()
	return int(done), tx.Commit()
}

// EventsAfter lists up to n sequenced events after position pos, in order.
func (s *Store) EventsAfter(ctx context.Context, pos int64, n int) ([]EventRow, error) {
	rows, err := s.DB.QueryContext(ctx, s.DB.Dialect.Select(eventCols, "change_event", "pos > "+s.ph(1), "pos", n), pos)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		var occ, qd any
		if err := rows.Scan(&e.Pos, &e.EventID, &e.Type, &e.Resource, &e.Version, &e.Kind, &e.Source, &occ, &qd); err != nil {
			return nil, err
		}
		e.OccurredAt, e.QueuedAt = ParseTime(occ), ParseTime(qd)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneEvents deletes delivered events queued before cutoff: those every
// live sink's cursor has passed (all of them when there is none). A sink
// is live while a facade has held its lease since cutoff (a delivering
// facade renews it every few seconds): the cursor of a sink that was taken
// out of FHIRFACADE_EVENT_SINKS would otherwise hold every later event
// forever. It returns how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	q := fmt.Sprintf("DELETE FROM change_event WHERE pos IS NOT NULL AND queued_at < %s AND pos <= COALESCE((SELECT MIN(pos) FROM event_cursor WHERE lease_until >= %s), pos)", s.ph(1), s.ph(2))
	r, err := s.DB.ExecContext(ctx, q, s.ts(cutoff), s.ts(cutoff))
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// LastEventPos is the largest delivery position given so far (0: none).
func (s *Store) LastEventPos(ctx context.Context) (int64, error) {
	var p int64
	err := s.DB.QueryRowContext(ctx, "SELECT COALESCE(MAX(pos), 0) FROM change_event").Scan(&p)
	return p, err
}

// ClaimEventCursor takes or renews owner's lease on sink's cursor until
// until (refused while another owner's lease runs after now) and returns
// the cursor's position. A sink seen for the first time starts at the
// newest event: it gets what is published from now on.
func (s *Store) ClaimEventCursor(ctx context.Context, sink, owner string, now, until time.Time) (pos int64, ok bool, err error) {
	// WHERE true: SQLite would read ON CONFLICT as a join's ON otherwise
	ins := "INSERT INTO event_cursor (sink, pos) SELECT " + s.ph(1) + ", COALESCE(MAX(pos), 0) FROM change_event WHERE true ON CONFLICT (sink) DO NOTHING"
	if s.DB.Dialect.Name() != "sqlite" {
		ins = "INSERT INTO event_cursor (sink, pos) SELECT CAST(" + s.ph(1) + " AS TEXT), COALESCE(MAX(pos), 0) FROM change_event ON CONFLICT (sink) DO NOTHING"
	}
	if _, err := s.DB.ExecContext(ctx, ins, sink); err != nil {
		return 0, false, err
	}
	upd := fmt.Sprintf("UPDATE event_cursor SET owner = %s, lease_until = %s WHERE sink = %s AND (owner IS NULL OR owner = %s OR lease_until < %s)",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5))
	r, err := s.DB.ExecContext(ctx, upd, owner, s.ts(until), sink, owner, s.ts(now))
	if err != nil {
		return 0, false, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	err = s.DB.QueryRowContext(ctx, "SELECT pos FROM event_cursor WHERE sink = "+s.ph(1), sink).Scan(&pos)
	return pos, err == nil, err
}

// EventCursor is sink's cursor: the position of the last event it
// delivered (found false: the sink has no cursor yet).
func (s *Store) EventCursor(ctx context.Context, sink string) (pos int64, found bool, err error) {
	err = s.DB.QueryRowContext(ctx, "SELECT pos FROM event_cursor WHERE sink = "+s.ph(1), sink).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return pos, err == nil, err
}

// ErrEventLeaseLost: the sink's cursor is leased to another publisher now
// (this one's lease ran out): it must stop delivering to that sink.
var ErrEventLeaseLost = errors.New("control: event sink lease lost")

// AdvanceEventCursor moves owner's sink past pos (delivered) and clears its
// attempts; never backwards.
func (s *Store) AdvanceEventCursor(ctx context.Context, sink, owner string, pos int64) error {
	q := fmt.Sprintf("UPDATE event_cursor SET pos = %s, attempts = 0, last_error = NULL WHERE sink = %s AND owner = %s AND pos < %s", s.ph(1), s.ph(2), s.ph(3), s.ph(4))
	return s.leased(s.DB.ExecContext(ctx, q, pos, sink, owner, pos))
}

// leased is ErrEventLeaseLost when an owner-checked update changed no row
// (another publisher's lease; a cursor already past pos counts as held).
func (s *Store) leased(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrEventLeaseLost
	}
	return nil
}

// FailEventCursor counts a failed attempt on owner's sink's next event and
// returns the attempts so far.
func (s *Store) FailEventCursor(ctx context.Context, sink, owner, reason string) (int, error) {
	q := fmt.Sprintf("UPDATE event_cursor SET attempts = attempts + 1, last_error = %s WHERE sink = %s AND owner = %s", s.ph(1), s.ph(2), s.ph(3))
	if err := s.leased(s.DB.ExecContext(ctx, q, reason, sink, owner)); err != nil {
		return 0, err
	}
	var n int
	err := s.DB.QueryRowContext(ctx, "SELECT attempts FROM event_cursor WHERE sink = "+s.ph(1), sink).Scan(&n)
	return n, err
}

// NoteEventOutage records in owner's sink's last_error why the sink cannot
// take events now (it is unavailable: nothing refused), counting no
// attempt. Delivery clears it when the cursor moves on.
func (s *Store) NoteEventOutage(ctx context.Context, sink, owner, reason string) error {
	q := fmt.Sprintf("UPDATE event_cursor SET last_error = %s WHERE sink = %s AND owner = %s", s.ph(1), s.ph(2), s.ph(3))
	return s.leased(s.DB.ExecContext(ctx, q, reason, sink, owner))
}

// EventSink is one sink's delivery state, for operators.
type EventSink struct {
	Sink string
	// Pos is the position of the last event it delivered (or
	// dead-lettered); Behind how many sequenced events come after it.
	Pos, Behind int64
	// Attempts are the refusals of the next event so far; LastError why
	// the next event is not delivered yet: its last refusal, or the
	// sink's outage ("" while delivery goes well).
	Attempts  int
	LastError string
	// LeaseUntil is when the delivering facade's lease on the sink ends
	// (zero: none ever held it).
	LeaseUntil  time.Time
	DeadLetters int
}

// EventSinks lists every sink's cursor, by name.
func (s *Store) EventSinks(ctx context.Context) ([]EventSink, error) {
	q := "SELECT c.sink, c.pos, (SELECT COALESCE(MAX(pos), 0) FROM change_event) - c.pos, c.attempts, COALESCE(c.last_error, ''), c.lease_until, " +
		"(SELECT COUNT(*) FROM event_dead_letter d WHERE d.sink = c.sink) FROM event_cursor c ORDER BY c.sink"
	rows, err := s.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventSink
	for rows.Next() {
		var e EventSink
		var until any
		if err := rows.Scan(&e.Sink, &e.Pos, &e.Behind, &e.Attempts, &e.LastError, &until, &e.DeadLetters); err != nil {
			return nil, err
		}
		if until != nil {
			e.LeaseUntil = ParseTime(until)
		}
		if e.Behind < 0 {
			e.Behind = 0 // events pruned or not sequenced yet
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeadLetterEvent records that owner's sink gave up on the event at pos,
// and moves its cursor past it (never backwards), in one transaction.
func (s *Store) DeadLetterEvent(ctx context.Context, sink, owner string, pos int64, attempts int, reason string) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	upd := fmt.Sprintf("UPDATE event_cursor SET pos = %s, attempts = 0, last_error = NULL WHERE sink = %s AND owner = %s AND pos < %s", s.ph(1), s.ph(2), s.ph(3), s.ph(4))
	if err := s.leased(tx.ExecContext(ctx, upd, pos, sink, owner, pos)); err != nil {
		return err
	}
	ins := fmt.Sprintf("INSERT INTO event_dead_letter (sink, event_pos, attempts, error, at) VALUES (%s, %s, %s, %s, %s)", s.ph(1), s.ph(2), s.ph(3), s.ph(4), s.ph(5))
	if _, err := tx.ExecContext(ctx, ins, sink, pos, attempts, reason, s.ts(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// DeadLetter is one event a sink gave up on.
type DeadLetter struct {
	Sink     string
	Pos      int64
	Attempts int
	Error    string
}

// EventDeadLetters lists a sink's dead letters, oldest first.
func (s *Store) EventDeadLetters(ctx context.Context, sink string) ([]DeadLetter, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT sink, event_pos, attempts, error FROM event_dead_letter WHERE sink = "+s.ph(1)+" ORDER BY id", sink)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.Sink, &d.Pos, &d.Attempts, &d.Error); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PollWatermark is the legacy poller's last-updated watermark of typ
// (found false: the type has no baseline yet).
func (s *Store) PollWatermark(ctx context.Context, typ string) (time.Time, bool, error) {
	var v any
	err := s.DB.QueryRowContext(ctx, "SELECT watermark FROM event_poll WHERE resource_type = "+s.ph(1), typ).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return ParseTime(v), err == nil, err
}

// SetPollWatermark stores typ's watermark.
func (s *Store) SetPollWatermark(ctx context.Context, typ string, t time.Time) error {
	q := fmt.Sprintf("INSERT INTO event_poll (resource_type, watermark) VALUES (%s, %s) ON CONFLICT (resource_type) DO UPDATE SET watermark = excluded.watermark", s.ph(1), s.ph(2))
	_, err := s.DB.ExecContext(ctx, q, typ, s.ts(t))
	return err
}

// DropPoll forgets typ's watermark and keys (the type left legacy: the
// next poll of it starts from a fresh baseline).
func (s *Store) DropPoll(ctx context.Context, typ string) error {
	for _, t := range []string{"event_poll_key", "event_poll"} {
		if _, err := s.DB.ExecContext(ctx, "DELETE FROM "+t+" WHERE resource_type = "+s.ph(1), typ); err != nil {
			return err
		}
	}
	return nil
}

// PollKeys are the keys (with their last version) the poller knows of typ.
func (s *Store) PollKeys(ctx context.Context, typ string) (map[string]string, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT resource_id, version_id FROM event_poll_key WHERE resource_type = "+s.ph(1), typ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// PutPollKey records (or refreshes) a key the poller saw.
func (s *Store) PutPollKey(ctx context.Context, typ, id, version string) error {
	q := fmt.Sprintf("INSERT INTO event_poll_key (resource_type, resource_id, version_id) VALUES (%s, %s, %s) ON CONFLICT (resource_type, resource_id) DO UPDATE SET version_id = excluded.version_id",
		s.ph(1), s.ph(2), s.ph(3))
	_, err := s.DB.ExecContext(ctx, q, typ, id, version)
	return err
}

// DeletePollKey forgets a key the poller found gone.
func (s *Store) DeletePollKey(ctx context.Context, typ, id string) error {
	q := fmt.Sprintf("DELETE FROM event_poll_key WHERE resource_type = %s AND resource_id = %s", s.ph(1), s.ph(2))
	_, err := s.DB.ExecContext(ctx, q, typ, id)
	return err
}
