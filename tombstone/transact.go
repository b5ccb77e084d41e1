package tombstone

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/fhirfacade/fhirfacade/backend"
)

var (
	_ backend.Transactor   = (*Backend)(nil)
	_ backend.BundleSender = (*Backend)(nil)
)

// Transact implements backend.Transactor when the inner backend does: the
// unit's writes pass through this wrapper, so its deletes leave tombstones
// and its creates clear them. The tombstone rows are control-store rows,
// outside the inner backend's transaction: a unit that rolls back after a
// delete leaves a tombstone beside a live resource, which is harmless (a
// live resource wins). The creates' clears wait for the unit's commit and
// then run together (one statement per type): a unit that rolls back
// after re-creating a deleted id keeps its tombstone (410, not 404), and
// 100 creates cost one control-store statement, not 100.
func (b *Backend) Transact(ctx context.Context, types []string, fn func(ctx context.Context) error) error {
	t, ok := b.Inner.(backend.Transactor)
	if !ok {
		return fmt.Errorf("%w: the %s backend runs no transactions", backend.ErrNotSupported, b.Inner.Name())
	}
	u := &unitClears{}
	err := t.Transact(ctx, types, func(ctx context.Context) error {
		// the inner backend may run fn again (a serialization failure):
		// only the last, committed run's creates count
		u.ids = map[string][]string{}
		return fn(context.WithValue(ctx, unitKey{}, u))
	})
	if err != nil {
		return err
	}
	for _, typ := range slices.Sorted(maps.Keys(u.ids)) {
		if err := b.Store.ClearTombstones(ctx, typ, u.ids[typ]...); err != nil {
			return fmt.Errorf("%w: the transaction is stored, but old tombstones of %s could not be removed: %v", backend.ErrUnavailable, typ, err)
		}
	}
	return nil
}

// unitKey marks a context inside Transact: clears are collected there.
type unitKey struct{}

// unitClears are the ids whose tombstones a unit's creates clear, by type.
type unitClears struct {
	ids map[string][]string
}

func (u *unitClears) add(typ, id string) { u.ids[typ] = append(u.ids[typ], id) }

// SendTransaction implements backend.BundleSender when the inner backend
// does. The Bundle goes to the FHIR server whole, so deletes inside it leave
// no tombstone (a later read of such a resource is what the server answers).
func (b *Backend) SendTransaction(ctx context.Context, types []string, bundle []byte) ([]byte, error) {
	s, ok := b.Inner.(backend.BundleSender)
	if !ok {
		return nil, fmt.Errorf("%w: the %s backend does not take transaction Bundles", backend.ErrNotSupported, b.Inner.Name())
	}
	return s.SendTransaction(ctx, types, bundle)
}
