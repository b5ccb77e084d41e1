// Package backend defines the small interface every resource store of the
// facade implements (legacy SQL through mappings, an upstream FHIR server),
// its sentinel errors, and the values that cross it.
package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
)

// Sentinel errors. Backends wrap them with context (%w); the facade's one
// error handler turns them into an OperationOutcome with the right status.
var (
	ErrNotFound           = errors.New("not found")             // 404
	ErrGone               = errors.New("gone")                  // 410
	ErrConflict           = errors.New("conflict")              // 409
	ErrPreconditionFailed = errors.New("precondition failed")   // 412
	ErrNotSupported       = errors.New("not supported")         // 405 or 400
	ErrInvalid            = errors.New("invalid request")       // 400
	ErrUnprocessable      = errors.New("unprocessable content") // 422
	ErrUnavailable        = errors.New("backend unavailable")   // 503
	// ErrUnmappable: a stored row holds a value its mapping cannot
	// translate (a malformed date, an unknown code); see RowError.
	ErrUnmappable = errors.New("stored value cannot be mapped")
)

// RowError is a stored row that cannot be turned into a valid resource:
// which one, and which element and column (Detail holds the reason with
// the value, for the server's own reports; the value is PHI, so what the
// facade tells a client names only the element and column).
type RowError struct {
	Type, ID     string
	Path, Column string
	Detail       string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("%s/%s: %s (column %s): %s", e.Type, e.ID, e.Path, e.Column, e.Detail)
}

// Unwrap makes RowError an ErrUnmappable.
func (e *RowError) Unwrap() error { return ErrUnmappable }

// Public is the message a client may see: the row, element and column.
func (e *RowError) Public() string {
	return fmt.Sprintf("%s/%s: the stored value of %s (legacy column %s) cannot be mapped", e.Type, e.ID, e.Path, e.Column)
}

// ElementError is a write refused because of one element of the resource:
// Path names it (FHIRPath-like, e.g. "Patient.identifier[0].value"), and
// the facade puts it in the OperationOutcome's expression. It is an
// ErrUnprocessable (422).
type ElementError struct {
	Path string
	Msg  string
}

func (e *ElementError) Error() string { return e.Path + ": " + e.Msg }

// Unwrap makes ElementError an ErrUnprocessable.
func (e *ElementError) Unwrap() error { return ErrUnprocessable }

// InteractionError is a write its backend's mapping does not allow at all
// for the type (a create of a type whose rows only the legacy application
// makes, an update of a read-only view). It is an ErrNotSupported (400
// not-supported), worded as legacy words it on every route.
type InteractionError struct {
	Type        string
	Interaction string // "create", "update" or "delete"
}

func (e *InteractionError) Error() string {
	return fmt.Sprintf("%v: %s of %s is not allowed by its mapping", ErrNotSupported, e.Interaction, e.Type)
}

// Unwrap makes InteractionError an ErrNotSupported.
func (e *InteractionError) Unwrap() error { return ErrNotSupported }

// ReferencedError is a delete refused because other resources still refer
// to the resource (a foreign key in the legacy database): By names their
// types, sorted — none when the records that refer to it are of no type
// served here, or could not be looked up. It is an ErrConflict (409); its
// message names FHIR types only, never the tables or constraints behind
// them.
type ReferencedError struct {
	Type, ID string
	By       []string
}

func (e *ReferencedError) Error() string {
	ref := e.Type + "/" + e.ID
	switch n := len(e.By); n {
	case 0:
		return fmt.Sprintf("%v: other records still refer to %s; it cannot be deleted while they do", ErrConflict, ref)
	case 1:
		return fmt.Sprintf("%v: %s resources refer to %s; delete them first", ErrConflict, e.By[0], ref)
	default:
		return fmt.Sprintf("%v: %s and %s resources refer to %s; delete them first", ErrConflict, strings.Join(e.By[:n-1], ", "), e.By[n-1], ref)
	}
}

// Unwrap makes ReferencedError an ErrConflict.
func (e *ReferencedError) Unwrap() error { return ErrConflict }

// ValidID tells whether id follows the FHIR id grammar ([A-Za-z0-9\-.]{1,64}):
// anything else cannot name a resource, nor be spliced into a URL path.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Resource is one stored resource: its complete JSON (with id and meta) and
// the identity the HTTP layer needs for headers.
type Resource struct {
	Type        string
	ID          string
	VersionID   string
	LastUpdated time.Time
	JSON        []byte
}

// SearchOptions shape one page of a search.
type SearchOptions struct {
	Cursor string // the backend's own position from a previous page ("" first)
	Count  int    // page size
	Strict bool   // Prefer: handling=strict
	Total  bool   // count every match
	// Partial reports rows that cannot be mapped in the result instead of
	// failing the page (sync and parity count them; clients never see it).
	Partial bool
}

// Unmappable is a stored row that cannot be turned into a valid resource.
type Unmappable struct {
	ID     string
	Reason string // with the value: for the server's own reports (sync, parity)
	Public string // the row, element and column only: what a client may see
	// Path and Column name the element and legacy column, when known
	// (a RowError's).
	Path, Column string
}

// SearchResult is one page of matches.
type SearchResult struct {
	Resources []*Resource
	Next      string   // position of the next page; "" on the last page
	Total     *int     // set when SearchOptions.Total was asked
	Ignored   []string // parameters ignored in lenient mode
	// Unmappable lists rows left out of a Partial search.
	Unmappable []Unmappable
}

// Backend is what serves a resource type. Implementations must be safe for
// concurrent use.
type Backend interface {
	// Name is the backend's label in metrics and logs ("legacy", "fhir").
	Name() string
	Read(ctx context.Context, typ, id string) (*Resource, error)
	Search(ctx context.Context, typ string, q *search.Query, opts SearchOptions) (*SearchResult, error)
	// Create stores a new resource. With ifNoneExist set it is a
	// conditional create: an existing single match is returned with
	// created=false, several matches are ErrPreconditionFailed.
	Create(ctx context.Context, typ string, body map[string]any, ifNoneExist *search.Query) (res *Resource, created bool, err error)
	// Update replaces the resource with that id; ifMatch is a version id
	// ("" for none). created reports an update-as-create.
	Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (res *Resource, created bool, err error)
	Delete(ctx context.Context, typ, id string, ifMatch string) error
	// Ping checks the backend can answer (/readyz).
	Ping(ctx context.Context) error
}

// Routes is one consistent view of which backend owns each resource type.
type Routes interface {
	// BackendFor names the backend that owns a resource type (nil: not served).
	BackendFor(typ string) Backend
}

// WriteChecker is an optional capability (found by type assertion): a
// backend that can tell, without storing anything, whether it could hold
// a resource. The router asks the legacy backend before a write on a
// `fhir` route is sent upstream, so that a write the reverse mirror could
// not carry back into legacy is refused up front.
type WriteChecker interface {
	// CheckWrite returns nil, or the error a write of body to this backend
	// would give: one wrapping ErrUnprocessable that names the element at
	// fault, or an InteractionError when the backend does not take a
	// create (or update) of typ at all. id is the resource a PUT replaces
	// ("" for a create): values derived from its current state may be
	// given back unchanged.
	CheckWrite(ctx context.Context, typ, id string, body map[string]any) error
}

// DeleteChecker is WriteChecker's counterpart for deletes (an optional
// capability): whether a delete of typ could be carried into the backend.
type DeleteChecker interface {
	// CheckDelete returns nil, or an InteractionError when the backend
	// does not take deletes of typ at all.
	CheckDelete(ctx context.Context, typ string) error
}

// IDChecker is an optional capability beside WriteChecker: whether the
// reverse mirror could carry a resource with this id back into the
// backend. Legacy keys from the legacy database's own sequences cannot be
// given to a new row, so an id of that form that legacy has no row for
// cannot be mirrored; a uuid key can (the mirror inserts the row under
// it). Either way an id the FHIR server assigned that names an existing
// legacy row names an unrelated one.
type IDChecker interface {
	// CheckWriteID returns nil, or an error wrapping ErrUnprocessable that
	// says why id cannot be mirrored back. assigned says the FHIR server
	// chose id (a create); otherwise the client did (an update, which may
	// create).
	CheckWriteID(ctx context.Context, typ, id string, assigned bool) error
}

type lenientKey struct{}

// WithLenient marks a write the client sent with `Prefer: handling=lenient`:
// on a `fhir` route it is accepted even if legacy cannot hold it, and its
// reverse-mirror row is marked unmirrorable instead.
func WithLenient(ctx context.Context) context.Context {
	return context.WithValue(ctx, lenientKey{}, true)
}

// Lenient reports whether ctx carries WithLenient.
func Lenient(ctx context.Context) bool {
	v, _ := ctx.Value(lenientKey{}).(bool)
	return v
}
