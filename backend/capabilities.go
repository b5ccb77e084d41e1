package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Optional capabilities. A Backend offers one by implementing its
// interface; callers find it by type assertion (or through a helper such
// as BatchOf that falls back to the plain interface).

// BatchEntry is one request of a batch: a PUT (with the resource) or a
// DELETE of Type/id.
type BatchEntry struct {
	Method   string // PUT or DELETE
	URL      string // Type/id
	Resource json.RawMessage
}

// BatchResult is the answer to one entry: an HTTP status and, for a
// failure, the reason.
type BatchResult struct {
	Status int
	Detail string
}

// Batcher runs many independent writes in one round trip (a FHIR batch
// Bundle). Entries succeed or fail one by one; results are in entry order.
type Batcher interface {
	Batch(ctx context.Context, entries []BatchEntry) ([]BatchResult, error)
}

// BatchOf is b's own Batcher, or one that sends the entries one by one
// through Update and Delete.
func BatchOf(b Backend) Batcher {
	if bb, ok := b.(Batcher); ok {
		return bb
	}
	return oneByOne{b}
}

type oneByOne struct{ b Backend }

func (o oneByOne) Batch(ctx context.Context, entries []BatchEntry) ([]BatchResult, error) {
	out := make([]BatchResult, len(entries))
	for i, e := range entries {
		typ, id, ok := strings.Cut(e.URL, "/")
		if !ok {
			out[i] = BatchResult{Status: 400, Detail: "want Type/id"}
			continue
		}
		var err error
		switch e.Method {
		case http.MethodPut:
			var body map[string]any
			if err = json.Unmarshal(e.Resource, &body); err == nil {
				_, _, err = o.b.Update(ctx, typ, id, body, "")
			}
		case http.MethodDelete:
			err = o.b.Delete(ctx, typ, id, "")
		default:
			err = fmt.Errorf("%w: %s in a batch", ErrNotSupported, e.Method)
		}
		if errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
			return nil, err
		}
		out[i] = BatchResult{Status: statusOf(err)}
		if err != nil {
			out[i].Detail = err.Error()
		}
	}
	return out, nil
}

// statusOf is the HTTP status a backend error stands for.
func statusOf(err error) int {
	for _, s := range []struct {
		err    error
		status int
	}{{ErrNotFound, 404}, {ErrGone, 410}, {ErrConflict, 409}, {ErrPreconditionFailed, 412},
		{ErrUnprocessable, 422}, {ErrInvalid, 400}, {ErrNotSupported, 405}} {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	if err != nil {
		return 500
	}
	return 200
}

// Transactor runs several writes as one all-or-nothing unit (a FHIR
// transaction Bundle on one backend). Inside fn, every call of the
// backend made with fn's context — writes and reads alike — joins one
// transaction: it commits when fn returns nil and is undone when fn fails.
// fn may be called more than once (a serialization failure re-runs the
// whole unit), so it must start from scratch each time. types names every
// resource type fn will write: a wrapper that fences writes per type
// (routing) fences them all before fn starts.
type Transactor interface {
	Transact(ctx context.Context, types []string, fn func(ctx context.Context) error) error
}

type inTransactionKey struct{}

// WithTransaction marks ctx as inside a Transactor's unit, for wrappers
// that must refuse what they cannot make part of it.
func WithTransaction(ctx context.Context) context.Context {
	return context.WithValue(ctx, inTransactionKey{}, true)
}

// InTransaction reports whether ctx carries WithTransaction.
func InTransaction(ctx context.Context) bool {
	v, _ := ctx.Value(inTransactionKey{}).(bool)
	return v
}

// RouteNamer is an optional capability of a Routes snapshot: the name of
// a type's route (its state), for messages that must say where a type is
// served from.
type RouteNamer interface {
	RouteOf(typ string) string
}

// BundleSender forwards a transaction Bundle whole to a FHIR server that
// runs it as one unit itself (the entries cannot be run one by one inside
// a transaction there, as Transactor's are). types names every resource
// type of the Bundle, for wrappers that fence writes per type.
type BundleSender interface {
	// SendTransaction posts bundle and returns the server's
	// transaction-response, or an error wrapping the sentinel of the
	// status the server refused it with.
	SendTransaction(ctx context.Context, types []string, bundle []byte) ([]byte, error)
}
