package routing

import (
	"context"
	"fmt"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// Router gives the facade a backend per type from the watched table:
// legacy -> legacy; shadow -> legacy with sampled comparison and mirrored
// writes; fhir -> the FHIR server with the reverse mirror; fhir-only -> the
// FHIR server alone.
type Router struct {
	w        *Watcher
	types    map[string]bool
	legacy   backend.Backend
	fhir     backend.Backend
	shadow   backend.Backend
	mirrored backend.Backend
}

// NewRouter wires the route states to backends. fhir may be nil (no
// FHIRFACADE_FHIR_URL): types routed to it then answer 503.
func NewRouter(w *Watcher, types map[string]bool, legacy, fhir backend.Backend, out *Outbox, cmp *Comparer) *Router {
	r := &Router{w: w, types: types, legacy: legacy, fhir: fhir}
	if fhir == nil {
		r.fhir = unavailable{}
		r.shadow = &ShadowBackend{Legacy: legacy, FHIR: nil, Outbox: out}
		r.mirrored = r.fhir
	} else {
		r.shadow = &ShadowBackend{Legacy: legacy, FHIR: fhir, Outbox: out, Compare: cmp}
		r.mirrored = &Mirrored{FHIR: fhir, Outbox: out}
	}
	return r
}

// Snapshot implements facade.Router.
func (r *Router) Snapshot() backend.Routes { return snapshot{r: r, t: r.w.Current()} }

// ByName implements facade.Router.
func (r *Router) ByName(name string) backend.Backend {
	switch name {
	case r.legacy.Name():
		return r.legacy
	case r.fhir.Name():
		return r.fhir
	}
	return nil
}

// Reverse reports whether the reverse mirror still runs for typ (not once
// it is on fhir-only).
func (r *Router) Reverse(typ string) bool { return r.w.Current().State(typ) != FHIROnly }

type snapshot struct {
	r *Router
	t *Table
}

func (s snapshot) BackendFor(typ string) backend.Backend {
	if !s.r.types[typ] {
		return nil
	}
	switch s.t.State(typ) {
	case Shadow:
		return s.r.shadow
	case FHIR:
		return s.r.mirrored
	case FHIROnly:
		return s.r.fhir
	}
	return s.r.legacy
}

// unavailable answers every call with 503: a type routed to a FHIR server
// that is not configured must not be served from stale legacy data.
type unavailable struct{}

func (unavailable) Name() string { return "fhir" }
func (unavailable) err() error   { return fmt.Errorf("%w: %v", backend.ErrUnavailable, errNoFHIR) }
func (u unavailable) Ping(context.Context) error {
	return u.err()
}
func (u unavailable) Read(context.Context, string, string) (*backend.Resource, error) {
	return nil, u.err()
}
func (u unavailable) Search(context.Context, string, *search.Query, backend.SearchOptions) (*backend.SearchResult, error) {
	return nil, u.err()
}
func (u unavailable) Create(context.Context, string, map[string]any, *search.Query) (*backend.Resource, bool, error) {
	return nil, false, u.err()
}
func (u unavailable) Update(context.Context, string, string, map[string]any, string) (*backend.Resource, bool, error) {
	return nil, false, u.err()
}
func (u unavailable) Delete(context.Context, string, string, string) error { return u.err() }
