package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/runs"
)

// auditRun appends the record of a CLI run (route flip, sync, parity) to
// the same chain the facade writes. A run whose record cannot be stored
// fails: the change itself happened, and the operator must know the trail
// is missing it.
func auditRun(ctx context.Context, ctl *control.Store, interaction, typ string, failed bool, detail string) error {
	return runs.Audit(ctx, ctl, cliActor(), interaction, typ, failed, detail)
}

// cliActor is who the CLI's audit records name: the OS user.
func cliActor() runs.Actor {
	return runs.Actor{User: whoami(), ClientID: "fhirfacade-cli", Source: "cli"}
}

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check and export the audit trail"}
	dsn := new(string)
	cmd.AddCommand(auditVerifyCmd(dsn), auditExportCmd(dsn))
	return cmd
}

func controlFlag(c *cobra.Command, dsn *string) {
	c.Flags().StringVar(dsn, "control-dsn", defaultControlDSN, "control store: postgres:// or sqlite://PATH")
	bindEnv(c)
}

func auditVerifyCmd(dsn *string) *cobra.Command {
	var anchorFlags []string
	var anchorLog string
	verify := &cobra.Command{
		Use:   "verify [--anchor SEQ:HASH]...",
		Short: "Walk the hash chain; exit 1 naming the first broken or missing record",
		Long: `Walk the hash chain; exit 1 naming the first broken or missing record.

It prints an anchor (SEQ:HASH) for the newest record. Keep it outside this
database (a ticket, a WORM bucket): whoever can write the control store can
rewrite the chain consistently, but not match an anchor kept elsewhere.
Pass earlier anchors with --anchor to check them, or keep them in a log
with --anchor-log FILE: every anchor in it is checked, and the new one is
appended when the chain verifies (run it from a schedule, with FILE on
storage the database's writers cannot reach).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return auditVerify(c, *dsn, anchorFlags, anchorLog)
		},
	}
	verify.Flags().StringSliceVar(&anchorFlags, "anchor", nil, "anchors printed by earlier verifies (repeatable or comma-separated)")
	verify.Flags().StringVar(&anchorLog, "anchor-log", "", "check every anchor in FILE and append the new one when the chain verifies")
	controlFlag(verify, dsn)
	return verify
}

// loadAnchors reads the --anchor flags and the anchor log; last is the
// newest anchor the log holds.
func loadAnchors(flags []string, log string) (anchors []audit.Anchor, last int64, err error) {
	for _, f := range flags {
		a, err := audit.ParseAnchor(f)
		if err != nil {
			return nil, 0, fmt.Errorf("--anchor / FHIRFACADE_ANCHOR: %w", err)
		}
		anchors = append(anchors, a)
	}
	if log != "" {
		logged, err := audit.LoadAnchors(log)
		if err != nil {
			return nil, 0, fmt.Errorf("--anchor-log / FHIRFACADE_ANCHOR_LOG: %w", err)
		}
		for _, a := range logged {
			last = max(last, a.Seq)
		}
		anchors = append(anchors, logged...)
	}
	return anchors, last, nil
}

func auditVerify(c *cobra.Command, dsn string, anchorFlags []string, anchorLog string) error {
	anchors, last, err := loadAnchors(anchorFlags, anchorLog)
	if err != nil {
		return err
	}
	ctl, err := control.Open(c.Context(), dsn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	rep, err := (&audit.Store{DB: ctl.DB}).Verify(c.Context(), anchors...)
	if err != nil {
		return err
	}
	if rep.Problem != nil {
		fmt.Printf("audit chain BROKEN at record %d: %s (%d records read, head at %d)\n", rep.Problem.Seq, rep.Problem.Reason, rep.Records, rep.HeadSeq)
		return exitCode(1)
	}
	fmt.Printf("audit chain OK: %d records, head at %d, %d anchors matched\n", rep.Records, rep.HeadSeq, len(anchors))
	if rep.HeadSeq > 0 {
		a := audit.Anchor{Seq: rep.HeadSeq, Hash: rep.HeadHash}
		fmt.Printf("anchor: %s\n", a)
		if anchorLog != "" && a.Seq > last {
			if err := audit.AppendAnchor(anchorLog, a, time.Now()); err != nil {
				return fmt.Errorf("--anchor-log / FHIRFACADE_ANCHOR_LOG: %w", err)
			}
			fmt.Printf("anchor appended to %s\n", anchorLog)
		}
	}
	return nil
}

func auditExportCmd(dsn *string) *cobra.Command {
	var since, out string
	export := &cobra.Command{
		Use:   "export [--since TIME] [--out FILE]",
		Short: "Write the trail as FHIR AuditEvent NDJSON (one per patient for searches)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return auditExport(c, *dsn, since, out) },
	}
	controlFlag(export, dsn)
	export.Flags().StringVar(&since, "since", "", "only records at or after TIME (RFC 3339, a date, or a duration ago such as 24h)")
	export.Flags().StringVar(&out, "out", "", "write to FILE instead of standard output")
	return export
}

func auditExport(c *cobra.Command, dsn, since, out string) error {
	var from time.Time
	if since != "" {
		var err error
		if from, err = parseSince(since); err != nil {
			return err
		}
	}
	ctl, err := control.Open(c.Context(), dsn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "" {
		// written beside the target and renamed: a killed export never
		// leaves a half file under the real name
		if f, err = os.Create(out + ".partial"); err != nil {
			return err
		}
		defer os.Remove(out + ".partial")
		w = f
	}
	n, err := (&audit.Store{DB: ctl.DB}).Export(c.Context(), from, w)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(out+".partial", out); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "exported %d AuditEvents\n", n)
	return nil
}

func parseSince(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2026-11-29T10:00:00Z), a date (2026-11-29) or a duration (24h)", s)
}
