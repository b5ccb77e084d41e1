package mappings

import (
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// compileNames parses the spec's table, key, last-updated and join names,
// keeping them unquoted: the engine quotes them again per dialect.
func (s *Spec) compileNames() error {
	t, err := s.mainTable()
	if err != nil {
		return err
	}
	s.tables = map[string]tableName{"t": t}
	if err := s.compileKeys(); err != nil {
		return err
	}
	for field, v := range map[string]*string{"key": &s.Key, "lastUpdated": &s.LastUpdated} {
		if field == "key" && len(s.Keys) > 0 {
			continue
		}
		if *v == "" && field == "lastUpdated" {
			continue // optional: versions then come from the row's content
		}
		if err := unquote(field, v); err != nil {
			return err
		}
	}
	for i := range s.Joins {
		j := &s.Joins[i]
		if !identRE.MatchString(j.Alias) || j.Alias == "t" {
			return fmt.Errorf("join alias %q: want a plain name other than t", j.Alias)
		}
		if _, dup := s.tables[j.Alias]; dup {
			return fmt.Errorf("join alias %q is used twice", j.Alias)
		}
		jt, err := parseTable(j.Table)
		if err != nil {
			return fmt.Errorf("join %s table: %v", j.Alias, err)
		}
		s.tables[j.Alias] = jt
		for field, v := range map[string]*string{"key": &j.Key, "on": &j.On, "resolveBy": &j.ResolveBy} {
			if *v == "" && field == "resolveBy" {
				continue
			}
			if err := unquote("join "+j.Alias+" "+field, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// unquote replaces *v, one column name as written, by its unquoted form.
func unquote(field string, v *string) error {
	parts, err := parseName(*v, 1)
	if err != nil {
		return fmt.Errorf("%s: %v", field, err)
	}
	*v = parts[0]
	return nil
}

// ref parses a column as a spec writes it into the engine's reference
// "alias.name" (unquoted), checking the alias.
func (s *Spec) ref(col string) (string, error) {
	parts, err := parseName(col, 2)
	if err != nil {
		return "", err
	}
	if len(parts) == 1 {
		return "t." + parts[0], nil
	}
	if _, ok := s.tables[parts[0]]; !ok {
		return "", fmt.Errorf("%q: %s is not the table (t) or a join alias", col, parts[0])
	}
	return parts[0] + "." + parts[1], nil
}

// sqlCol renders a reference for d: alias.name, the name as the live
// database spells it (once bound) and quoted where it needs to be.
func (s *Spec) sqlCol(d sqldb.Dialect, ref string) string {
	if ref == compositeRef && s.keyTmpl != nil && s.d != d {
		return s.keySQL(d)
	}
	if s.d == d {
		if c, ok := s.colSQL[ref]; ok {
			return c
		}
	}
	alias, name := splitRef(ref)
	if c, ok := s.live[ref]; ok {
		name = c.Name
	}
	return alias + "." + sqldb.QuoteName(d, name)
}

// sqlName renders a main-table column without its alias (INSERT and
// UPDATE name the table's columns bare).
func (s *Spec) sqlName(d sqldb.Dialect, ref string) string {
	_, name := splitRef(ref)
	if c, ok := s.live[ref]; ok {
		name = c.Name
	}
	return sqldb.QuoteName(d, name)
}

// sqlTable renders the table behind an alias.
func (s *Spec) sqlTable(d sqldb.Dialect, alias string) string {
	return s.tables[alias].sql(d)
}

// mainTable is the spec's table, or its logical table (query): one of the
// two. A logical table is read-only: write-back needs a real table.
func (s *Spec) mainTable() (tableName, error) {
	q := strings.TrimSpace(s.Query)
	switch {
	case q != "" && s.Table != "":
		return tableName{}, fmt.Errorf("give table or query, not both")
	case q == "":
		t, err := parseTable(s.Table)
		if err != nil {
			return tableName{}, fmt.Errorf("table: %v", err)
		}
		return t, nil
	case !strings.HasPrefix(strings.ToUpper(q), "SELECT") || strings.Contains(q, ";"):
		return tableName{}, fmt.Errorf("query: want one SELECT statement")
	case s.WriteBack.Create || s.WriteBack.Update || s.WriteBack.Delete:
		return tableName{}, fmt.Errorf("query: a logical table is read-only (writeBack needs a table)")
	}
	return tableName{name: "query", query: q}, nil
}

// compositeKey stands for a composite key's one value: the id itself,
// computed in SQL from the key columns (compositeRef in the select list).
const (
	compositeKey = "$key"
	compositeRef = "t." + compositeKey
)

// compileKeys checks a composite key (keys: [...]): its columns' names,
// and that it is read-only (a write would have to split an id back into
// columns the legacy application may also generate).
func (s *Spec) compileKeys() error {
	if len(s.Keys) == 0 {
		return nil
	}
	if s.Key != "" || len(s.Keys) < 2 {
		return fmt.Errorf("give key (one column) or keys (two or more), not both")
	}
	if s.WriteBack.Create || s.WriteBack.Update || s.WriteBack.Delete {
		return fmt.Errorf("keys: a composite key is read-only (writeBack needs a one-column key)")
	}
	for i := range s.Keys {
		if err := unquote("keys", &s.Keys[i]); err != nil {
			return err
		}
	}
	s.Key = compositeKey
	return nil
}

// compileID checks the id template: over the key column, or for a
// composite key over its columns in order with text between them; the
// latter is served as one string value the SQL computes (keySQL), so ids,
// _id, paging and reads need no parsing back.
func (s *Spec) compileID(it *interp) error {
	if len(s.Keys) == 0 {
		if it == nil || len(it.exprs) != 1 || len(it.exprs[0].cols) != 1 || it.exprs[0].refs[0] != "t."+s.Key {
			return fmt.Errorf("id must be a template over the key column, like \"{{%s | int}}\"", s.Key)
		}
		s.idTmpl = it
		return nil
	}
	if it == nil || len(it.exprs) != len(s.Keys) {
		return fmt.Errorf("id must name the %d key columns in order, like \"{{%s}}-{{%s}}\"", len(s.Keys), s.Keys[0], s.Keys[1])
	}
	for i, x := range it.exprs {
		if len(x.refs) != 1 || x.refs[0] != "t."+s.Keys[i] || x.tr.name != "string" || (i > 0 && it.mids[i-1] == "") {
			return fmt.Errorf("id must name the key columns in order, untransformed, with text between them (%s)", s.ID)
		}
	}
	s.keyTmpl = it
	tr, _ := stringTransform(s, "")
	s.idTmpl = &interp{exprs: []*expr{{refs: []string{compositeRef}, cols: []int{s.keyIdx}, tr: tr, path: s.ResourceType + ".id"}}}
	return nil
}

// keySQL is a composite key's id as SQL: the template's literals and its
// columns read as text, concatenated.
func (s *Spec) keySQL(d sqldb.Dialect) string {
	it := s.keyTmpl
	var parts []string
	lit := func(v string) {
		if v != "" {
			parts = append(parts, sqldb.StringLiteral(d, v))
		}
	}
	lit(it.prefix)
	for i, x := range it.exprs {
		if i > 0 {
			lit(it.mids[i-1])
		}
		col := s.sqlCol(d, x.refs[0])
		if k := s.kindOf(x.refs[0]); k != sqldb.KindText && k != sqldb.KindUnknown {
			col = sqldb.TextExpr(d, col)
		}
		parts = append(parts, col)
	}
	lit(it.suffix)
	return sqldb.Concat(d, parts)
}
