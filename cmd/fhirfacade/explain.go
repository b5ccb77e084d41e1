package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// explainHelp is the --explain flag's help.
const explainHelp = "also EXPLAIN every search parameter and sort of every spec on the live database and list those that would read a whole table, with the index that would serve each (exit 1 if any)"

// explainAfterCheck runs `mappings check --explain` after the check
// itself (checkErr is its result): the specs bound to the live database,
// the planner asked about each probe statement.
func explainAfterCheck(ctx context.Context, dir, dsn string, checkErr error) error {
	reg, err := loadMappings(dir)
	if err != nil {
		return err
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	defer db.Close()
	if err := reg.BindLive(ctx, db); err != nil {
		fmt.Println("explain: skipped: the specs do not fit the live database (see the errors above)")
		return exitCode(1)
	}
	whole, err := explainSpecs(ctx, os.Stdout, reg, db)
	if err != nil {
		return err
	}
	if whole > 0 {
		return exitCode(1)
	}
	return checkErr
}

// explainSpecs EXPLAINs every probe of reg on db and prints those that
// would read a whole table, each with the index that would serve it, then
// every such index once. It returns how many it printed.
func explainSpecs(ctx context.Context, w io.Writer, reg *mappings.Registry, db *sqldb.DB) (int, error) {
	probes := reg.ExplainProbes(db.Dialect)
	var whole int
	var advice []string
	seen := map[string]bool{}
	for _, pr := range probes {
		if pr.Note != "" {
			fmt.Fprintf(w, "note    %s?%s: not explained: %s\n", pr.Type, pr.Label, pr.Note)
			continue
		}
		plan, err := db.Explain(ctx, pr.Table, pr.Filtered, pr.Stmt.SQL, pr.Stmt.Args...)
		if errors.Is(err, sqldb.ErrNoExplain) {
			fmt.Fprintf(w, "note    explain skipped: %s plans cannot be read here; run the statements under SET SHOWPLAN_XML ON on the server\n", db.Dialect.Name())
			return 0, nil
		}
		if err != nil {
			return whole, fmt.Errorf("%s?%s: %w", pr.Type, pr.Label, err)
		}
		if !plan.Whole {
			continue
		}
		whole++
		fmt.Fprintf(w, "scan    %s?%s reads the whole of %s (%s)\n", pr.Type, pr.Label, pr.Table, plan.Detail)
		if len(pr.Index) == 0 {
			fmt.Fprintf(w, "          no index on %s serves it: the column is on a joined table\n", pr.Table)
		}
		for _, ix := range pr.Index {
			fmt.Fprintf(w, "          %s;\n", ix)
			if !seen[ix] {
				seen[ix] = true
				advice = append(advice, ix)
			}
		}
	}
	fmt.Fprintf(w, "explain: %d statement(s) of %d spec(s), %d would read a whole table\n", len(probes), len(reg.Types()), whole)
	if len(advice) > 0 {
		fmt.Fprintf(w, "indexes that would serve them:\n")
		for _, ix := range advice {
			fmt.Fprintf(w, "  %s;\n", ix)
		}
	}
	return whole, nil
}
