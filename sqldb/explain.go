package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNoExplain marks a dialect whose plans cannot be read here.
var ErrNoExplain = errors.New("no EXPLAIN for this dialect")

// Plan is what the planner of the live database says about one statement.
type Plan struct {
	// Whole reports that the statement would read the whole main table
	// (or the table behind a view): a sequential scan, or a full index
	// scan that neither narrows the rows nor gives their order.
	Whole bool
	// Detail is the plan step that says so ("Seq Scan on lab_result t").
	Detail string
}

// explainer runs EXPLAIN for one dialect.
type explainer struct {
	// setup runs first, in the same transaction. PostgreSQL: a demo or
	// staging table is small, and then a sequential scan or a full sort
	// is cheaper than any index; with them priced out the planner still
	// picks one when no index can serve the statement, which is the
	// question.
	setup  []string
	prefix string
	read   func(rows *sql.Rows, on explained) (Plan, error)
}

var explainers = map[string]explainer{
	"postgres": {setup: []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off"}, prefix: "EXPLAIN (FORMAT JSON) ", read: readPostgresPlan},
	"sqlite":   {prefix: "EXPLAIN QUERY PLAN ", read: readSQLitePlan},
	"mysql":    {prefix: "EXPLAIN FORMAT=JSON ", read: readMySQLPlan},
}

// explained is what a plan is read against: the main table (as the
// database spells it, read through the alias t) and whether the statement
// has a WHERE condition.
type explained struct {
	table    string
	filtered bool
}

// Explain asks the live planner about a statement that reads table (as
// the database spells it) through the alias t; filtered says it has a
// WHERE condition (a scan in the page's order that LIMIT stops reads a
// page only when nothing is filtered out).
func (db *DB) Explain(ctx context.Context, table string, filtered bool, q string, args ...any) (Plan, error) {
	ex, ok := explainers[db.Dialect.Name()]
	if !ok {
		return Plan{}, fmt.Errorf("%w: %s", ErrNoExplain, db.Dialect.Name())
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.Dialect.Name() != "mysql"})
	if err != nil {
		return Plan{}, fmt.Errorf("explain: %s", Describe(err))
	}
	defer tx.Rollback() // read only; the setup is undone with it
	for _, q := range ex.setup {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return Plan{}, fmt.Errorf("explain: %s", Describe(err))
		}
	}
	rows, err := tx.QueryContext(ctx, ex.prefix+q, args...)
	if err != nil {
		return Plan{}, fmt.Errorf("explain: %s", Describe(err))
	}
	defer rows.Close()
	p, err := ex.read(rows, explained{table: table, filtered: filtered})
	if err != nil {
		return Plan{}, fmt.Errorf("explain: %w", err)
	}
	return p, rows.Err()
}

// pgNode is one node of a PostgreSQL JSON plan.
type pgNode struct {
	Type      string   `json:"Node Type"`
	Relation  string   `json:"Relation Name"`
	Alias     string   `json:"Alias"`
	Index     string   `json:"Index Name"`
	IndexCond string   `json:"Index Cond"`
	Recheck   string   `json:"Recheck Cond"`
	Filter    string   `json:"Filter"`
	Plans     []pgNode `json:"Plans"`
}

func readPostgresPlan(rows *sql.Rows, on explained) (Plan, error) {
	table := on.table
	if !rows.Next() {
		return Plan{}, errors.New("no plan")
	}
	var raw []byte
	if err := rows.Scan(&raw); err != nil {
		return Plan{}, err
	}
	var doc []struct{ Plan pgNode }
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc) == 0 {
		return Plan{}, fmt.Errorf("unreadable plan: %v", err)
	}
	view := true // the main table is a view: its tables show instead
	walkPG(doc[0].Plan, "", func(n pgNode, _ string) { view = view && !isMain(n.Relation, n.Alias, table) })
	var p Plan
	walkPG(doc[0].Plan, "", func(n pgNode, above string) {
		// a view's table read whole counts, but not a lookup table
		// hashed for a join
		if p.Whole || n.Relation == "" || !(isMain(n.Relation, n.Alias, table) || view && !strings.Contains(above, "Hash/")) {
			return
		}
		switch {
		case n.Type == "Seq Scan":
			p = Plan{Whole: true, Detail: fmt.Sprintf("Seq Scan on %s %s", n.Relation, n.Alias)}
		case n.Type == "Bitmap Heap Scan" && n.Recheck == "":
			// its bitmap is a whole index
			p = Plan{Whole: true, Detail: fmt.Sprintf("Bitmap Heap Scan on %s %s without an index condition", n.Relation, n.Alias)}
		case strings.HasPrefix(n.Type, "Index") && n.IndexCond == "" && (n.Filter != "" && on.filtered || strings.Contains("/"+above, "/Sort/")):
			// the whole index, filtered row by row or in an order the
			// statement does not use (a Sort above; an Incremental Sort
			// only sorts the ties of an order the index gives). A later
			// page walking the index in its order is stopped by LIMIT.
			p = Plan{Whole: true, Detail: fmt.Sprintf("%s using %s on %s %s without an index condition", n.Type, n.Index, n.Relation, n.Alias)}
		}
	})
	return p, nil
}

// walkPG visits every node with the types of the nodes above it
// ("Limit/Sort/").
func walkPG(n pgNode, above string, fn func(pgNode, string)) {
	fn(n, above)
	for _, k := range n.Plans {
		walkPG(k, above+n.Type+"/", fn)
	}
}

// isMain reports whether a plan's relation is the statement's main table
// (read through the alias t).
func isMain(rel, alias, table string) bool {
	return alias == "t" || strings.EqualFold(rel, table)
}

func readSQLitePlan(rows *sql.Rows, on explained) (Plan, error) {
	table := on.table
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return Plan{}, err
		}
		steps = append(steps, detail)
	}
	tempSort := false
	for _, s := range steps {
		// (not "... FOR RIGHT PART OF ORDER BY": the index gives the order
		// of the first terms, small groups are sorted)
		tempSort = tempSort || strings.HasPrefix(s, "USE TEMP B-TREE FOR ORDER BY")
	}
	// a view's tables show instead of it: its outermost loop (the first
	// step) is read whole
	view := true
	for _, s := range steps {
		if f := strings.Fields(s); len(f) >= 2 && (f[0] == "SCAN" || f[0] == "SEARCH") && isMain(f[1], f[1], table) {
			view = false
		}
	}
	for i, s := range steps {
		// "SCAN t", "SCAN t USING INDEX ix", "SEARCH t USING INDEX ix (c>?)"
		f := strings.Fields(s)
		if len(f) < 2 || f[0] != "SCAN" || !(isMain(f[1], f[1], table) || view && i == 0) {
			continue
		}
		// a scan, with or without an index, in an order the statement
		// does not use, or filtering row by row
		if tempSort || on.filtered {
			return Plan{Whole: true, Detail: s}, nil
		}
	}
	return Plan{}, nil
}

// readMySQLPlan reads EXPLAIN FORMAT=JSON: a table read with access type
// ALL, or a whole index ("index") that is filtered or sorted again.
func readMySQLPlan(rows *sql.Rows, on explained) (Plan, error) {
	table := on.table
	if !rows.Next() {
		return Plan{}, errors.New("no plan")
	}
	var raw []byte
	if err := rows.Scan(&raw); err != nil {
		return Plan{}, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Plan{}, fmt.Errorf("unreadable plan: %v", err)
	}
	var tables []myTable
	walkMySQL(doc, false, &tables)
	view := true
	for _, t := range tables {
		view = view && !isMain(t.name, t.name, table)
	}
	for i, t := range tables {
		if !isMain(t.name, t.name, table) && !(view && i == 0) {
			continue
		}
		if (t.access == "ALL" || t.access == "index") && (t.cond || t.sorted || on.filtered) {
			return Plan{Whole: true, Detail: fmt.Sprintf("table %s: access type %s", t.name, t.access)}, nil
		}
	}
	return Plan{}, nil
}

// myTable is one table step of a MySQL/MariaDB JSON plan.
type myTable struct {
	name, access string
	cond, sorted bool // filtered row by row; below a filesort
}

// walkMySQL collects the table steps in plan order.
func walkMySQL(v any, sorted bool, out *[]myTable) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkMySQL(e, sorted, out)
		}
	case map[string]any:
		if name, ok := x["table_name"].(string); ok {
			access, _ := x["access_type"].(string)
			_, cond := x["attached_condition"]
			*out = append(*out, myTable{name: name, access: access, cond: cond, sorted: sorted})
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkMySQL(x[k], sorted || k == "filesort" || k == "read_sorted_file", out)
		}
	}
}
