package events

import (
	"context"
	"errors"
	"fmt"
)

// ErrSinkUnavailable marks a failed delivery that says nothing about the
// event: the sink could not be reached, did not answer in time, or
// answered that it cannot take events now. The publisher retries such a
// failure with backoff for as long as it lasts and never counts it toward
// MaxAttempts: only an event the sink refused is dead-lettered. Sinks wrap
// it around their transport-level failures (sinkUnavailable, byStatus).
var ErrSinkUnavailable = errors.New("sink unavailable")

// errLeaseCut marks a batch the publisher cut itself: its context ended at
// the lease bound while the publisher's own context still runs. The sink
// was slow; it refused nothing.
var errLeaseCut = errors.New("cut at the lease bound")

// unavailableStatus is the one table of HTTP statuses (webhook, Event
// Grid, and JetStream API errors, which carry one) that say "not now"
// rather than "not this event": retried for as long as they last, never
// dead-lettered. Every other non-2xx status is a refusal of the event.
var unavailableStatus = []struct{ lo, hi int }{
	// the sink refuses the facade, not the event: a rotated key, a
	// revoked permission, a moved endpoint or topic. Dead-lettering would
	// drain the whole queue until an operator fixes the configuration.
	{401, 401}, // Unauthorized
	{403, 403}, // Forbidden
	{404, 404}, // Not Found
	{408, 408}, // Request Timeout
	{425, 425}, // Too Early
	{429, 429}, // Too Many Requests
	{500, 599}, // the server's own failure: 500, 502, 503, 504, …
}

// byStatus is err, marked ErrSinkUnavailable when status is in
// unavailableStatus.
func byStatus(status int, err error) error {
	for _, r := range unavailableStatus {
		if status >= r.lo && status <= r.hi {
			return sinkUnavailable(err)
		}
	}
	return err
}

// sinkUnavailable is err marked ErrSinkUnavailable.
func sinkUnavailable(err error) error {
	return fmt.Errorf("%w (%w)", err, ErrSinkUnavailable)
}

// leaseCut is err marked errLeaseCut when bounded (ctx bounded by the
// lease) ended while ctx still runs.
func leaseCut(ctx, bounded context.Context, err error) error {
	if err == nil || ctx.Err() != nil || bounded.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", err, errLeaseCut)
}
