package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// exportOpts configure Bulk Data $export.
type exportOpts struct {
	dir, blob, blobConnection string
	maxJobs                   int
	retention                 time.Duration
	sink                      bulk.Sink // made by check
}

const defaultExportDir = "./data/export"

func addExportFlags(f *pflag.FlagSet, o *exportOpts) {
	f.StringVar(&o.dir, "export-dir", defaultExportDir, "folder of bulk $export files (when --export-blob is not set)")
	f.StringVar(&o.blob, "export-blob", "", "Azure Blob Storage container URL for bulk $export files, https://ACCOUNT.blob.core.windows.net/CONTAINER (default: the --export-dir folder)")
	f.StringVar(&o.blobConnection, "export-blob-connection", "", "storage connection string for --export-blob (default: Entra ID through DefaultAzureCredential)")
	f.IntVar(&o.maxJobs, "export-max-jobs", 4, "most bulk $export jobs queued or running at once (more are refused with 429)")
	f.DurationVar(&o.retention, "export-retention", 24*time.Hour, "how long a finished bulk $export job's files are kept before they are deleted (the manifest's Expires)")
}

// check validates the settings and opens the file store: a wrong folder,
// container URL or credential fails at start-up naming its variable.
func (o *exportOpts) check() error {
	if o.retention < time.Minute {
		return fmt.Errorf("FHIRFACADE_EXPORT_RETENTION=%v: want 1m or more", o.retention)
	}
	if o.maxJobs < 1 || o.maxJobs > 64 {
		return fmt.Errorf("FHIRFACADE_EXPORT_MAX_JOBS=%d: want 1 to 64", o.maxJobs)
	}
	if o.blob == "" {
		if o.blobConnection != "" {
			return fmt.Errorf("FHIRFACADE_EXPORT_BLOB_CONNECTION is set without FHIRFACADE_EXPORT_BLOB")
		}
		if err := os.MkdirAll(o.dir, 0o700); err != nil {
			return fmt.Errorf("FHIRFACADE_EXPORT_DIR=%s: %w", o.dir, err)
		}
		o.sink = bulk.Dir{Root: o.dir}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bulk.NewBlob(ctx, o.blob, o.blobConnection)
	if err != nil {
		// the error names the container's URL without query (no SAS), never
		// the connection string
		if o.blobConnection != "" {
			return fmt.Errorf("FHIRFACADE_EXPORT_BLOB / FHIRFACADE_EXPORT_BLOB_CONNECTION: %w", err)
		}
		return fmt.Errorf("FHIRFACADE_EXPORT_BLOB: %w", err)
	}
	o.sink = b
	return nil
}

// engine builds the $export engine on the sink check opened; its workers
// run until ctx ends. With a FHIR server, its own $export serves the
// types routed to it when it offers one.
func (o *exportOpts) engine(ctx context.Context, ctl *control.Store, router bulk.Router, fhir *upstream.Backend, log *slog.Logger) *bulk.Engine {
	var native backend.BulkExporter
	if fhir != nil { // a nil *Backend in the interface would not be nil
		native = fhir
	}
	e, err := bulk.New(bulk.Config{Store: ctl, Router: router, Sink: o.sink, Exporter: native, MaxJobs: o.maxJobs, Retention: o.retention, Log: log})
	if err != nil {
		panic("export engine: " + err.Error()) // only a missing store, router or sink: a wiring bug
	}
	go e.Run(ctx)
	return e
}
