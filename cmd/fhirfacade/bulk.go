package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/control"
)

// exportOpts configure Bulk Data $export.
type exportOpts struct {
	dir, blob, blobConnection string
	maxJobs                   int
}

const defaultExportDir = "./data/export"

func addExportFlags(f *pflag.FlagSet, o *exportOpts) {
	f.StringVar(&o.dir, "export-dir", defaultExportDir, "folder of bulk $export files (when --export-blob is not set)")
	f.StringVar(&o.blob, "export-blob", "", "Azure Blob Storage container URL for bulk $export files, https://ACCOUNT.blob.core.windows.net/CONTAINER (default: the --export-dir folder)")
	f.StringVar(&o.blobConnection, "export-blob-connection", "", "storage connection string for --export-blob (default: Entra ID through DefaultAzureCredential)")
	f.IntVar(&o.maxJobs, "export-max-jobs", 4, "most bulk $export jobs queued or running at once (more are refused with 429)")
}

// sink is the configured file store, checked now (a wrong folder, URL or
// credential fails at start-up naming its variable).
func (o *exportOpts) sink(ctx context.Context) (bulk.Sink, error) {
	if o.blob != "" {
		b, err := bulk.NewBlob(ctx, o.blob, o.blobConnection)
		if err != nil {
			if o.blobConnection != "" {
				return nil, fmt.Errorf("FHIRFACADE_EXPORT_BLOB / FHIRFACADE_EXPORT_BLOB_CONNECTION: %w", err)
			}
			return nil, fmt.Errorf("FHIRFACADE_EXPORT_BLOB: %w", err)
		}
		return b, nil
	}
	if o.blobConnection != "" {
		return nil, fmt.Errorf("FHIRFACADE_EXPORT_BLOB_CONNECTION is set without FHIRFACADE_EXPORT_BLOB")
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_EXPORT_DIR=%s: %w", o.dir, err)
	}
	return bulk.Dir{Root: o.dir}, nil
}

// engine builds the $export engine; its workers run until ctx ends.
func (o *exportOpts) engine(ctx context.Context, ctl *control.Store, router bulk.Router, log *slog.Logger) (*bulk.Engine, error) {
	if o.maxJobs < 1 {
		return nil, fmt.Errorf("FHIRFACADE_EXPORT_MAX_JOBS=%d: want at least 1", o.maxJobs)
	}
	sink, err := o.sink(ctx)
	if err != nil {
		return nil, err
	}
	e, err := bulk.New(bulk.Config{Store: ctl, Router: router, Sink: sink, MaxJobs: o.maxJobs, Log: log})
	if err != nil {
		return nil, err
	}
	go e.Run(ctx)
	return e, nil
}
