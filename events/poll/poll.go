// Package poll finds changes made in a system of record without the
// facade — legacy applications writing their own tables — and queues
// their change events, so a consumer sees one stream whatever wrote the
// change.
//
// Source is the interface a change source implements. Legacy is the one
// built here: it polls each polled type's last-updated column (through the
// Backend's _lastUpdated search, i.e. the mapping specs: no SQL of its own)
// from a watermark kept in the control store, and finds deletes by
// comparing keys. A SQL Server Change Tracking source
// (CHANGETABLE(CHANGES …) from a stored version) would be another Source;
// it is not written (no SQL Server here).
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Source is a change source polled by Run.
type Source interface {
	// Poll queues the events of the changes made since the last poll.
	Poll(ctx context.Context) error
}

// Legacy polls legacy tables for changes made outside the facade.
type Legacy struct {
	// Backend is the legacy side as the facade serves it (public ids).
	Backend backend.Backend
	Ctl     *control.Store
	Queue   *events.Queue
	// Types are the mapped types; Polled says which of them are polled
	// now (those whose system of record is legacy: legacy and shadow
	// routes). A type that is not polled loses its watermark, and starts
	// from a fresh baseline (no events for what it holds) when it is
	// polled again.
	Types  []string
	Polled func(typ string) bool
	// Overlap is how far before the watermark each poll looks again:
	// rows that share the watermark's timestamp, or that committed late
	// with an earlier one, are seen again and deduplicated by identity.
	Overlap time.Duration
	// Settle is how old a change must be before the poller reports it:
	// the facade queues the events of its own writes just after they
	// commit (a transaction's once the whole unit has), and a poll in
	// between would otherwise report them first, out of their order and
	// as the poller guesses them. 0: report at once.
	Settle time.Duration
	// FullScanEvery is how many polls go by between two full key scans
	// (which find deletes, and rows committed with a time before the
	// watermark); 1 or less scans on every poll.
	FullScanEvery int
	Log           *slog.Logger

	unpollable map[string]bool
	polls      int
}

var _ Source = (*Legacy)(nil)

// page is how many rows a poll reads per search page.
const page = 1000

// Poll implements Source.
func (l *Legacy) Poll(ctx context.Context) error {
	var errs []error
	l.polls++
	for _, t := range l.Types {
		if err := l.pollType(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
		}
	}
	return errors.Join(errs...)
}

func (l *Legacy) pollType(ctx context.Context, typ string) error {
	if l.unpollable[typ] {
		return nil
	}
	if !l.Polled(typ) {
		return l.Ctl.DropPoll(ctx, typ)
	}
	wm, found, err := l.Ctl.PollWatermark(ctx, typ)
	if err != nil {
		return fmt.Errorf("watermark: %s", sqldb.Describe(err))
	}
	known, err := l.Ctl.PollKeys(ctx, typ)
	if err != nil {
		return fmt.Errorf("keys: %s", sqldb.Describe(err))
	}
	if !found {
		return l.baseline(ctx, typ)
	}
	next, err := l.changedSince(ctx, typ, wm, known)
	if err != nil {
		return err
	}
	if l.FullScanEvery <= 1 || l.polls%l.FullScanEvery == 1 {
		if err := l.deletes(ctx, typ, known); err != nil {
			return err
		}
	}
	if next.After(wm) {
		return l.Ctl.SetPollWatermark(ctx, typ, next)
	}
	return nil
}

// baseline records what typ holds now, without events: the poller reports
// changes from here on.
func (l *Legacy) baseline(ctx context.Context, typ string) error {
	wm := time.Now().Add(-l.Overlap)
	err := l.scan(ctx, typ, nil, func(r *backend.Resource) error {
		if r.LastUpdated.After(wm) {
			wm = r.LastUpdated
		}
		return l.Ctl.PutPollKey(ctx, typ, r.ID, r.VersionID)
	})
	if err != nil {
		return err
	}
	return l.Ctl.SetPollWatermark(ctx, typ, wm)
}

// changedSince queues an event for every row updated at or after the
// watermark (less the overlap) whose version the poller has not seen; it
// returns the new watermark.
func (l *Legacy) changedSince(ctx context.Context, typ string, wm time.Time, known map[string]string) (time.Time, error) {
	from := wm.Add(-l.Overlap).UTC()
	v := url.Values{"_lastUpdated": {"ge" + from.Format(stampFormat)}, "_sort": {"_lastUpdated"}}
	if l.Settle > 0 {
		v["_lastUpdated"] = append(v["_lastUpdated"], "lt"+l.settled().UTC().Format(stampFormat))
	}
	next := wm
	err := l.scan(ctx, typ, v, func(r *backend.Resource) error {
		if r.LastUpdated.After(next) {
			next = r.LastUpdated
		}
		old, seen := known[r.ID]
		if seen && old == r.VersionID {
			return nil // the boundary re-scanned
		}
		kind := events.Updated
		if !seen {
			kind = events.Created
		}
		if _, err := l.Queue.AddPolled(ctx, events.Change{Type: typ, ID: r.ID, Version: r.VersionID, Kind: kind, At: r.LastUpdated}); err != nil {
			return err
		}
		known[r.ID] = r.VersionID
		return l.Ctl.PutPollKey(ctx, typ, r.ID, r.VersionID)
	})
	return next, err
}

// stampFormat is how a _lastUpdated bound is written.
const stampFormat = "2006-01-02T15:04:05.000Z07:00"

// settled is the newest last-updated time a poll reports now.
func (l *Legacy) settled() time.Time { return time.Now().Add(-l.Settle) }

// deletes compares the keys the poller knows with those the table holds:
// every one gone is a delete (named by the last version seen). A row that
// appeared with a last-updated time before the watermark (a late commit
// outside the overlap) is reported as created here.
func (l *Legacy) deletes(ctx context.Context, typ string, known map[string]string) error {
	present := make(map[string]bool, len(known))
	settled := l.settled()
	err := l.scan(ctx, typ, nil, func(r *backend.Resource) error {
		present[r.ID] = true
		if v, ok := known[r.ID]; (ok && v == r.VersionID) || (l.Settle > 0 && !r.LastUpdated.Before(settled)) {
			return nil // unchanged, or changed too recently: a later poll reports it
		}
		kind := events.Updated
		if _, ok := known[r.ID]; !ok {
			kind = events.Created
		}
		if _, err := l.Queue.AddPolled(ctx, events.Change{Type: typ, ID: r.ID, Version: r.VersionID, Kind: kind, At: r.LastUpdated}); err != nil {
			return err
		}
		return l.Ctl.PutPollKey(ctx, typ, r.ID, r.VersionID)
	})
	if err != nil {
		return err
	}
	for id, v := range known {
		if present[id] {
			continue
		}
		if _, err := l.Queue.AddPolled(ctx, events.Change{Type: typ, ID: id, Version: v, Kind: events.Deleted}); err != nil {
			return err
		}
		if err := l.Ctl.DeletePollKey(ctx, typ, id); err != nil {
			return fmt.Errorf("keys: %s", sqldb.Describe(err))
		}
	}
	return nil
}

// scan pages through a search of typ (v nil: every row), calling fn per
// resource. Rows that cannot be mapped are skipped (Partial): an event
// names ids only, but an unmappable row has no version to name.
func (l *Legacy) scan(ctx context.Context, typ string, v url.Values, fn func(*backend.Resource) error) error {
	q, err := search.ParseQuery(v)
	if err != nil {
		return err
	}
	cursor := ""
	for {
		res, err := l.Backend.Search(ctx, typ, q, backend.SearchOptions{Cursor: cursor, Count: page, Partial: true})
		if errors.Is(err, search.ErrInvalid) || errors.Is(err, backend.ErrInvalid) {
			// no last-updated column in the spec: nothing to poll by
			l.unpollableType(typ, err)
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range res.Resources {
			if err := fn(r); err != nil {
				return err
			}
		}
		if res.Next == "" {
			return nil
		}
		cursor = res.Next
	}
}

func (l *Legacy) unpollableType(typ string, err error) {
	if l.unpollable == nil {
		l.unpollable = map[string]bool{}
	}
	l.unpollable[typ] = true
	if l.Log != nil {
		l.Log.Warn("events: legacy changes of this type cannot be polled", slog.String("type", typ), slog.String("error", err.Error()))
	}
}

// Run polls every interval until ctx ends.
func Run(ctx context.Context, s Source, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Poll(ctx); err != nil && ctx.Err() == nil && log != nil {
			log.Warn("events: legacy poll", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
