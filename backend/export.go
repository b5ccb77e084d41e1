package backend

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrExportFailed: the FHIR server's $export job itself failed (its status
// answered an error that is not a transient one: no poll will make it
// complete).
var ErrExportFailed = errors.New("the FHIR server's $export failed")

// BulkExporter is a FHIR server's own Bulk Data $export (HL7 Bulk Data
// Access IG, system level), which a bulk export job uses instead of paging
// search for the types that server is the system of record of. Package
// upstream implements it; the job engine is handed one explicitly (route
// backends are wrapped, so a type assertion would not find it).
type BulkExporter interface {
	// Name is the name of the Backend whose types it exports ("fhir").
	Name() string
	// ExportOffered reports whether the server's CapabilityStatement
	// offers $export (read once and cached).
	ExportOffered(ctx context.Context) bool
	// StartExport kicks off a system export of types, changed since
	// since ("" for all), and returns the job's status URL.
	StartExport(ctx context.Context, types []string, since string) (status string, err error)
	// ExportStatus polls a job: a nil manifest while it runs (retry after
	// wait), the manifest when it is complete. A job the server no longer
	// knows is ErrGone; a failed one ErrExportFailed; a status that could
	// not be read (server unavailable, throttled, circuit open: worth
	// polling again) ErrUnavailable.
	ExportStatus(ctx context.Context, status string) (m *ExportManifest, wait time.Duration, err error)
	// OpenExportFile streams one output file of a manifest.
	OpenExportFile(ctx context.Context, m *ExportManifest, url string) (io.ReadCloser, error)
	// CancelExport deletes a job (and its files) on the server; a job the
	// server no longer knows is not an error.
	CancelExport(ctx context.Context, status string) error
}

// ExportManifest is a complete export job's manifest (the parts used).
type ExportManifest struct {
	TransactionTime     string       `json:"transactionTime"`
	RequiresAccessToken bool         `json:"requiresAccessToken"`
	Output              []ExportFile `json:"output"`
	Error               []ExportFile `json:"error"`
}

// ExportFile is one file of a manifest.
type ExportFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int64  `json:"count,omitempty"`
}
