package audit

import (
	"sort"
	"sync"
	"time"
)

// Aggregator folds records of refused requests that need no record each
// (rate-limited ones, and those refused before a token was accepted) into
// one record per client or address, status and window, whose Count says
// how many requests it stands for. Throttled or anonymous traffic is what
// an attacker can send without limit; one synchronous record per request
// would make it an unbounded write load on the audit store.
//
// The bound: at most MaxKeys records per window (further keys share one
// overflow record per status), whatever the request rate.
type Aggregator struct {
	window  time.Duration
	maxKeys int
	sink    func(*Record) error
	lost    func(*Record, error)

	mu    sync.Mutex
	open  map[aggKey]*Record
	timer *time.Timer
}

type aggKey struct {
	status         int
	client, source string
}

// NewAggregator folds records over window (default 1s) and hands each
// window's records to sink (Writer.Retain: kept and retried until stored);
// lost is told about a record sink refused (nil: ignored).
func NewAggregator(sink func(*Record) error, window time.Duration, maxKeys int, lost func(*Record, error)) *Aggregator {
	if window <= 0 {
		window = time.Second
	}
	if maxKeys <= 0 {
		maxKeys = 1000
	}
	return &Aggregator{window: window, maxKeys: maxKeys, sink: sink, lost: lost, open: map[aggKey]*Record{}}
}

// Add counts r in its window; the window's record is handed on when the
// window ends (or at Flush).
func (a *Aggregator) Add(r *Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := aggKey{status: r.Status, client: r.ClientID, source: r.Source}
	agg := a.open[k]
	if agg == nil && len(a.open) >= a.maxKeys {
		// past the bound every further key shares one record: the count
		// stays exact, only who sent the requests is no longer told apart
		k = aggKey{status: r.Status, source: "*"}
		agg = a.open[k]
	}
	if agg == nil {
		c := *r
		c.Count, c.Until = 1, r.Time
		if k.source == "*" {
			c.Source, c.ClientID = "", ""
			c.Detail = "requests from more sources than the audit keeps apart per window"
		}
		a.open[k] = &c
		if a.timer == nil {
			a.timer = time.AfterFunc(a.window, a.Flush)
		}
		return
	}
	agg.Count++
	if r.Time.After(agg.Until) {
		agg.Until = r.Time
	}
	if r.Time.Before(agg.Time) {
		agg.Time = r.Time
	}
	keepCommon(agg, r)
}

// keepCommon clears the fields of agg that r does not share: the record
// tells what all its requests had in common, nothing about just one.
func keepCommon(agg, r *Record) {
	for _, f := range []struct {
		a *string
		b string
	}{
		{&agg.Interaction, r.Interaction}, {&agg.Type, r.Type}, {&agg.Detail, r.Detail},
		{&agg.User, r.User}, {&agg.FHIRUser, r.FHIRUser}, {&agg.Issuer, r.Issuer},
		{&agg.RequestID, r.RequestID}, {&agg.ClientRequestID, r.ClientRequestID},
		{&agg.Method, r.Method}, {&agg.Path, r.Path}, {&agg.Query, r.Query}, {&agg.Backend, r.Backend},
	} {
		if *f.a != f.b {
			*f.a = ""
		}
	}
	agg.IDs, agg.Patients = nil, nil
}

// Flush hands on every open window's record now (the window timer calls
// it; a server stopping calls it last).
func (a *Aggregator) Flush() {
	a.mu.Lock()
	open := a.open
	a.open = map[aggKey]*Record{}
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.mu.Unlock()
	recs := make([]*Record, 0, len(open))
	for _, r := range open {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
	for _, r := range recs {
		if err := a.sink(r); err != nil && a.lost != nil {
			a.lost(r, err)
		}
	}
}
