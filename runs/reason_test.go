package runs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/parity"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/runs"
	"github.com/fhirfacade/fhirfacade/search"
)

// leaky is what a backend's error chain can hold: SQL text and a stored
// value.
const leaky = `SELECT ssn FROM patient WHERE ssn = '078-05-1120'`

func TestReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string // Reason's text starts with this
	}{
		{fmt.Errorf("%w: Patient legacy -> fhir: no passing parity report", routing.ErrRefused), "move refused: Patient legacy -> fhir: no passing parity report"},
		{fmt.Errorf("%w: Patient is at version 3, not 2", routing.ErrStale), "route changed concurrently"},
		{fmt.Errorf("sync Patient: %w: legacy read: %s", backend.ErrUnavailable, leaky), "a backing store was unavailable"},
		{fmt.Errorf("sync Patient: %w: upstream said %s", backend.ErrUnprocessable, leaky), "the FHIR server refused a resource"},
		{fmt.Errorf("sync: %w", context.Canceled), "cancelled"},
		{errors.New(leaky), "internal error"},
	} {
		got := runs.Reason(c.err)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("Reason(%v) = %q, want it to start with %q", c.err, got, c.want)
		}
		if strings.Contains(got, "078-05") || strings.Contains(got, "SELECT") {
			t.Errorf("Reason(%v) = %q leaks the backend's text", c.err, got)
		}
	}
}

// failingSearch is a backend whose searches fail with a driver-like
// message (a fake inside this unit: parity's own tests use real ones).
type failingSearch struct{ backend.Backend }

func (failingSearch) Search(context.Context, string, *search.Query, backend.SearchOptions) (*backend.SearchResult, error) {
	return nil, fmt.Errorf("%w: legacy search: %s", backend.ErrUnavailable, leaky)
}

// TestParityStoppedAuditsNoBackendText: a parity run stopped by a backend
// error leaves an audit record that says what kind of failure it was and
// not the backend's text.
func TestParityStoppedAuditsNoBackendText(t *testing.T) {
	ctx := context.Background()
	ctl, err := control.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	_, err = runs.Parity(ctx, failingSearch{}, failingSearch{}, ctl, runs.Actor{User: "eng-1", Source: "cli"}, parity.Options{Type: "Patient"})
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("parity: %v, want the backend's error returned to the caller", err)
	}
	var recs []*audit.Record
	_ = (&audit.Store{DB: ctl.DB}).Each(ctx, time.Time{}, func(r *audit.Record) error { recs = append(recs, r); return nil })
	if len(recs) != 1 {
		t.Fatalf("%d audit records, want 1", len(recs))
	}
	if d := recs[0].Detail; strings.Contains(d, "SELECT") || strings.Contains(d, "078-05") || !strings.Contains(d, "unavailable") {
		t.Errorf("audit detail %q: want the kind of failure without the backend's text", d)
	}
}
