package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

func legacyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "legacy", Short: "Create and fill the demo legacy schema (any legacy dialect)"}
	var dsn string
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the demo legacy schema",
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := sqldb.Open(cmd.Context(), orDefault(dsn, defaultLegacyDSN))
			if err != nil {
				return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
			}
			defer db.Close()
			if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
				return err
			}
			fmt.Println("legacy schema is up to date on", db.Redacted)
			return nil
		},
	}
	migrate.Flags().StringVar(&dsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	bindEnv(migrate)

	var patients, batch int
	var sdsn string
	seedC := &cobra.Command{
		Use:   "seed",
		Short: "Fill the demo schema with deterministic synthetic patients (resumable)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if patients < 1 {
				return fmt.Errorf("--patients must be at least 1")
			}
			db, err := sqldb.Open(cmd.Context(), orDefault(sdsn, defaultLegacyDSN))
			if err != nil {
				return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
			}
			defer db.Close()
			if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
				return err
			}
			return seed.Run(cmd.Context(), db, seed.Options{Patients: patients, BatchSize: batch, Progress: os.Stderr})
		},
	}
	seedC.Flags().IntVar(&patients, "patients", 300, "number of patients (each with 3 visits and 20 lab results)")
	seedC.Flags().IntVar(&batch, "batch", 500, "patients per transaction")
	seedC.Flags().StringVar(&sdsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	bindEnv(seedC)
	cmd.AddCommand(migrate, seedC)
	return cmd
}

func mappingsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mappings", Short: "Inspect the mapping specs"}
	var dsn, dir string
	check := &cobra.Command{
		Use:   "check",
		Short: "List live legacy columns no spec maps or ignores, and spec columns the database lacks (exit 1 if any)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return checkMappings(cmd.Context(), dir, orDefault(dsn, defaultLegacyDSN))
		},
	}
	check.Flags().StringVar(&dsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	check.Flags().StringVar(&dir, "mappings", "", "folder of mapping specs (default: embedded)")
	bindEnv(check)
	cmd.AddCommand(check)
	return cmd
}

// checkMappings binds the specs to the live database and lists what does
// not fit: fatal problems (every request would fail) and columns nobody
// decided about; exit 1 when there are any.
func checkMappings(ctx context.Context, dir, dsn string) error {
	reg, err := loadMappings(dir)
	if err != nil {
		return err
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	defer db.Close()
	probs, err := reg.Bind(ctx, db, db.Dialect)
	if err != nil {
		return err
	}
	for _, p := range probs {
		level := "advice"
		if p.Fatal {
			level = "error "
		}
		fmt.Printf("%s  %s\n", level, p)
	}
	if len(probs) > 0 {
		fmt.Printf("%d problem(s)\n", len(probs))
		return exitCode(1)
	}
	fmt.Printf("%d spec(s) fit the live database: every column exists and has a type its transforms and searches read, and every column of their tables is mapped or ignored\n", len(reg.Types()))
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
