package tombstone

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/fhirfacade/fhirfacade/backend"
)

// HistoryPolicy implements backend.Versioned: the inner backend's when it
// keeps history, else the current version only (with the tombstone).
func (b *Backend) HistoryPolicy() backend.HistoryPolicy {
	if p := backend.PolicyOf(b.Inner); p != backend.NoHistory {
		return p
	}
	return backend.CurrentOnly
}

// versioned is the inner backend's own history, if it keeps one.
func (b *Backend) versioned() (backend.Versioned, bool) {
	v, ok := b.Inner.(backend.Versioned)
	return v, ok && v.HistoryPolicy() != backend.NoHistory
}

// VRead implements backend.Versioned. Without history of the inner
// backend, only the current version can be read: another version id is
// ErrNotFound saying so.
func (b *Backend) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	if v, ok := b.versioned(); ok {
		r, err := v.VRead(ctx, typ, id, vid)
		if err != nil {
			// a version of a resource the server dropped on delete
			return nil, b.gone(ctx, typ, id, err)
		}
		return r, nil
	}
	r, err := b.Read(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if r.VersionID != vid {
		return nil, fmt.Errorf("%w: %s/%s has no version %s here: the %s backend keeps no history of %s, only the current version (%s)",
			backend.ErrNotFound, typ, id, vid, b.Inner.Name(), typ, r.VersionID)
	}
	return r, nil
}

// History implements backend.Versioned. Without history of the inner
// backend it is one entry: the current version, or the delete that the
// tombstone records.
func (b *Backend) History(ctx context.Context, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	if v, ok := b.versioned(); ok {
		h, err := v.History(ctx, typ, id, opts)
		if errors.Is(err, backend.ErrNotFound) && opts.Cursor == "" {
			// a server that drops deleted resources forgets their history
			// too: what is left to tell is the delete
			return b.deletedHistory(ctx, typ, id, err)
		}
		return h, err
	}
	if opts.Cursor != "" {
		return nil, fmt.Errorf("%w: this history has one page", backend.ErrInvalid)
	}
	r, err := b.Inner.Read(ctx, typ, id)
	if errors.Is(err, backend.ErrNotFound) {
		return b.deletedHistory(ctx, typ, id, err)
	}
	if err != nil {
		return nil, err
	}
	return &backend.HistoryPage{Entries: []backend.HistoryEntry{{Method: http.MethodPut, Status: "200",
		VersionID: r.VersionID, LastUpdated: r.LastUpdated, Resource: r}}}, nil
}

// deletedHistory is the history of a resource the inner backend does not
// have: its delete when it has a tombstone, else notFound.
func (b *Backend) deletedHistory(ctx context.Context, typ, id string, notFound error) (*backend.HistoryPage, error) {
	t, found, err := b.Store.TombstoneOf(ctx, typ, id)
	if err != nil {
		return nil, fmt.Errorf("%w: tombstones: %v", backend.ErrUnavailable, err)
	}
	if !found {
		return nil, notFound
	}
	return &backend.HistoryPage{Entries: []backend.HistoryEntry{{Method: http.MethodDelete, Status: "204",
		VersionID: t.VersionID, LastUpdated: t.DeletedAt}}}, nil
}
