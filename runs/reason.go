package runs

import (
	"context"
	"errors"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/routing"
)

// ownWords are the errors whose whole text is the facade's own (a route
// move's refusal names the rule that refused it): safe to store as is.
var ownWords = []error{routing.ErrRefused, routing.ErrStale, routing.ErrUnknown}

// kinds name the failures whose text may not be the facade's own: a
// backend's error chain can carry a driver message or a FHIR server's
// OperationOutcome diagnostics, which may quote stored values (PHI) or SQL.
// Only the kind is stored; the chain goes to the operator's terminal or
// the server log.
var kinds = []struct {
	err error
	say string
}{
	{context.Canceled, "cancelled (run it again to resume)"},
	{context.DeadlineExceeded, "timed out (run it again to resume)"},
	{backend.ErrUnavailable, "a backing store was unavailable (run it again to resume)"},
	{backend.ErrUnmappable, "a stored value cannot be mapped"},
	{backend.ErrUnprocessable, "the FHIR server refused a resource"},
	{backend.ErrInvalid, "the FHIR server refused a request"},
	{backend.ErrNotSupported, "not supported by a backend"},
	{backend.ErrConflict, "a conflicting change"},
	{backend.ErrPreconditionFailed, "a concurrent change"},
}

// Reason is what the audit trail and the console journal say about err:
// the facade's own refusal text, or the kind of failure and where to look,
// never a backend's text.
func Reason(err error) string {
	for _, e := range ownWords {
		if errors.Is(err, e) {
			return err.Error()
		}
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.say + "; the details are in the server log"
		}
	}
	return "internal error; the details are in the server log"
}
