package routing

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
)

// History reads (vread, instance history) are reads: they go to the
// backend the snapshot names for reads, like Read. The wrappers embed
// backend.Backend, which hides the inner backend's optional capabilities,
// so they forward backend.Versioned explicitly.

var (
	_ backend.Versioned = routed{}
	_ backend.Versioned = shadowReads{}
	_ backend.Versioned = unavailable{}
)

// versionedOf is be's history, or ErrNotSupported naming the backend.
func versionedOf(be backend.Backend, typ string) (backend.Versioned, error) {
	if v, ok := be.(backend.Versioned); ok && v.HistoryPolicy() != backend.NoHistory {
		return v, nil
	}
	return nil, fmt.Errorf("%w: the %s backend keeps no history of %s", backend.ErrNotSupported, be.Name(), typ)
}

func vread(ctx context.Context, be backend.Backend, typ, id, vid string) (*backend.Resource, error) {
	v, err := versionedOf(be, typ)
	if err != nil {
		return nil, err
	}
	return v.VRead(ctx, typ, id, vid)
}

func history(ctx context.Context, be backend.Backend, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	v, err := versionedOf(be, typ)
	if err != nil {
		return nil, err
	}
	return v.History(ctx, typ, id, opts)
}

// HistoryPolicy implements backend.Versioned.
func (x routed) HistoryPolicy() backend.HistoryPolicy { return backend.PolicyOf(x.Backend) }

// VRead implements backend.Versioned.
func (x routed) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	return vread(ctx, x.Backend, typ, id, vid)
}

// History implements backend.Versioned.
func (x routed) History(ctx context.Context, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	return history(ctx, x.Backend, typ, id, opts)
}

// HistoryPolicy implements backend.Versioned: legacy's (shadow reads are
// legacy's answers).
func (s shadowReads) HistoryPolicy() backend.HistoryPolicy { return backend.PolicyOf(s.Backend) }

// VRead implements backend.Versioned (not sampled: the comparison is of
// current versions).
func (s shadowReads) VRead(ctx context.Context, typ, id, vid string) (*backend.Resource, error) {
	return vread(ctx, s.Backend, typ, id, vid)
}

// History implements backend.Versioned.
func (s shadowReads) History(ctx context.Context, typ, id string, opts backend.HistoryOptions) (*backend.HistoryPage, error) {
	return history(ctx, s.Backend, typ, id, opts)
}

// HistoryPolicy implements backend.Versioned: a FHIR server would keep
// every version; the calls answer 503 like every other.
func (unavailable) HistoryPolicy() backend.HistoryPolicy { return backend.AllVersions }

// VRead implements backend.Versioned.
func (u unavailable) VRead(context.Context, string, string, string) (*backend.Resource, error) {
	return nil, u.err()
}

// History implements backend.Versioned.
func (u unavailable) History(context.Context, string, string, backend.HistoryOptions) (*backend.HistoryPage, error) {
	return nil, u.err()
}
