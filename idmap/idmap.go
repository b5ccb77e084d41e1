// Package idmap keeps the FHIR id of resources created on the FHIR server
// (while their type is on a `fhir` route) paired with the legacy id their
// mirrored legacy row got, and wraps the legacy Backend so that those
// resources keep their FHIR ids — in reads, searches, references and
// writes — after a move back to `shadow`.
package idmap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
)

// ErrInterrupted means an earlier attempt to mirror the resource stopped
// between the legacy insert and recording its id: whether the legacy row
// exists is unknown, so nothing is inserted again.
var ErrInterrupted = errors.New("an earlier mirror of this resource was interrupted")

// Map is the id map, cached in memory and refreshed from the control store.
type Map struct {
	store *control.Store

	mu  sync.RWMutex
	fwd map[pair]string // (type, fhir id) -> legacy id
	rev map[pair]string // (type, legacy id) -> fhir id
	// missed remembers ids the store did not know, for a second: a flood of
	// reads of made-up ids costs one control-store query per id and second,
	// not one per request (as stale as the periodic refresh, no more)
	missed map[pair]time.Time
}

type pair struct{ typ, id string }

// New opens the map over a control store; call Refresh before use.
func New(store *control.Store) *Map {
	return &Map{store: store, fwd: map[pair]string{}, rev: map[pair]string{}, missed: map[pair]time.Time{}}
}

// Refresh reloads the completed pairs (the map only grows, and holds only
// resources created on FHIR, so it stays small).
func (m *Map) Refresh(ctx context.Context) error {
	pairs, err := m.store.IDPairs(ctx)
	if err != nil {
		return fmt.Errorf("id map: %w", err)
	}
	fwd, rev := map[pair]string{}, map[pair]string{}
	for _, p := range pairs {
		fwd[pair{p.Type, p.FHIRID}], rev[pair{p.Type, p.LegacyID}] = p.LegacyID, p.FHIRID
	}
	m.mu.Lock()
	m.fwd, m.rev = fwd, rev
	m.mu.Unlock()
	return nil
}

// Run refreshes every interval until ctx ends (other processes add pairs).
func (m *Map) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = m.Refresh(ctx)
		}
	}
}

// Empty is true while no pair exists (the wrapper then does nothing).
func (m *Map) Empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.fwd) == 0
}

// ToLegacy is the legacy id of a FHIR-created resource, from the cache.
func (m *Map) ToLegacy(typ, fhirID string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	l, ok := m.fwd[pair{typ, fhirID}]
	return l, ok
}

// ToFHIR is the FHIR id of a legacy row created through the map.
func (m *Map) ToFHIR(typ, legacyID string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.rev[pair{typ, legacyID}]
	return f, ok
}

// lookup asks the store (a pair another process made in the last second).
func (m *Map) lookup(ctx context.Context, typ, fhirID string) (legacyID string, pending, found bool, err error) {
	k := pair{typ, fhirID}
	m.mu.RLock()
	at, recent := m.missed[k]
	m.mu.RUnlock()
	if recent && time.Since(at) < time.Second {
		return "", false, false, nil
	}
	l, pending, found, err := m.store.LookupID(ctx, typ, fhirID)
	if err != nil {
		return "", false, false, fmt.Errorf("id map: %w", err)
	}
	if !found {
		m.mu.Lock()
		if len(m.missed) > 10000 {
			m.missed = map[pair]time.Time{}
		}
		m.missed[k] = time.Now()
		m.mu.Unlock()
		return "", false, false, nil
	}
	if pending {
		return "", true, true, nil
	}
	m.remember(typ, fhirID, l)
	return l, false, true, nil
}

func (m *Map) remember(typ, fhirID, legacyID string) {
	m.mu.Lock()
	m.fwd[pair{typ, fhirID}], m.rev[pair{typ, legacyID}] = legacyID, fhirID
	delete(m.missed, pair{typ, fhirID})
	m.mu.Unlock()
}

// reserve records that fhirID is about to get a legacy row. It fails with
// ErrInterrupted when an earlier reservation was never completed.
func (m *Map) reserve(ctx context.Context, typ, fhirID string) error {
	ok, err := m.store.ReserveID(ctx, typ, fhirID, time.Now())
	if err != nil {
		return fmt.Errorf("id map: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: %s/%s has a reservation without a legacy id; check legacy for a row made for it, then record it or delete the reservation", ErrInterrupted, typ, fhirID)
	}
	return nil
}

// hold reserves fhirID for good, without a legacy id: the FHIR server
// assigned it, and legacy cannot hold the resource under it (its key names
// another row, or comes from a sequence). held finds it, so later writes
// of that id are not mirrored into the row either; an operator deletes the
// reservation once the clash is resolved.
func (m *Map) hold(ctx context.Context, typ, fhirID string) error {
	if _, err := m.store.ReserveID(ctx, typ, fhirID, time.Now()); err != nil {
		return fmt.Errorf("id map: %w", err)
	}
	m.mu.Lock()
	delete(m.missed, pair{typ, fhirID})
	m.mu.Unlock()
	return nil
}

// held tells whether fhirID is reserved without a legacy id, asking the
// store every time (the cache holds completed pairs only, and a miss
// remembered for a second could hide a hold another process just made).
func (m *Map) held(ctx context.Context, typ, fhirID string) (bool, error) {
	_, pending, _, err := m.store.LookupID(ctx, typ, fhirID)
	if err != nil {
		return false, fmt.Errorf("id map: %w", err)
	}
	return pending, nil
}

// complete records the legacy id of a reserved FHIR id.
func (m *Map) complete(ctx context.Context, typ, fhirID, legacyID string) error {
	if err := m.store.CompleteID(ctx, typ, fhirID, legacyID); err != nil {
		return fmt.Errorf("id map: %w", err)
	}
	m.remember(typ, fhirID, legacyID)
	return nil
}

// release drops an uncompleted reservation (the legacy insert failed, so
// nothing exists to pair).
func (m *Map) release(ctx context.Context, typ, fhirID string) {
	m.store.ReleaseID(ctx, typ, fhirID)
}
