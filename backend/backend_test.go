package backend_test

import (
	"errors"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
)

// TestReferencedError: the 409 names the referring types as a list, or
// says only that other records refer when none is known; it is an
// ErrConflict.
func TestReferencedError(t *testing.T) {
	for _, tc := range []struct {
		by   []string
		want string
	}{
		{nil, "conflict: other records still refer to Patient/7; it cannot be deleted while they do"},
		{[]string{"Observation"}, "conflict: Observation resources refer to Patient/7; delete them first"},
		{[]string{"Encounter", "Observation"}, "conflict: Encounter and Observation resources refer to Patient/7; delete them first"},
		{[]string{"Condition", "Encounter", "Observation"}, "conflict: Condition, Encounter and Observation resources refer to Patient/7; delete them first"},
	} {
		err := error(&backend.ReferencedError{Type: "Patient", ID: "7", By: tc.by})
		if err.Error() != tc.want || !errors.Is(err, backend.ErrConflict) {
			t.Errorf("%v: %q (conflict %v), want %q", tc.by, err, errors.Is(err, backend.ErrConflict), tc.want)
		}
	}
}
