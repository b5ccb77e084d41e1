// Package routing is the strangler routing table: one versioned row per
// resource type in the control store, an append-only journal of every move,
// the guard that refuses unsafe moves (with the reason), and a watcher that
// gives each facade process an atomically swapped snapshot of the table.
package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// State is where a resource type is served from.
type State string

// The route states (ARCHITECTURE.md).
const (
	Legacy   State = "legacy"
	Shadow   State = "shadow"
	FHIR     State = "fhir"
	FHIROnly State = "fhir-only"
)

// Sentinel errors; messages say what to do.
var (
	ErrUnknown = errors.New("unknown type or state")
	ErrRefused = errors.New("move refused")
	ErrStale   = errors.New("route changed concurrently")
)

// Route is one row of the table.
type Route struct {
	Type      string    `json:"type"`
	State     State     `json:"state"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

// Table is an immutable snapshot of every route.
type Table struct {
	Routes map[string]Route
	serial int64
}

// State of a type; types without a row are on legacy.
func (t *Table) State(typ string) State {
	if r, ok := t.Routes[typ]; ok {
		return r.State
	}
	return Legacy
}

// List is the routes sorted by type.
func (t *Table) List() []Route {
	out := make([]Route, 0, len(t.Routes))
	for _, r := range t.Routes {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Event is one journal row.
type Event struct {
	ID           int64     `json:"id"`
	Type         string    `json:"type"`
	From         State     `json:"from"`
	To           State     `json:"to"`
	Version      int       `json:"version"`
	Actor        string    `json:"actor"`
	Reason       string    `json:"reason"`
	Forced       bool      `json:"forced"`
	ParityReport *int64    `json:"parityReport,omitempty"`
	At           time.Time `json:"at"`
}

// Store reads and changes the table in the control store.
type Store struct {
	db  *sqldb.DB
	ctl *control.Store // owns the route tables, and the outbox routing counts
	// Threshold is the share of matching resources a parity report needs
	// (default 1.0: everything matches, nothing missing on either side).
	Threshold float64
	// Evidence is where the parity guard reads parity reports and sync
	// runs (the control store, which owns those tables).
	Evidence Evidence
	now      func() time.Time
}

// Evidence is what the parity guard reads, inside the move's transaction:
// the type's newest parity report and its last finished sync.
type Evidence interface {
	NewestParityReport(ctx context.Context, q control.Querier, typ string) (control.ParityReport, bool, error)
	LastSyncFinished(ctx context.Context, q control.Querier, typ string) (time.Time, bool, error)
}

// NewStore returns a store over the control database.
func NewStore(db *sqldb.DB) *Store {
	ctl := &control.Store{DB: db}
	return &Store{db: db, ctl: ctl, Threshold: 1.0, now: time.Now, Evidence: ctl}
}

// Ensure gives every mapped type a row (state legacy) if it has none.
func (s *Store) Ensure(ctx context.Context, types []string) error {
	for _, t := range types {
		if err := s.ctl.EnsureRoute(ctx, t, s.now()); err != nil {
			return fmt.Errorf("routing: ensure %s: %s", t, sqldb.Describe(err))
		}
	}
	return nil
}

// Load reads the whole table.
func (s *Store) Load(ctx context.Context) (*Table, error) {
	rows, err := s.ctl.Routes(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: load: %s", sqldb.Describe(err))
	}
	t := &Table{Routes: make(map[string]Route, len(rows))}
	for _, r := range rows {
		t.Routes[r.Type] = Route{Type: r.Type, State: State(r.State), Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
		t.serial += int64(r.Version)
	}
	return t, nil
}

// History lists journal rows, newest last; typ "" lists all.
func (s *Store) History(ctx context.Context, typ string) ([]Event, error) {
	rows, err := s.ctl.RouteEvents(ctx, typ)
	if err != nil {
		return nil, fmt.Errorf("routing: history: %s", sqldb.Describe(err))
	}
	var out []Event
	for _, e := range rows {
		out = append(out, Event{ID: e.ID, Type: e.Type, From: State(e.From), To: State(e.To), Version: e.Version,
			Actor: e.Actor, Reason: e.Reason, Forced: e.Forced, ParityReport: e.ParityReport, At: e.At})
	}
	return out, nil
}

// Move asks for one route change.
type Move struct {
	Type    string
	To      State
	Actor   string
	Reason  string
	Force   bool // override the parity guard (journaled)
	Confirm bool // needed for the one-way move to fhir-only
	DryRun  bool
	// Version, when set, must be the route's current version (the
	// compare-and-set a caller that read the table first can ask for).
	Version int
	// Wait bounds how long a move to or from fhir waits for the mirror
	// queue of the type to drain (default 10 s).
	Wait time.Duration
}

// Plan is what a move does, or why it is refused.
type Plan struct {
	Type         string   `json:"type"`
	From         State    `json:"from"`
	To           State    `json:"to"`
	Version      int      `json:"version"` // version after the move
	Steps        []string `json:"steps"`
	Refused      string   `json:"refused,omitempty"`
	Forced       bool     `json:"forced"`
	ParityReport *int64   `json:"parityReport,omitempty"`
	Applied      bool     `json:"applied"`
	pending      int
}

// Set validates, guards and applies a move: a compare-and-set on the
// route's version plus a journal row, in one transaction. A refused or
// dry-run move changes nothing.
func (s *Store) Set(ctx context.Context, m Move) (*Plan, error) {
	if strings.TrimSpace(m.Reason) == "" {
		return nil, fmt.Errorf("%w: a reason is required (--reason)", ErrRefused)
	}
	if strings.TrimSpace(m.Actor) == "" {
		m.Actor = "unknown"
	}
	if _, err := ParseState(string(m.To)); err != nil {
		return nil, err
	}
	if m.Wait <= 0 {
		m.Wait = 10 * time.Second
	}
	if !sqldb.CoordinationOf(s.db.Dialect).RowLocks && !m.DryRun {
		// the write fence of a SQLite store lives outside the database:
		// new writes of every type wait here (delayed, not failed) until
		// the move is committed or refused
		open, err := fenceFor(s.db.Path).exclusive(ctx)
		if err != nil {
			return nil, err
		}
		defer open()
	}
	deadline := s.now().Add(m.Wait)
	for {
		p, tx, err := s.check(ctx, m)
		if err != nil || p.Refused != "" || m.DryRun || p.pending == 0 {
			if tx != nil && (err != nil || p.Refused != "" || m.DryRun) {
				tx.Rollback()
			}
			if err != nil {
				return p, err
			}
			if p.Refused != "" && !m.DryRun {
				return p, fmt.Errorf("%w: %s %s -> %s: %s", ErrRefused, m.Type, p.From, m.To, p.Refused)
			}
			if m.DryRun {
				return p, nil
			}
			return s.apply(ctx, tx, m, p)
		}
		// writes queued under the old state must reach the new system of
		// record first. PostgreSQL: keep the route row locked, so new
		// writes of this type wait (they are delayed, not failed) while
		// the outbox drains — otherwise a steady write load could keep
		// the queue from ever emptying. SQLite: writes are held by the
		// file fence taken above; the transaction's database lock would
		// also stop the drainer, so it is released while the queue drains.
		if sqldb.CoordinationOf(s.db.Dialect).RowLocks {
			if err := s.waitDrained(ctx, tx, m, p, deadline); err != nil {
				tx.Rollback()
				return p, err
			}
			return s.apply(ctx, tx, m, p)
		}
		tx.Rollback()
		if s.now().After(deadline) {
			p.Refused = fmt.Sprintf("%d mirrored writes of %s are still queued after %v; is a facade running to drain the outbox?", p.pending, m.Type, m.Wait)
			return p, fmt.Errorf("%w: %s %s -> %s: %s", ErrRefused, m.Type, p.From, m.To, p.Refused)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitDrained polls the type's mirror queue inside the locked transaction.
func (s *Store) waitDrained(ctx context.Context, tx *sql.Tx, m Move, p *Plan, deadline time.Time) error {
	target := "fhir"
	if p.From == FHIR {
		target = "legacy"
	}
	for p.pending > 0 {
		if s.now().After(deadline) {
			p.Refused = fmt.Sprintf("%d mirrored writes of %s are still queued after %v; is a facade running to drain the outbox?", p.pending, m.Type, m.Wait)
			return fmt.Errorf("%w: %s %s -> %s: %s", ErrRefused, m.Type, p.From, m.To, p.Refused)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		n, err := s.ctl.OutboxPendingFor(ctx, tx, target, m.Type)
		if err != nil {
			return fmt.Errorf("routing: outbox: %s", sqldb.Describe(err))
		}
		p.pending = n
	}
	return nil
}

// check opens the move's transaction with the route row locked (FOR UPDATE
// in PostgreSQL; SQLite's immediate transaction locks the database) and
// works out the plan.
func (s *Store) check(ctx context.Context, m Move) (*Plan, *sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("routing: %s", sqldb.Describe(err))
	}
	// the type's fence lock, exclusively: new writes of the type queue
	// behind it (see Router.fence)
	row, found, err := s.ctl.RouteForMove(ctx, tx, m.Type)
	if err != nil {
		tx.Rollback()
		return nil, nil, fmt.Errorf("routing: %s", sqldb.Describe(err))
	}
	if !found {
		tx.Rollback()
		return nil, nil, fmt.Errorf("%w: resource type %q has no route (mapped types get one at start-up)", ErrUnknown, m.Type)
	}
	cur := Route{Type: row.Type, State: State(row.State), Version: row.Version}
	p := &Plan{Type: m.Type, From: cur.State, To: m.To, Version: cur.Version + 1}
	if m.Version != 0 && m.Version != cur.Version {
		tx.Rollback()
		return nil, nil, fmt.Errorf("%w: %s is at version %d, not %d; list the routes again", ErrStale, m.Type, cur.Version, m.Version)
	}
	p.Refused = s.canSwitch(ctx, tx, m, cur.State, p)
	if p.Refused == "" {
		if target := string(Transitions[[2]State{cur.State, m.To}].Drain); target != "" {
			n, err := s.ctl.OutboxPendingFor(ctx, tx, target, m.Type)
			if err != nil {
				tx.Rollback()
				return nil, nil, fmt.Errorf("routing: outbox: %s", sqldb.Describe(err))
			}
			p.pending = n
			if n > 0 {
				p.Steps = append(p.Steps, fmt.Sprintf("waits for %d queued mirrored writes to reach %s first", n, target))
			}
		}
	}
	return p, tx, nil
}

// apply is the compare-and-set and the journal row, then commit.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, m Move, p *Plan) (*Plan, error) {
	defer tx.Rollback()
	moved, err := s.ctl.MoveRoute(ctx, tx, control.RouteMove{Type: m.Type, From: string(p.From), To: string(m.To), Version: p.Version - 1,
		Actor: m.Actor, Reason: m.Reason, Forced: p.Forced, ParityReport: p.ParityReport, At: s.now()})
	if err != nil {
		return nil, fmt.Errorf("routing: %s", sqldb.Describe(err))
	}
	if !moved {
		return nil, fmt.Errorf("%w: %s changed while this move was checked; try again", ErrStale, m.Type)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("routing: commit: %s", sqldb.Describe(err))
	}
	p.Applied = true
	return p, nil
}

// canSwitch returns why a move is refused ("" when allowed) and fills the
// plan's steps, from the Transitions table.
func (s *Store) canSwitch(ctx context.Context, tx *sql.Tx, m Move, from State, p *Plan) string {
	if from == m.To {
		return fmt.Sprintf("%s is already on %s", m.Type, from)
	}
	tr, ok := Transitions[[2]State{from, m.To}]
	if !ok {
		if States[from].Final {
			return string(from) + " is final: legacy is retired for this type"
		}
		return fmt.Sprintf("moves go one step at a time (from %s: %v)", from, NextStates(from))
	}
	p.Steps = tr.steps(m.To)
	reason, forceable := s.guardReason(ctx, tx, tr.guard, m, p)
	if reason == "" {
		return ""
	}
	if !forceable {
		return reason
	}
	if !m.Force {
		return reason + " (--force with a --reason overrides, and is journaled)"
	}
	p.Forced = true
	p.Steps = append(p.Steps, "guard overridden: "+reason)
	return ""
}

// guardReason runs a transition's guard: why the move is refused ("" when
// it passes) and whether --force may override that.
func (s *Store) guardReason(ctx context.Context, tx *sql.Tx, g guard, m Move, p *Plan) (string, bool) {
	switch g {
	case parityGuard:
		return s.parityGuard(ctx, tx, m.Type, p), true
	case unmirroredGuard:
		// writes made on FHIR that the reverse mirror could not carry into
		// legacy would vanish from view on the way back
		reason, err := s.unmirrored(ctx, tx, m.Type)
		if err != nil {
			return "the outbox cannot be read: " + sqldb.Describe(err), false
		}
		if reason != "" {
			reason += "; moving back would hide them"
		}
		return reason, true
	case confirmGuard:
		// the point of no return: after this the reverse mirror stops and
		// legacy falls behind for good
		if !m.Confirm {
			return string(m.To) + " is one-way (legacy stops receiving this type's writes); add --confirm", false
		}
	}
	return "", false
}

// parityGuard: the newest parity report must pass and be newer than the
// newest sync of the type.
func (s *Store) parityGuard(ctx context.Context, tx *sql.Tx, typ string, p *Plan) string {
	r, ok, err := s.Evidence.NewestParityReport(ctx, tx, typ)
	if err != nil {
		return "parity reports cannot be read: " + sqldb.Describe(err)
	}
	if !ok {
		return "no parity report exists for " + typ + " (run fhirfacade parity " + typ + ")"
	}
	id := r.ID
	p.ParityReport = &id
	share := 0.0
	if r.Total > 0 {
		share = float64(r.Matching) / float64(r.Total)
	}
	if !r.Passed || r.Total == 0 || share < s.Threshold {
		return fmt.Sprintf("parity report %d does not pass (%d of %d match, %.2f%% < %.2f%%)", id, r.Matching, r.Total, share*100, s.Threshold*100)
	}
	if synced, ok, err := s.Evidence.LastSyncFinished(ctx, tx, typ); err == nil && ok && synced.After(r.At) {
		return fmt.Sprintf("parity report %d is older than the last sync of %s; run parity again", id, typ)
	}
	at := r.At
	// writes made while the type was on legacy are not mirrored: a report
	// from before the type entered shadow cannot vouch for them (found by
	// the flip-under-load benchmark: 159 Patients renamed on legacy after
	// parity would have gone missing from FHIR)
	if shadowAt, ok, err := s.ctl.ShadowEnteredAt(ctx, tx, typ); err == nil && ok && !at.After(shadowAt) {
		return fmt.Sprintf("parity report %d predates the move to shadow (mirroring started then): writes made on legacy before it are not in FHIR; run sync --incremental and parity again", id)
	}
	return ""
}

// Watcher keeps an atomically swapped snapshot of the table current.
type Watcher struct {
	store    *Store
	cur      atomic.Pointer[Table]
	interval time.Duration
	onChange func(old, new *Table)
}

// NewWatcher loads the table once; Run keeps it current.
func NewWatcher(ctx context.Context, s *Store, interval time.Duration, onChange func(old, new *Table)) (*Watcher, error) {
	t, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	w := &Watcher{store: s, interval: interval, onChange: onChange}
	w.cur.Store(t)
	return w, nil
}

// Current is the snapshot a request should use from start to end.
func (w *Watcher) Current() *Table { return w.cur.Load() }

// Run polls until ctx ends. A change is one cheap query away, so every
// process sees a flip within the interval (250 ms by default in serve); on
// PostgreSQL it also LISTENs, so a flip is usually seen within milliseconds.
func (w *Watcher) Run(ctx context.Context) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	wake := make(chan struct{}, 1)
	if sqldb.CoordinationOf(w.store.db.Dialect).Notify {
		go w.listen(ctx, wake)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		w.check(ctx)
	}
}

// listen holds one connection LISTENing for route changes and wakes Run on
// each; it reconnects after errors (polling covers the gap).
func (w *Watcher) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := w.store.ctl.ListenRoutes(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		_ = err // polling keeps the table current meanwhile
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// check reloads the table when its serial moved, and swaps it in whole.
func (w *Watcher) check(ctx context.Context) {
	n, err := w.store.ctl.RouteSerial(ctx)
	if err != nil || n == w.cur.Load().serial {
		return
	}
	t, err := w.store.Load(ctx)
	if err != nil {
		return
	}
	old := w.cur.Swap(t)
	if w.onChange != nil {
		w.onChange(old, t)
	}
}
