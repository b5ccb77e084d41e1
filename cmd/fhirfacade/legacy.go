package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/fhirschema"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/mappings/sample"
	"github.com/fhirfacade/fhirfacade/mappings/scaffold"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// legacySchema is one demo legacy schema of `legacy migrate|seed --schema`.
type legacySchema struct {
	store migrations.Store
	seed  func(context.Context, *sqldb.DB, seed.Options) error
}

var legacySchemas = map[string]legacySchema{
	"demo": {migrations.Legacy, seed.Run},       // pat_master, visit, lab_result
	"ehr":  {migrations.LegacyEHR, seed.RunEHR}, // dbo.PatientMaster, SQL Server EHR style
}

// openLegacySchema opens the legacy database and brings schema up to date in it.
func openLegacySchema(ctx context.Context, dsn, schema string) (*sqldb.DB, legacySchema, error) {
	s, ok := legacySchemas[schema]
	if !ok {
		return nil, s, fmt.Errorf("--schema %q: want demo or ehr", schema)
	}
	db, err := sqldb.Open(ctx, orDefault(dsn, defaultLegacyDSN))
	if err != nil {
		return nil, s, fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	if err := migrations.Up(db.DB, s.store, db.Dialect.Name()); err != nil {
		db.Close()
		return nil, s, err
	}
	return db, s, nil
}

func legacyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "legacy", Short: "Create and fill a demo legacy schema (any legacy dialect)"}
	const schemaHelp = "demo schema: demo (pat_master, visit, lab_result) or ehr (dbo.PatientMaster, SQL Server EHR style)"
	var dsn, schema string
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade a demo legacy schema",
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := openLegacySchema(cmd.Context(), dsn, schema)
			if err != nil {
				return err
			}
			defer db.Close()
			fmt.Printf("legacy schema %s is up to date on %s\n", schema, db.Redacted)
			return nil
		},
	}
	migrate.Flags().StringVar(&dsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	migrate.Flags().StringVar(&schema, "schema", "demo", schemaHelp)
	bindEnv(migrate)

	var patients, batch int
	var sdsn, sschema string
	seedC := &cobra.Command{
		Use:   "seed",
		Short: "Fill a demo legacy schema with deterministic synthetic patients (resumable)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if patients < 1 {
				return fmt.Errorf("--patients must be at least 1")
			}
			db, s, err := openLegacySchema(cmd.Context(), sdsn, sschema)
			if err != nil {
				return err
			}
			defer db.Close()
			return s.seed(cmd.Context(), db, seed.Options{Patients: patients, BatchSize: batch, Progress: os.Stderr})
		},
	}
	seedC.Flags().IntVar(&patients, "patients", 300, "number of patients (demo: 3 visits and 20 lab results each; ehr: 2 visits and 8)")
	seedC.Flags().IntVar(&batch, "batch", 500, "patients per transaction")
	seedC.Flags().StringVar(&sdsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	seedC.Flags().StringVar(&sschema, "schema", "demo", schemaHelp)
	bindEnv(seedC)
	cmd.AddCommand(migrate, seedC)
	return cmd
}

func mappingsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mappings", Short: "Inspect the mapping specs"}
	var o checkOptions
	var explain bool
	check := &cobra.Command{
		Use:   "check",
		Short: "List live legacy columns no spec maps or ignores, and spec columns the database lacks (exit 1 if any)",
		Long: "Binds the specs to the live database as serve does and lists every problem. With --sample N it then maps\n" +
			"N real rows of each spec, validates each resource against the R4 JSON schema (--schema), and lists each\n" +
			"failure with its row, element and legacy column. Exit 1 on any problem or failure.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.dsn = orDefault(o.dsn, defaultLegacyDSN)
			err := checkMappings(cmd.Context(), o)
			if explain {
				return explainAfterCheck(cmd.Context(), o.dir, o.dsn, err)
			}
			return err
		},
	}
	check.Flags().StringVar(&o.dsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	check.Flags().StringVar(&o.dir, "mappings", "", "folder of mapping specs (default: embedded)")
	check.Flags().IntVar(&o.sample, "sample", 0, "map this many real rows of each spec and validate them against the R4 JSON schema")
	check.Flags().StringVar(&o.schema, "schema", "", "R4 JSON schema (fhir.schema.json) for --sample (default: ../shared/reference/fhir-r4/fhir.schema.json when found beside the working folder or a parent)")
	check.Flags().BoolVar(&explain, "explain", false, explainHelp)
	bindEnv(check)
	cmd.AddCommand(check, scaffoldCmd())
	return cmd
}

// checkOptions are the flags of `mappings check`.
type checkOptions struct {
	dsn, dir, schema string
	sample           int
}

// checkMappings binds the specs to the live database and lists what does
// not fit: fatal problems (every request would fail) and columns nobody
// decided about; with a sample, also rows that do not map to valid
// resources. Exit 1 when there are any.
func checkMappings(ctx context.Context, o checkOptions) error {
	reg, err := loadMappings(o.dir)
	if err != nil {
		return err
	}
	var v *fhirschema.Validator
	if o.sample > 0 {
		// the schema first: a missing file is said before any work
		if v, err = fhirschema.Load(orDefault(o.schema, fhirschema.DefaultPath())); err != nil {
			return fmt.Errorf("--schema: %w", err)
		}
	}
	db, err := sqldb.Open(ctx, o.dsn)
	if err != nil {
		return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	defer db.Close()
	probs, err := reg.Bind(ctx, db, db.Dialect)
	if err != nil {
		return err
	}
	fatal := false
	for _, p := range probs {
		level := "advice"
		if p.Fatal {
			level, fatal = "error ", true
		}
		fmt.Printf("%s  %s\n", level, p)
	}
	failures := 0
	if v != nil && !fatal {
		if failures, err = sampleMappings(ctx, db, reg, v, o.sample); err != nil {
			return err
		}
	} else if v != nil {
		fmt.Println("not sampled: the specs do not bind to the live database")
	}
	if len(probs) > 0 || failures > 0 {
		fmt.Printf("%d problem(s), %d sampled row failure(s)\n", len(probs), failures)
		return exitCode(1)
	}
	fmt.Printf("%d spec(s) fit the live database: every column exists and has a type its transforms and searches read, and every column of their tables is mapped or ignored\n", len(reg.Types()))
	return nil
}

// sampleMappings maps n rows of each spec, prints each failure and the
// time each type took, and returns how many failures there were.
func sampleMappings(ctx context.Context, db *sqldb.DB, reg *mappings.Registry, v *fhirschema.Validator, n int) (int, error) {
	results, err := sample.Run(ctx, legacy.New(db, reg), reg, v, n)
	if err != nil {
		return 0, err
	}
	failures := 0
	for _, r := range results {
		for _, f := range r.Failures {
			fmt.Printf("sample  %s\n", f)
		}
		failures += len(r.Failures)
		fmt.Printf("sampled %d rows of %s in %d ms: %d failure(s)\n", r.Rows, r.Type, r.Elapsed.Milliseconds(), len(r.Failures))
	}
	return failures, nil
}

func scaffoldCmd() *cobra.Command {
	var dsn, typ string
	c := &cobra.Command{
		Use:   "scaffold TABLE",
		Short: "Print a draft spec for a live table: columns mapped by name/type guesses, the rest under ignore",
		Long: "Introspects TABLE (dbo.PatientMaster, pat_master, [dbo].[Patient Master]): columns, types, the primary key,\n" +
			"foreign keys and whether they point at code lookups, and the values of coded columns; prints a draft\n" +
			"mapping spec on stdout. Fill in its TODOs, then run `mappings check --sample N`.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := sqldb.Open(cmd.Context(), orDefault(dsn, defaultLegacyDSN))
			if err != nil {
				return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
			}
			defer db.Close()
			out, err := scaffold.Draft(cmd.Context(), db, args[0], typ)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	c.Flags().StringVar(&dsn, "legacy-dsn", "", "legacy database URL (default "+defaultLegacyDSN+")")
	c.Flags().StringVar(&typ, "type", "", "resource type (default: guessed from the table name: patient/person, visit/encounter/admission, result/lab/observation)")
	bindEnv(c)
	return c
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
