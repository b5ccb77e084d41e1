package idmap

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
)

var _ backend.Versioned = (*Backend)(nil)

// HistoryPolicy implements backend.Versioned: the inner backend's.
func (b *Backend) HistoryPolicy() backend.HistoryPolicy { return backend.PolicyOf(b.Inner) }

// versioned is the inner backend's history and the legacy id behind id.
func (b *Backend) versioned(ctx context.Context, typ, id string) (backend.Versioned, string, error) {
	v, ok := b.Inner.(backend.Versioned)
	if !ok || v.HistoryPolicy() == backend.NoHistory {
		return nil, "", fmt.Errorf("%w: the %s backend keeps no history of %s", backend.ErrNotSupported, b.Inner.Name(), typ)
	}
	l, err := b.legacyID(ctx, typ, id)
	return v, l, err
}

// VRead implements backend.Versioned, translating the id both ways.
func (b *Backend) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	v, l, err := b.versioned(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	r, err := v.VRead(ctx, typ, l, vid)
	if err != nil {
		return nil, err
	}
	return b.out(r)
}

// History implements backend.Versioned, translating the id both ways.
func (b *Backend) History(ctx context.Context, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	v, l, err := b.versioned(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	h, err := v.History(ctx, typ, l, opts)
	if err != nil {
		return nil, err
	}
	for i, e := range h.Entries {
		if e.Resource != nil {
			if h.Entries[i].Resource, err = b.out(e.Resource); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}
