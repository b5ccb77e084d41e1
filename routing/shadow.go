package routing

import (
	"context"
	"errors"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// shadowReads serves reads on the shadow route: answered by legacy, with a
// sampled share also fetched from the FHIR server in the background and
// compared. (Writes go through the router's fence.)
type shadowReads struct {
	backend.Backend // legacy
	Compare         Sampler
}

// Sampler takes shadow reads to compare with the FHIR server in the
// background (compare.Comparer); it must never block the read.
type Sampler interface {
	Sample(typ string, res []*backend.Resource)
}

// Read implements backend.Backend.
func (s shadowReads) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	r, err := s.Backend.Read(ctx, typ, id)
	if err == nil && s.Compare != nil {
		s.Compare.Sample(typ, []*backend.Resource{r})
	}
	return r, err
}

// Search implements backend.Backend.
func (s shadowReads) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	res, err := s.Backend.Search(ctx, typ, q, opts)
	if err == nil && len(res.Resources) > 0 && s.Compare != nil {
		s.Compare.Sample(typ, res.Resources)
	}
	return res, err
}

// errNoFHIR is served when a type is routed to the FHIR server but none is
// configured: failing loudly beats answering from stale legacy data.
var errNoFHIR = errors.New("this type is routed to the FHIR server, but FHIRFACADE_FHIR_URL is not set")
