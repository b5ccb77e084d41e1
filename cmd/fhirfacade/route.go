package main

import (
	"fmt"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/runs"
)

func routeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "route", Short: "Read and flip the per-type routing table"}
	o := &routeOpts{}
	cmd.AddCommand(routeListCmd(o), routeSetCmd(o), routeHistoryCmd(o))
	return cmd
}

// routeOpts are the flags every route subcommand shares.
type routeOpts struct{ dsn, dir string }

func (o *routeOpts) flags(c *cobra.Command) {
	c.Flags().StringVar(&o.dsn, "control-dsn", defaultControlDSN, "control store: postgres:// or sqlite://PATH")
	c.Flags().StringVar(&o.dir, "mappings", "", "folder of mapping specs (default: embedded)")
}

// open opens the control store with a route for every mapped type.
func (o *routeOpts) open(cmd *cobra.Command) (*control.Store, *routing.Store, error) {
	ctl, err := control.Open(cmd.Context(), o.dsn)
	if err != nil {
		return nil, nil, err
	}
	reg, err := loadMappings(o.dir)
	if err != nil {
		ctl.Close()
		return nil, nil, err
	}
	s := routing.NewStore(ctl.DB)
	if err := s.Ensure(cmd.Context(), reg.Types()); err != nil {
		ctl.Close()
		return nil, nil, err
	}
	return ctl, s, nil
}

func routeListCmd(o *routeOpts) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "Show every type's route",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctl, s, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer ctl.Close()
			st, err := s.Statuses(cmd.Context())
			if err != nil {
				return err
			}
			// NEXT: the moves the route table allows from here.
			// UNMIRRORABLE: writes accepted on fhir (Prefer:
			// handling=lenient) that legacy cannot hold; while any is left,
			// moving back to shadow is refused
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TYPE\tSTATE\tNEXT\tVERSION\tUPDATED\tBY\tUNMIRRORABLE")
			for _, r := range st {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%d\n", r.Type, r.State, nextStates(r.State), r.Version, r.UpdatedAt.UTC().Format(time.RFC3339), r.UpdatedBy, r.Unmirrorable)
			}
			return w.Flush()
		},
	}
	o.flags(list)
	bindEnv(list)
	return list
}

// routeSetFlags are route set's own flags.
type routeSetFlags struct {
	reason, actor       string
	force, confirm, dry bool
	version             int
}

func routeSetCmd(o *routeOpts) *cobra.Command {
	f := &routeSetFlags{}
	set := &cobra.Command{
		Use:   "set TYPE STATE --reason TEXT [--force] [--confirm] [--dry-run]",
		Short: "Move a type one step (legacy <-> shadow <-> fhir -> fhir-only)",
		Args:  cobra.ExactArgs(2),
		RunE:  func(cmd *cobra.Command, args []string) error { return routeSet(cmd, o, f, args[0], args[1]) },
	}
	o.flags(set)
	set.Flags().StringVar(&f.reason, "reason", "", "why (journaled; required)")
	set.Flags().StringVar(&f.actor, "actor", "", "on whose behalf (journaled after the OS user: user@host as ACTOR)")
	set.Flags().BoolVar(&f.force, "force", false, "override the parity guard (journaled)")
	set.Flags().BoolVar(&f.confirm, "confirm", false, "confirm the one-way move to fhir-only")
	set.Flags().BoolVar(&f.dry, "dry-run", false, "print what the move would do, or why it would be refused; change nothing")
	set.Flags().IntVar(&f.version, "version", 0, "only move if the route is at this version")
	bindEnv(set)
	return set
}

func routeSet(cmd *cobra.Command, o *routeOpts, f *routeSetFlags, typ, state string) error {
	st, err := routing.ParseState(state)
	if err != nil {
		return err
	}
	ctl, s, err := o.open(cmd)
	if err != nil {
		return err
	}
	defer ctl.Close()
	// the OS user is always recorded; --actor only adds on whose behalf,
	// since anyone can type any name
	actor := whoami()
	if f.actor != "" {
		actor += " as " + f.actor
	}
	p, err := runs.Move(cmd.Context(), s, ctl, cliActor(), routing.Move{Type: typ, To: st, Actor: actor, Reason: f.reason, Force: f.force, Confirm: f.confirm, DryRun: f.dry, Version: f.version})
	if err != nil {
		return err
	}
	printPlan(p, f.dry)
	if p.Refused != "" {
		return exitCode(1) // a dry run that would be refused
	}
	return nil
}

func routeHistoryCmd(o *routeOpts) *cobra.Command {
	history := &cobra.Command{
		Use:   "history [TYPE]",
		Short: "Show the route journal",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctl, s, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer ctl.Close()
			typ := ""
			if len(args) == 1 {
				typ = args[0]
			}
			h, err := s.History(cmd.Context(), typ)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "AT\tTYPE\tFROM\tTO\tVERSION\tBY\tFORCED\tPARITY\tREASON")
			for _, e := range h {
				pr := "-"
				if e.ParityReport != nil {
					pr = fmt.Sprint(*e.ParityReport)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%v\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Type, e.From, e.To, e.Version, e.Actor, e.Forced, pr, e.Reason)
			}
			return w.Flush()
		},
	}
	o.flags(history)
	bindEnv(history)
	return history
}

func printPlan(p *routing.Plan, dry bool) {
	verb := "moved"
	if dry {
		verb = "would move"
	}
	if p.Refused != "" {
		fmt.Printf("%s %s -> %s: refused: %s\n", p.Type, p.From, p.To, p.Refused)
		return
	}
	fmt.Printf("%s %s %s -> %s (version %d)\n", verb, p.Type, p.From, p.To, p.Version)
	for _, s := range p.Steps {
		fmt.Println("  -", s)
	}
}

func whoami() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return strings.TrimSuffix(name+"@"+host, "@")
}

// nextStates lists the states one move away ("-" when the state is final).
func nextStates(s routing.State) string {
	var names []string
	for _, n := range routing.NextStates(s) {
		names = append(names, string(n))
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}
