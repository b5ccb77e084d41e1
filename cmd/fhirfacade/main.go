// Command fhirfacade is the strangler-fig FHIR R4 facade: `serve` runs it;
// `legacy` and `mappings` manage the legacy side. Wiring only: the work is
// done by the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "fhirfacade",
		Short:         "FHIR R4 facade over a legacy clinical database (strangler fig)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.AddCommand(serveCmd(), legacyCmd(), mappingsCmd(), routeCmd(), syncCmd(), parityCmd(), auditCmd(), eventsCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		var ex exitCode
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		fmt.Fprintln(os.Stderr, "fhirfacade:", err)
		os.Exit(2)
	}
}

// exitCode makes a command end with a given status without more output.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// envName is the environment variable a flag reads: --legacy-dsn reads
// FHIRFACADE_LEGACY_DSN.
func envName(flag string) string {
	return "FHIRFACADE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv makes every flag of cmd default to its FHIRFACADE_* variable and
// names that variable in the flag's help.
func bindEnv(cmd *cobra.Command) {
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Changed || err != nil {
				return
			}
			if v, ok := os.LookupEnv(envName(f.Name)); ok {
				if e := f.Value.Set(v); e != nil {
					err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
				}
			}
		})
		return err
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Usage += " (env " + envName(f.Name) + ")"
	})
}
