// Package runs is the migration engineer's operations — a route move, a
// sync run, a parity check — each followed by its audit record, written
// once so that the CLI (cmd/fhirfacade) and the web console
// (facade/console) run the same code paths and leave the same trail.
package runs

import (
	"context"
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/parity"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/syncer"
)

// Actor is who runs an operation, as its audit record names them.
type Actor struct {
	User     string // the OS user (CLI) or the signed-in user (console)
	ClientID string // "fhirfacade-cli", or the console's OIDC client id
	Source   string // "cli" or "console"
}

// Audit stores one audit record of an operation on typ: failed marks it
// as a failure (status 500), detail says what happened (no PHI).
func Audit(ctx context.Context, ctl *control.Store, a Actor, interaction, typ string, failed bool, detail string) error {
	status := 200
	if failed {
		status = 500
	}
	rec := &audit.Record{Time: time.Now().UTC(), Interaction: interaction, Type: typ, Status: status, Outcome: audit.OutcomeOf(status),
		Detail: detail, User: a.User, ClientID: a.ClientID, Source: a.Source}
	if err := (&audit.Store{DB: ctl.DB}).Append(ctx, []*audit.Record{rec}); err != nil {
		return fmt.Errorf("the %s of %s is done but its audit record was not stored: %w", interaction, typ, err)
	}
	return nil
}

// Move runs routing's guarded compare-and-set move m and, unless it is a
// dry run, audits it (refused or not). m.Actor is the journal's actor.
func Move(ctx context.Context, routes *routing.Store, ctl *control.Store, a Actor, m routing.Move) (*routing.Plan, error) {
	p, err := routes.Set(ctx, m)
	if m.DryRun {
		return p, err
	}
	detail := fmt.Sprintf("to %s by %s: %s", m.To, m.Actor, m.Reason)
	if m.Force {
		detail += " (forced)"
	}
	if err != nil {
		detail += "; refused: " + Reason(err)
	}
	if aerr := Audit(ctx, ctl, a, "route-set", m.Type, err != nil, detail); aerr != nil && err == nil {
		return p, aerr
	}
	return p, err
}

// Sync copies o.Type's legacy rows into the FHIR server (syncer.Syncer)
// and audits the run with its counts.
func Sync(ctx context.Context, sy *syncer.Syncer, ctl *control.Store, a Actor, o syncer.Options) (*syncer.Result, error) {
	res, err := sy.Run(ctx, o)
	detail := "sync"
	if o.Incremental {
		detail += " --incremental"
	}
	if res != nil {
		detail += fmt.Sprintf(": %d written, %d failed, %d deleted", res.Written, res.Failed, res.Deleted)
	}
	if err != nil {
		detail += "; stopped: " + Reason(err)
	}
	if aerr := Audit(ctx, ctl, a, "sync", o.Type, err != nil || (res != nil && res.Failed > 0), detail); aerr != nil && err == nil {
		return res, aerr
	}
	return res, err
}

// Verdict is PASS or FAIL.
func Verdict(passed bool) string {
	if passed {
		return "PASS"
	}
	return "FAIL"
}

// Parity compares legacy and FHIR for o.Type (parity.Run, which stores the
// report for the flip guard) and audits the verdict and counts.
func Parity(ctx context.Context, legacyB, fhirB backend.Backend, ctl *control.Store, a Actor, o parity.Options) (*parity.Report, error) {
	rep, err := parity.Run(ctx, legacyB, fhirB, ctl, o)
	if err != nil {
		_ = Audit(ctx, ctl, a, "parity", o.Type, true, "parity stopped: "+Reason(err))
		return nil, err
	}
	c := rep.Counts
	if err := Audit(ctx, ctl, a, "parity", o.Type, !rep.Passed, fmt.Sprintf("parity report %d: %s, %d matching, %d mismatched, %d only in legacy, %d only in FHIR, %d unmappable",
		rep.ID, Verdict(rep.Passed), c.Matching, c.Mismatched, c.OnlyLegacy, c.OnlyFHIR, c.Unmappable)); err != nil {
		return rep, err
	}
	return rep, nil
}
