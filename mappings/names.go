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
	for field, v := range map[string]*string{"key": &s.Key, "lastUpdated": &s.LastUpdated} {
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
