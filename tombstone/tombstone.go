// Package tombstone is a Backend wrapper that remembers the deletes made
// through it, so that a deleted resource answers 410 Gone (read, vread,
// history) instead of 404 — on backends that forget a deleted resource
// entirely: legacy tables, and FHIR servers that drop deleted resources
// (the test server does). Around a backend without history of its own
// (legacy) it also serves vread and instance history from the current
// version and the tombstone.
//
// Rules:
//   - A live resource always wins over its tombstone: the tombstone is only
//     looked at when the inner backend does not have the resource. So a
//     tombstone left beside a live resource (a crash between the two steps
//     of a delete, a row re-inserted by direct SQL) is harmless.
//   - The tombstone is written before the resource is deleted (see Delete),
//     so no crash can leave a deleted resource without one.
//   - A create or update that stores the id again clears it.
//   - The wrapper offers no backend.Batcher on purpose: a batch passed to
//     the inner backend would delete without tombstones, so BatchOf sends
//     a batch through the wrapper one entry at a time (sync writes to the
//     bare FHIR backend and keeps its batches).
//
// The tombstones live in the control store, keyed by public type and id,
// shared by the wrappers around legacy and around the FHIR server: ids are
// the same on both sides (sync writes with PUT to the same id), so a
// resource deleted on one route still answers 410 after its type moves.
package tombstone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/search"
)

// Store keeps the tombstones (control.Store).
type Store interface {
	PutTombstone(ctx context.Context, t control.Tombstone) error
	TombstoneOf(ctx context.Context, typ, id string) (control.Tombstone, bool, error)
	ClearTombstones(ctx context.Context, typ string, ids ...string) error
}

var _ Store = (*control.Store)(nil)

// Backend wraps Inner with tombstones kept in Store.
type Backend struct {
	Inner backend.Backend
	Store Store
	// Now is the clock of deletes (nil: time.Now).
	Now func() time.Time
}

var (
	_ backend.Backend       = (*Backend)(nil)
	_ backend.Versioned     = (*Backend)(nil)
	_ backend.WriteChecker  = (*Backend)(nil)
	_ backend.DeleteChecker = (*Backend)(nil)
	_ backend.IDChecker     = (*Backend)(nil)
)

// Name implements backend.Backend (the inner name: page tokens, metrics
// and the router name the wrapped backend).
func (b *Backend) Name() string { return b.Inner.Name() }

// Ping implements backend.Backend.
func (b *Backend) Ping(ctx context.Context) error { return b.Inner.Ping(ctx) }

// Search implements backend.Backend (deleted resources are not found by
// searches: nothing to add).
func (b *Backend) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	return b.Inner.Search(ctx, typ, q, opts)
}

// CheckWrite implements backend.WriteChecker by forwarding.
func (b *Backend) CheckWrite(ctx context.Context, typ, id string, body map[string]any) error {
	if c, ok := b.Inner.(backend.WriteChecker); ok {
		return c.CheckWrite(ctx, typ, id, body)
	}
	return nil
}

// CheckDelete implements backend.DeleteChecker when the inner backend does.
func (b *Backend) CheckDelete(ctx context.Context, typ string) error {
	if c, ok := b.Inner.(backend.DeleteChecker); ok {
		return c.CheckDelete(ctx, typ)
	}
	return nil
}

// CheckWriteID implements backend.IDChecker when the inner backend does.
func (b *Backend) CheckWriteID(ctx context.Context, typ, id string, assigned bool) error {
	if c, ok := b.Inner.(backend.IDChecker); ok {
		return c.CheckWriteID(ctx, typ, id, assigned)
	}
	return nil
}

// gone turns a not-found answer about typ/id into ErrGone when the
// resource has a tombstone; any other answer passes unchanged.
func (b *Backend) gone(ctx context.Context, typ, id string, err error) error {
	if !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	t, found, terr := b.Store.TombstoneOf(ctx, typ, id)
	if terr != nil {
		return fmt.Errorf("%w: tombstones: %v", backend.ErrUnavailable, terr)
	}
	if !found {
		return err
	}
	return fmt.Errorf("%w: %s/%s was deleted at %s (version %s)", backend.ErrGone, typ, id, t.DeletedAt.UTC().Format(time.RFC3339), t.VersionID)
}

// Read implements backend.Backend.
func (b *Backend) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	r, err := b.Inner.Read(ctx, typ, id)
	if err != nil {
		return nil, b.gone(ctx, typ, id, err)
	}
	return r, nil
}

// Create implements backend.Backend. A new resource clears any tombstone
// of its id (a legacy table may hand out a deleted row's key again).
func (b *Backend) Create(ctx context.Context, typ string, body map[string]any, ifNoneExist *search.Query) (*backend.Resource, bool, error) {
	r, created, err := b.Inner.Create(ctx, typ, body, ifNoneExist)
	if err != nil || !created {
		return r, created, err
	}
	return r, created, b.clear(ctx, r)
}

// Update implements backend.Backend: an update-as-create clears the
// tombstone of the id.
func (b *Backend) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	r, created, err := b.Inner.Update(ctx, typ, id, body, ifMatch)
	if err != nil {
		return r, created, err
	}
	return r, created, b.clear(ctx, r)
}

// clear removes r's tombstone after r was stored — inside a unit
// (Transact), once the unit has committed. A failure is not the write's
// failure (the resource is stored, and a live resource wins over a
// tombstone), but it is reported as unavailable so the client retries and
// the history stays truthful.
func (b *Backend) clear(ctx context.Context, r *backend.Resource) error {
	if u, ok := ctx.Value(unitKey{}).(*unitClears); ok {
		u.add(r.Type, r.ID)
		return nil
	}
	if err := b.Store.ClearTombstones(ctx, r.Type, r.ID); err != nil {
		return fmt.Errorf("%w: %s/%s is stored, but its old tombstone could not be removed: %v", backend.ErrUnavailable, r.Type, r.ID, err)
	}
	return nil
}

// Delete implements backend.Backend. A resource that does not exist is
// deleted as the inner backend deletes it (FHIR delete is idempotent) and
// gets no tombstone: only a resource that was there can be gone.
func (b *Backend) Delete(ctx context.Context, typ, id, ifMatch string) error {
	cur, err := b.Inner.Read(ctx, typ, id)
	if errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone) {
		return b.Inner.Delete(ctx, typ, id, ifMatch)
	}
	if err != nil {
		return err
	}
	if ifMatch != "" && ifMatch != cur.VersionID {
		return fmt.Errorf("%w: %s/%s is at version %s, not %s", backend.ErrPreconditionFailed, typ, id, cur.VersionID, ifMatch)
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	// DANGEROUS STEP: two stores, no transaction spans them. The tombstone
	// goes first: if the process dies before the delete below, the
	// resource is still live and wins over its tombstone (reads serve it;
	// the client, which got no answer, deletes again). The other order
	// could lose the tombstone: a crash after the delete would leave a
	// deleted resource answering 404 for ever.
	if err := b.Store.PutTombstone(ctx, control.Tombstone{Type: typ, ID: id, VersionID: cur.VersionID, DeletedAt: now().UTC()}); err != nil {
		return fmt.Errorf("%w: the delete of %s/%s is refused: its tombstone could not be written: %v", backend.ErrUnavailable, typ, id, err)
	}
	if err := b.Inner.Delete(ctx, typ, id, ifMatch); err != nil {
		// the resource is still there and wins over the tombstone; the
		// tombstone is removed only to keep the table tidy
		if errors.Is(err, backend.ErrPreconditionFailed) || errors.Is(err, backend.ErrConflict) {
			_ = b.Store.ClearTombstones(context.WithoutCancel(ctx), typ, id)
		}
		return err
	}
	return nil
}

// Bare is b without its tombstone wrapper (b itself when it has none): the
// backend the outbox mirror writes through. Mirror writes must not touch
// tombstones: a mirror row copies a state it read a moment earlier, so an
// update it replays after the resource was deleted on the system of record
// would clear the tombstone that delete left (the resource then answers 404
// instead of 410 until the delete's own mirror row runs). The system of
// record's wrapper already keeps the tombstones, shared by public type and
// id, for both sides.
func Bare(b backend.Backend) backend.Backend {
	if t, ok := b.(*Backend); ok {
		return t.Inner
	}
	return b
}
