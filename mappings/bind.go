package mappings

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Schema is what Bind reads of a live database: its columns, with types,
// of a table or of a query's result (a logical table).
type Schema interface {
	TableColumns(ctx context.Context, schema, table string) ([]sqldb.Column, error)
	QueryColumns(ctx context.Context, query string) ([]sqldb.Column, error)
}

func columnsOf(ctx context.Context, db Schema, tn tableName) ([]sqldb.Column, error) {
	if tn.query != "" {
		return db.QueryColumns(ctx, tn.query)
	}
	return db.TableColumns(ctx, tn.schema, tn.name)
}

// Problem is one thing a spec says that the live database contradicts.
type Problem struct {
	File   string // the spec's file
	Table  string // as the spec names it
	Column string // "" for a whole table
	// Fatal problems would fail requests (a missing column, a transform
	// that cannot read its column's type); the others are advice (a live
	// column neither mapped nor ignored).
	Fatal bool
	Msg   string
}

// String is the problem as `mappings check` prints it: file, table.column
// and what is wrong.
func (p Problem) String() string {
	where := p.Table
	if p.Column != "" {
		where += "." + p.Column
	}
	return fmt.Sprintf("%s: %s: %s", p.File, where, p.Msg)
}

// Bind resolves every spec's tables and columns against the live database
// and records their types: names are matched exactly, else without regard
// to case when that is unambiguous (how SQL Server, SQLite and MySQL match
// them, and how PostgreSQL folds unquoted names), generated SQL then uses
// the live spelling, quoted for d; values are converted by column kind
// (an instant is never shifted, a uuid is compared as a uuid); and the
// transforms and search parameters are type-checked against the columns
// they read. A registry serves one database: Bind it once, before use.
func (r *Registry) Bind(ctx context.Context, db Schema, d sqldb.Dialect) ([]Problem, error) {
	var all []Problem
	cache := map[tableName]*liveTable{}
	for _, typ := range r.types {
		s := r.specs[typ]
		probs, err := s.bind(ctx, db, d, cache)
		if err != nil {
			return nil, err
		}
		all = append(all, probs...)
	}
	return append(all, unmappedColumns(cache)...), nil
}

// liveTable is one introspected table: its columns by exact name and by
// lower-cased name.
type liveTable struct {
	label   string // as the first spec naming it wrote it
	cols    []sqldb.Column
	exact   map[string]sqldb.Column
	folded  map[string][]sqldb.Column
	matched map[string]bool
}

func newLiveTable(cols []sqldb.Column) *liveTable {
	t := &liveTable{cols: cols, exact: map[string]sqldb.Column{}, folded: map[string][]sqldb.Column{}, matched: map[string]bool{}}
	for _, c := range cols {
		t.exact[c.Name] = c
		k := strings.ToLower(c.Name)
		t.folded[k] = append(t.folded[k], c)
	}
	return t
}

// find matches a spec's column name the way the dialects match names.
func (t *liveTable) find(name string) (sqldb.Column, string) {
	if c, ok := t.exact[name]; ok {
		t.matched[c.Name] = true
		return c, ""
	}
	switch cs := t.folded[strings.ToLower(name)]; len(cs) {
	case 0:
		return sqldb.Column{}, "no such column in the live table"
	case 1:
		t.matched[cs[0].Name] = true
		return cs[0], ""
	default:
		return sqldb.Column{}, "several live columns differ from this name only in case: write it exactly (quoted)"
	}
}

func (s *Spec) bind(ctx context.Context, db Schema, d sqldb.Dialect, cache map[tableName]*liveTable) ([]Problem, error) {
	var probs []Problem
	tables := map[string]*liveTable{}
	for alias, tn := range s.tables {
		lt, ok := cache[tn]
		if !ok {
			cols, err := columnsOf(ctx, db, tn)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.file, err)
			}
			if len(cols) > 0 {
				lt = newLiveTable(cols)
				lt.label = s.tableLabel(alias)
			}
			cache[tn] = lt
		}
		if lt == nil {
			probs = append(probs, Problem{File: s.file, Table: s.tableLabel(alias), Fatal: true, Msg: "no such table or view in the live database"})
			continue
		}
		tables[alias] = lt
		tn.name = lt.cols[0].Table // the live spelling (case) of the name
		s.tables[alias] = tn
	}
	s.live = map[string]sqldb.Column{}
	for _, ref := range s.refs() {
		if ref == compositeRef {
			continue // computed from the key columns
		}
		alias, name := splitRef(ref)
		lt := tables[alias]
		if lt == nil {
			continue // reported with its table
		}
		c, why := lt.find(name)
		if why != "" {
			probs = append(probs, Problem{File: s.file, Table: s.tableLabel(alias), Column: name, Fatal: true, Msg: why})
			continue
		}
		s.live[ref] = c
	}
	for _, k := range s.Keys {
		// a NULL in a composite key's column makes the whole id NULL
		if c, ok := s.live["t."+k]; ok && c.Nullable {
			probs = append(probs, Problem{File: s.file, Table: s.tableLabel("t"), Column: c.Name, Fatal: true, Msg: "a composite key's columns must be NOT NULL"})
		}
	}
	probs = append(probs, s.typeCheck()...)
	s.bindSQL(d)
	return probs, nil
}

// tableLabel is the table behind an alias as the spec wrote it.
func (s *Spec) tableLabel(alias string) string {
	t := s.tables[alias]
	if t.schema != "" {
		return t.schema + "." + t.name
	}
	return t.name
}

// refs lists every column the spec reads, writes or ignores.
func (s *Spec) refs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(ref string) {
		if !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	for _, c := range s.cols {
		add(c)
	}
	for _, j := range s.Joins {
		add("t." + j.On)
		add(j.Alias + "." + j.Key)
		if j.ResolveBy != "" {
			add(j.Alias + "." + j.ResolveBy)
		}
	}
	for _, n := range s.SearchParams() {
		for _, c := range s.params[n].columns() {
			add(c)
		}
	}
	for c := range s.Ignore {
		if ref, err := s.ref(c); err == nil {
			add(ref)
		}
	}
	sort.Strings(out[len(s.cols):])
	return out
}

// unmappedColumns are live columns of the specs' tables that no spec
// maps or ignores (advice: a column nobody decided about), by table.
func unmappedColumns(cache map[tableName]*liveTable) []Problem {
	var probs []Problem
	for _, lt := range cache {
		if lt == nil {
			continue
		}
		for _, c := range lt.cols {
			if !lt.matched[c.Name] {
				probs = append(probs, Problem{File: "(all specs)", Table: lt.label, Column: c.Name, Msg: "neither mapped nor listed under ignore"})
			}
		}
	}
	sort.Slice(probs, func(i, j int) bool { return probs[i].String() < probs[j].String() })
	return probs
}

// bindSQL renders every column for the bound dialect once: statements are
// built per request, and quoting each name each time would cost.
func (s *Spec) bindSQL(d sqldb.Dialect) {
	s.d = d
	s.colSQL = map[string]string{}
	for _, ref := range s.refs() {
		alias, name := splitRef(ref)
		if c, ok := s.live[ref]; ok {
			name = c.Name
		}
		s.colSQL[ref] = alias + "." + sqldb.QuoteName(d, name)
	}
	if s.keyTmpl != nil {
		// after the key columns: it is built from their SQL
		s.colSQL[compositeRef] = s.keySQL(d)
	}
	s.selectSQL, s.fromSQL = "", ""
	s.selectSQL, s.fromSQL = s.selectList(d), s.from(d)
	s.norm = make([]normalizer, len(s.cols))
	for i, ref := range s.cols {
		s.norm[i] = normalizerFor(d, s.live[ref].Kind, s.loc)
	}
}

// ErrSchema marks specs that contradict the live database.
var ErrSchema = errors.New("mapping specs do not fit the live database")

// BindLive is Bind that fails on any fatal problem, listing them all: a
// facade must not start on specs whose every request would fail.
func (r *Registry) BindLive(ctx context.Context, db *sqldb.DB) error {
	probs, err := r.Bind(ctx, db, db.Dialect)
	if err != nil {
		return err
	}
	var fatal []string
	for _, p := range probs {
		if p.Fatal {
			fatal = append(fatal, p.String())
		}
	}
	if len(fatal) > 0 {
		return fmt.Errorf("%w (run fhirfacade mappings check):\n  %s", ErrSchema, strings.Join(fatal, "\n  "))
	}
	return nil
}
