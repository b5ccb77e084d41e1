package tombstone

import (
	"context"
	"fmt"

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
// live resource wins); one that rolls back after re-creating a deleted id
// has cleared its tombstone, so that id then answers 404 instead of 410.
func (b *Backend) Transact(ctx context.Context, types []string, fn func(ctx context.Context) error) error {
	t, ok := b.Inner.(backend.Transactor)
	if !ok {
		return fmt.Errorf("%w: the %s backend runs no transactions", backend.ErrNotSupported, b.Inner.Name())
	}
	return t.Transact(ctx, types, fn)
}

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
