package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/parity"
	"github.com/fhirfacade/fhirfacade/runs"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/syncer"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// sides are what sync and parity work between.
type sides struct {
	reg    *mappings.Registry
	db     *sqldb.DB
	ctl    *control.Store
	legacy backend.Backend
	fhir   *upstream.Backend
}

func (s *sides) close() {
	if s.db != nil {
		s.db.Close()
	}
	if s.ctl != nil {
		s.ctl.Close()
	}
}

type sideFlags struct {
	legacyDSN, controlDSN, fhirURL, fhirAuth, fhirToken, mappingsDir string
}

func (f *sideFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.legacyDSN, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	cmd.Flags().StringVar(&f.controlDSN, "control-dsn", defaultControlDSN, "control store URL")
	cmd.Flags().StringVar(&f.fhirURL, "fhir-url", "", "FHIR server base URL (required)")
	cmd.Flags().StringVar(&f.fhirAuth, "fhir-auth", "none", "none, bearer or azure")
	cmd.Flags().StringVar(&f.fhirToken, "fhir-token", "", "token for --fhir-auth=bearer")
	cmd.Flags().StringVar(&f.mappingsDir, "mappings", "", "folder of mapping specs (default: embedded)")
}

// open connects what a command needs; the FHIR server only when needFHIR
// (an NDJSON export writes files instead).
func (f *sideFlags) open(ctx context.Context, needFHIR bool) (*sides, error) {
	if needFHIR && f.fhirURL == "" {
		return nil, fmt.Errorf("FHIRFACADE_FHIR_URL is required")
	}
	s := &sides{}
	var err error
	if s.reg, err = loadMappings(f.mappingsDir); err != nil {
		return nil, err
	}
	if s.db, err = sqldb.Open(ctx, orDefault(f.legacyDSN, defaultLegacyDSN)); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	if err := s.reg.BindLive(ctx, s.db); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("FHIRFACADE_MAPPINGS: %w", err)
	}
	if s.ctl, err = control.Open(ctx, f.controlDSN); err != nil {
		s.close()
		return nil, err
	}
	if needFHIR {
		o := &serveOpts{fhirURL: f.fhirURL, fhirAuth: f.fhirAuth, fhirToken: f.fhirToken}
		if s.fhir, err = upstreamBackend(o); err != nil {
			s.close()
			return nil, err
		}
	}
	ids := idmap.New(s.ctl)
	if err := ids.Refresh(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	s.legacy = &idmap.Backend{Inner: legacy.New(s.db, s.reg), Map: ids, Reg: s.reg}
	return s, nil
}

func (s *sides) types(all bool, args []string) ([]string, error) {
	if all {
		return s.reg.Types(), nil
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("name one resource type, or --all")
	}
	if s.reg.Spec(args[0]) == nil {
		return nil, fmt.Errorf("resource type %q is not mapped (mapped: %v)", args[0], s.reg.Types())
	}
	return args, nil
}

func syncCmd() *cobra.Command {
	var f sideFlags
	var o syncer.Options
	var all bool
	var ndjson string
	var maxFile int64
	cmd := &cobra.Command{
		Use:   "sync TYPE [--incremental] [--ndjson DIR]",
		Short: "Copy legacy rows of TYPE into the FHIR server (resumable; --incremental for changes and deletions since the last run)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.open(cmd.Context(), ndjson == "")
			if err != nil {
				return err
			}
			defer s.close()
			types, err := s.types(all, args)
			if err != nil {
				return err
			}
			failed := false
			for _, typ := range types {
				var bad bool
				if ndjson != "" {
					bad, err = exportNDJSON(cmd.Context(), s, typ, ndjson, maxFile)
				} else {
					bad, err = syncType(cmd.Context(), s, o, typ)
				}
				if err != nil {
					return err
				}
				failed = failed || bad
			}
			if failed {
				return exitCode(1)
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&o.Incremental, "incremental", false, "only rows changed since the last finished run (with an overlap), and remove deleted ones")
	cmd.Flags().IntVar(&o.Batch, "batch", 100, "resources per batch bundle (at most 500)")
	cmd.Flags().IntVar(&o.Parallel, "parallel", 4, "bundles in flight")
	cmd.Flags().DurationVar(&o.Overlap, "overlap", 5*time.Minute, "incremental look-back for clock skew")
	cmd.Flags().BoolVar(&all, "all", false, "every mapped type")
	cmd.Flags().StringVar(&ndjson, "ndjson", "", "write NDJSON files for $import to DIR instead of sending to the FHIR server")
	cmd.Flags().Int64Var(&maxFile, "ndjson-max-bytes", 512<<20, "start a new NDJSON file after this many bytes")
	bindEnv(cmd)
	return cmd
}

// exportNDJSON writes typ's rows as NDJSON files; failed reports rows that
// could not be mapped.
func exportNDJSON(ctx context.Context, s *sides, typ, dir string, maxFile int64) (failed bool, err error) {
	start := time.Now()
	res, err := syncer.ExportNDJSON(ctx, s.legacy, typ, dir, 1000, maxFile)
	if err != nil {
		return false, err
	}
	d := time.Since(start)
	fmt.Printf("ndjson %s: %d resources in %d file(s), %d failed, %v (%.0f/s)\n", typ, res.Written, len(res.Files), res.Failed, d.Round(time.Millisecond), float64(res.Written)/d.Seconds())
	for _, fl := range res.Failures {
		fmt.Printf("  failed %s/%s: %s\n", typ, fl.ID, fl.Reason)
	}
	return res.Failed > 0, nil
}

// syncType copies one type into the FHIR server and audits the run;
// failed reports resources that were not written.
func syncType(ctx context.Context, s *sides, o syncer.Options, typ string) (failed bool, err error) {
	o.Type = typ
	// a bar on a terminal, plain lines in logs and pipes
	if o.Progress = syncer.TerminalProgress(ctx, os.Stderr, s.legacy, typ); o.Progress == nil {
		o.Progress = syncer.PlainProgress(os.Stderr, typ)
	}
	sy := &syncer.Syncer{Legacy: s.legacy, FHIR: s.fhir, Ctl: s.ctl}
	start := time.Now()
	res, err := runs.Sync(ctx, sy, s.ctl, cliActor(), o)
	if res != nil {
		fmt.Printf("sync %s: %d written, %d failed, %d deleted in FHIR%s (%v)\n", typ, res.Written, res.Failed, res.Deleted,
			map[bool]string{true: ", resumed from a checkpoint", false: ""}[res.Resumed], time.Since(start).Round(time.Millisecond))
		if res.Note != "" {
			fmt.Printf("  %s\n", res.Note)
		}
		for _, fl := range res.Failures {
			fmt.Printf("  failed %s/%s: %s\n", typ, fl.ID, fl.Reason)
		}
		failed = res.Failed > 0
	}
	return failed, err
}

func parityCmd() *cobra.Command {
	var f sideFlags
	var o parity.Options
	var all bool
	var jsonOut, htmlOut string
	cmd := &cobra.Command{
		Use:   "parity TYPE [--json FILE] [--html FILE]",
		Short: "Compare legacy and FHIR for TYPE, store the report for the flip guard; exit 1 when it does not pass",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.close()
			types, err := s.types(all, args)
			if err != nil {
				return err
			}
			pass := true
			for _, typ := range types {
				opts := o
				opts.Type = typ
				rep, err := runs.Parity(cmd.Context(), s.legacy, s.fhir, s.ctl, cliActor(), opts)
				if err != nil {
					return err
				}
				c := rep.Counts
				fmt.Printf("parity %s: %s (report %d): %d matching, %d mismatched, %d only in legacy, %d only in FHIR, %d unmappable\n",
					typ, runs.Verdict(rep.Passed), rep.ID, c.Matching, c.Mismatched, c.OnlyLegacy, c.OnlyFHIR, c.Unmappable)
				for _, sm := range rep.Samples {
					fmt.Printf("  %s %s/%s %v %s\n", sm.Kind, typ, sm.ID, sm.Paths, sm.Reason)
				}
				pass = pass && rep.Passed
				for _, out := range []struct {
					file  string
					write func(*os.File) error
				}{
					{jsonOut, func(w *os.File) error { return parity.WriteJSON(w, rep) }},
					{htmlOut, func(w *os.File) error { return parity.WriteHTML(w, rep) }},
				} {
					if out.file == "" {
						continue
					}
					name := out.file
					if len(types) > 1 {
						name = typ + "-" + name
					}
					w, err := os.Create(name)
					if err != nil {
						return err
					}
					if err := out.write(w); err != nil {
						w.Close()
						return err
					}
					if err := w.Close(); err != nil {
						return err
					}
				}
			}
			if !pass {
				return exitCode(1)
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&jsonOut, "json", "", "write the report as JSON to FILE")
	cmd.Flags().StringVar(&htmlOut, "html", "", "write the report as a self-contained HTML page to FILE")
	cmd.Flags().Float64Var(&o.Threshold, "threshold", 1.0, "share of matching resources that passes")
	cmd.Flags().BoolVar(&all, "all", false, "every mapped type")
	bindEnv(cmd)
	return cmd
}
