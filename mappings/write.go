package mappings

import (
	"slices"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// mainCols lists the main-table columns of v (sorted, key excluded).
func (s *Spec) mainCols(v Values) []string {
	var cols []string
	for ref := range v {
		alias, col := splitRef(ref)
		if alias == "t" && col != s.Key && col != s.LastUpdated {
			cols = append(cols, ref)
		}
	}
	sort.Strings(cols)
	return cols
}

// setCols lists the main-table columns of v a write sets (sorted): on a
// create every one, on an update the mapped ones. InsertStmt and
// UpdateStmt write them, and PlannedRow takes the write to leave them.
func (s *Spec) setCols(v Values, update bool) []string {
	cols := s.mainCols(v)
	if !update {
		return cols
	}
	mapped := map[string]bool{}
	for _, ref := range s.writableCols() {
		mapped[ref] = true
	}
	for _, j := range s.Joins {
		if j.ResolveBy != "" {
			// the key a code was looked up by (LOINC to local code) is
			// written even where the template only derives it
			mapped["t."+j.On] = true
		}
	}
	// a default for a column the template does not map (one under
	// ignore) fills it on create; an update leaves the value the legacy
	// application gave it
	return slices.DeleteFunc(cols, func(ref string) bool { return !mapped[ref] })
}

// InsertStmt inserts v with the given last-updated stamp and returns the
// generated key.
func (s *Spec) InsertStmt(d sqldb.Dialect, v Values, stamp DateTimeVal) Stmt {
	return s.insertStmt(d, nil, v, stamp)
}

// InsertKeyedStmt inserts v under key (from KeyOf) instead of a key the
// database generates; only for a spec whose keys may be given (GivenKeys).
// It returns the key as InsertStmt does.
func (s *Spec) InsertKeyedStmt(d sqldb.Dialect, key any, v Values, stamp DateTimeVal) Stmt {
	return s.insertStmt(d, key, v, stamp)
}

// insertStmt is InsertStmt, with the key column set to key unless nil.
func (s *Spec) insertStmt(d sqldb.Dialect, key any, v Values, stamp DateTimeVal) Stmt {
	b := &builder{d: d, s: s}
	var names []string
	if key != nil {
		b.arg(key)
		names = append(names, s.sqlName(d, "t."+s.Key))
	}
	for _, ref := range s.setCols(v, false) {
		b.arg(s.writeArg(ref, v[ref]))
		names = append(names, s.sqlName(d, ref))
	}
	upd := "t." + s.LastUpdated
	b.arg(s.writeArg(upd, stamp))
	names = append(names, s.sqlName(d, upd))
	return Stmt{SQL: d.InsertReturning(s.sqlTable(d, "t"), names, 1, s.sqlName(d, "t."+s.Key)), Args: b.args}
}

// UpdateStmt replaces the mapped columns of the row with key, only if its
// stamp is still old (optimistic concurrency: 0 rows means it changed).
func (s *Spec) UpdateStmt(d sqldb.Dialect, key any, v Values, old, stamp DateTimeVal) Stmt {
	b := &builder{d: d, s: s}
	var sets []string
	for _, ref := range s.setCols(v, true) {
		sets = append(sets, s.sqlName(d, ref)+" = "+b.arg(s.writeArg(ref, v[ref])))
	}
	upd, k := "t."+s.LastUpdated, s.sqlName(d, "t."+s.Key)
	sets = append(sets, s.sqlName(d, upd)+" = "+b.arg(s.writeArg(upd, stamp)))
	where := k + " = " + b.arg(key) + " AND " + s.stampCond(b, upd, old)
	return Stmt{SQL: "UPDATE " + s.sqlTable(d, "t") + " SET " + strings.Join(sets, ", ") + " WHERE " + where, Args: b.args}
}

// DeleteStmt deletes the row with key.
func (s *Spec) DeleteStmt(d sqldb.Dialect, key any) Stmt {
	b := &builder{d: d, s: s}
	return Stmt{SQL: "DELETE FROM " + s.sqlTable(d, "t") + " WHERE " + s.sqlName(d, "t."+s.Key) + " = " + b.arg(key), Args: b.args}
}

// ResolveStmt finds the main table's join column from the value the
// resource gave for the join's resolveBy column (local code from LOINC).
// ok is false when the join needs no resolving.
func (s *Spec) ResolveStmt(d sqldb.Dialect, j Join, v Values) (Stmt, bool) {
	given := v[j.Alias+"."+j.ResolveBy]
	if j.ResolveBy == "" || given == nil {
		return Stmt{}, false
	}
	b := &builder{d: d, s: s}
	where := s.sqlName(d, j.Alias+"."+j.ResolveBy) + " = " + b.arg(given)
	return Stmt{SQL: d.Select(s.sqlName(d, j.Alias+"."+j.Key), s.sqlTable(d, j.Alias), where, "", 0), Args: b.args}, true
}

// PathOf is the FHIR element that fills a qualified column, for messages.
func (s *Spec) PathOf(ref string) string {
	if p, ok := s.colPaths[ref]; ok {
		return p
	}
	return s.ResourceType
}

// ColumnsAt names the columns ("col", or "alias.col" for a joined table)
// whose values the template writes at an element of an encoded resource
// (Patient.name[0].family) or below it; failing that, at the nearest
// element above it. A choice element (deceasedDateTime) finds its
// template element (deceased[x]). None when the element is a literal.
func (s *Spec) ColumnsAt(path string) []string {
	var at, above []string
	best := 0
	for ref, p := range s.colPaths {
		alias, name := splitRef(ref)
		label := name
		if alias != "t" {
			label = ref
		}
		switch {
		case p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"["):
			at = append(at, label)
		case strings.HasPrefix(path, p) && len(p) >= best:
			if len(p) > best {
				above, best = nil, len(p)
			}
			above = append(above, label)
		}
	}
	if len(at) == 0 {
		at = above
	}
	sort.Strings(at)
	return slices.Compact(at)
}

// StampOf reads the last-updated stamp of a row.
func (s *Spec) StampOf(row Row) (DateTimeVal, error) {
	if err := s.Normalize(row); err != nil {
		return DateTimeVal{}, err
	}
	t, _, err := asTime(row[s.updIdx])
	return DateTimeVal{t}, err
}
