package backend

import (
	"context"
	"time"
)

// HistoryPolicy is how much of a resource's past a backend keeps.
type HistoryPolicy int

const (
	// NoHistory: no vread or history at all (a wrapper whose inner backend
	// offers none).
	NoHistory HistoryPolicy = iota
	// CurrentOnly: the current version is served by vread and history;
	// older versions are not kept (legacy tables hold one row per
	// resource). The CapabilityStatement's readHistory is false.
	CurrentOnly
	// AllVersions: every version is kept (a FHIR server).
	AllVersions
)

// HistoryOptions shape one page of an instance history.
type HistoryOptions struct {
	Cursor string // the backend's own position from a previous page ("" first)
	Count  int    // page size
}

// HistoryEntry is one version in a history: the resource as it was (nil
// for a delete), and the interaction that made it.
type HistoryEntry struct {
	Method      string // POST, PUT or DELETE
	Status      string // the interaction's HTTP status ("201", "200", "204"...)
	VersionID   string
	LastUpdated time.Time
	Resource    *Resource // nil for a DELETE
}

// HistoryPage is one page of an instance history, newest first.
type HistoryPage struct {
	Entries []HistoryEntry
	Next    string // position of the next page; "" on the last page
}

// Versioned is an optional capability (found by type assertion): vread
// and instance history. Wrappers implement it by forwarding and report
// NoHistory when the backend they wrap has none, so callers check
// HistoryPolicy before anything else.
type Versioned interface {
	// HistoryPolicy says how much history the backend keeps.
	HistoryPolicy() HistoryPolicy
	// VRead is one version of a resource: ErrNotFound when the resource
	// or that version is unknown (or not kept), ErrGone when the resource
	// is deleted.
	VRead(ctx context.Context, typ, id, vid string) (*Resource, error)
	// History lists the versions of one resource, newest first:
	// ErrNotFound when the resource never existed here.
	History(ctx context.Context, typ, id string, opts HistoryOptions) (*HistoryPage, error)
}

// PolicyOf is b's history policy (NoHistory when b is not Versioned).
func PolicyOf(b Backend) HistoryPolicy {
	if v, ok := b.(Versioned); ok {
		return v.HistoryPolicy()
	}
	return NoHistory
}
