package idmap

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
)

var _ backend.Versioned = (*Backend)(nil)

// HistoryPolicy implements backend.Versioned: the inner backend's.
func (b *Backend) HistoryPolicy() backend.HistoryPolicy { return backend.PolicyOf(b.Inner) }

func (b *Backend) versioned(typ string) (backend.Versioned, error) {
	if v, ok := b.Inner.(backend.Versioned); ok && v.HistoryPolicy() != backend.NoHistory {
		return v, nil
	}
	return nil, fmt.Errorf("%w: the %s backend keeps no history of %s", backend.ErrNotSupported, b.Inner.Name(), typ)
}

// VRead implements backend.Versioned, translating the id both ways.
func (b *Backend) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	v, err := b.versioned(typ)
	if err != nil {
		return nil, err
	}
	l, err := b.legacyID(ctx, typ, id)
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
	v, err := b.versioned(typ)
	if err != nil {
		return nil, err
	}
	l, err := b.legacyID(ctx, typ, id)
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
