// Package scaffold drafts a mapping spec from a live legacy table: it
// reads the table's columns, keys and foreign keys (and whether each
// referenced table is a code lookup), guesses an element for each column
// by its name and type, and writes a YAML spec in which every column is
// either mapped or listed under ignore. The draft is where a migration
// engineer starts; its TODOs are what only a person can decide.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// ErrNoTable: the table to scaffold is not in the live database.
var ErrNoTable = errors.New("no such table or view")

// ErrNoType: no resource type was given and the table's name suggests none.
var ErrNoType = errors.New("resource type not given and not guessable from the table name")

// MaxCodes is how many distinct values of a coded column a code map stub
// lists.
const MaxCodes = 20

// Table is what the scaffold reads of one live table.
type Table struct {
	Schema  string // as given ("" for the default one)
	Name    string // as the database spells it
	Columns []sqldb.Column
	Keys    sqldb.Keys
	// Refs are the foreign keys of one column, by that column.
	Refs map[string]Ref
	// Codes holds up to MaxCodes+1 distinct non-NULL values of the
	// columns a code map stub is written for (read by Draft).
	Codes map[string][]string
}

// Ref is what a one-column foreign key points at.
type Ref struct {
	Table     string // as a spec writes it (schema-qualified when the referring table is)
	RefColumn string
	Type      string // the resource type the referenced table's name suggests ("" none)
	// Lookup: the referenced table is a code lookup (few columns, a text
	// key, a description column); Columns are all of its columns.
	Lookup      bool
	Key, Desc   string
	Columns     []string
	description string // for the draft's header
}

// Introspect reads a table (as a spec or command line names it) and the
// tables its one-column foreign keys reference.
func Introspect(ctx context.Context, db *sqldb.DB, table string) (*Table, error) {
	schema, name, err := mappings.ParseTable(table)
	if err != nil {
		return nil, err
	}
	cols, err := db.TableColumns(ctx, schema, name)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, table)
	}
	t := &Table{Schema: schema, Name: cols[0].Table, Columns: cols, Refs: map[string]Ref{}, Codes: map[string][]string{}}
	if t.Keys, err = db.TableKeys(ctx, schema, t.Name); err != nil {
		return nil, err
	}
	for _, fk := range t.Keys.Foreign {
		if len(fk.Columns) != 1 {
			continue // a composite reference: left to the engineer
		}
		ref, err := introspectRef(ctx, db, schema, fk)
		if err != nil {
			return nil, err
		}
		t.Refs[fk.Columns[0]] = ref
	}
	return t, nil
}

func introspectRef(ctx context.Context, db *sqldb.DB, schema string, fk sqldb.ForeignKey) (Ref, error) {
	rs := fk.RefSchema
	if rs == "" {
		rs = schema
	}
	ref := Ref{Table: mappings.SpecName(fk.RefTable), RefColumn: fk.RefColumns[0], Type: GuessType(fk.RefTable)}
	if rs != "" {
		ref.Table = mappings.SpecName(rs) + "." + ref.Table
	}
	cols, err := db.TableColumns(ctx, rs, fk.RefTable)
	if err != nil {
		return ref, err
	}
	keys, err := db.TableKeys(ctx, rs, fk.RefTable)
	if err != nil {
		return ref, err
	}
	if ref.RefColumn == "" && len(keys.Primary) == 1 {
		ref.RefColumn = keys.Primary[0] // SQLite's REFERENCES t: its primary key
	}
	for _, c := range cols {
		ref.Columns = append(ref.Columns, c.Name)
	}
	if desc, ok := lookupOf(cols, keys); ok {
		ref.Lookup, ref.Key, ref.Desc, ref.Type = true, keys.Primary[0], desc, ""
		ref.description = fmt.Sprintf("code lookup (%s)", strings.Join(ref.Columns, ", "))
	} else if ref.Type != "" {
		ref.description = "looks like the " + ref.Type + " table"
	}
	return ref, nil
}

// readCodes fills t.Codes for the given columns: their distinct values,
// sorted, at most MaxCodes+1 (one more tells the list is cut).
func readCodes(ctx context.Context, db *sqldb.DB, t *Table, cols []string) error {
	from := sqldb.TableSQL(db.Dialect, t.Schema, t.Name)
	for _, c := range cols {
		q := sqldb.QuoteName(db.Dialect, c)
		// a derived table: DISTINCT and TOP/LIMIT combine the same way on
		// every dialect only when the limit is outside
		sub := "(SELECT DISTINCT " + q + " AS v FROM " + from + " WHERE " + q + " IS NOT NULL) d"
		rows, err := db.QueryContext(ctx, db.Dialect.Select("v", sub, "", "v", MaxCodes+1))
		if err != nil {
			return fmt.Errorf("values of %s.%s: %s", t.Name, c, sqldb.Describe(err))
		}
		var vals []string
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("values of %s.%s: %s", t.Name, c, sqldb.Describe(err))
			}
			vals = append(vals, codeText(v))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("values of %s.%s: %s", t.Name, c, sqldb.Describe(err))
		}
		t.Codes[c] = vals
	}
	return nil
}

// codeText is a scanned code as a code map key: text as stored, without
// the padding of a CHAR(n).
func codeText(v any) string {
	switch x := v.(type) {
	case []byte:
		return strings.TrimRight(string(x), " ")
	case string:
		return strings.TrimRight(x, " ")
	}
	return fmt.Sprint(v)
}

// Draft introspects table and writes its draft spec: typ is the resource
// type ("" to guess it from the table's name).
func Draft(ctx context.Context, db *sqldb.DB, table, typ string) ([]byte, error) {
	t, err := Introspect(ctx, db, table)
	if err != nil {
		return nil, err
	}
	if typ == "" {
		if typ = GuessType(t.Name); typ == "" {
			return nil, fmt.Errorf("%w: %s (give --type)", ErrNoType, t.Name)
		}
	}
	p := Plan(t, typ)
	if err := readCodes(ctx, db, t, p.codeColumns()); err != nil {
		return nil, err
	}
	return p.YAML(t)
}
