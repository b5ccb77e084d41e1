package mappings

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Fetch runs st, which selects ncols columns, and returns its first row as
// scanned (nil when it finds none).
type Fetch func(st Stmt, ncols int) ([]any, error)

// PlannedRow is the row a write of v (what WriteValues returns) would
// leave, as far as it can be known before the write: old, the stored row
// (nil for a create), with the main-table columns the write sets (those
// InsertStmt and UpdateStmt write) holding their written values, and the
// columns of each joined table read through fetch wherever the write sets
// the join's column (on a create, every join: an unset column is NULL).
// A decimal column whose scale introspection found holds the value
// rounded as the database rounds it (sqldb.RoundDecimal), so a latitude
// of 41.7496401 for a numeric(9,6) column is refused here, before the
// FHIR server takes what legacy would round. What only the write itself
// decides is not in it: a database default or trigger, the new key and
// stamp (and the rounding where the scale is unknown). CheckStored on it
// tells, before a write, what CheckStored on the stored row tells after
// it (a PUT that leaves a derived value as old derives it passes).
func (s *Spec) PlannedRow(d sqldb.Dialect, old Row, v Values, fetch Fetch) (Row, error) {
	row := make(Row, len(s.cols))
	update := old != nil
	if update {
		copy(row, old)
		if err := s.Normalize(row); err != nil {
			return nil, err
		}
	}
	set := map[string]bool{}
	for _, ref := range s.setCols(v, update) {
		set[ref] = true
		if i, ok := s.colIndex[ref]; ok {
			row[i] = s.plannedValue(ref, v[ref])
		}
	}
	for _, j := range s.Joins {
		on := "t." + j.On
		if update && !set[on] {
			continue // the row keeps its joined row
		}
		if err := s.planJoin(d, row, j, v[on], fetch); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// planJoin puts into row the columns of j's table from its row whose key
// is key (NULL when key is NULL or there is no such row, as the read's
// LEFT JOIN gives them).
func (s *Spec) planJoin(d sqldb.Dialect, row Row, j Join, key any, fetch Fetch) error {
	var idx []int
	var names []string
	for i, ref := range s.cols {
		if alias, _ := splitRef(ref); alias == j.Alias {
			idx = append(idx, i)
			names = append(names, s.sqlName(d, ref))
			row[i] = nil
		}
	}
	if key == nil || len(idx) == 0 {
		return nil
	}
	b := &builder{d: d, s: s}
	where := s.sqlName(d, j.Alias+"."+j.Key) + " = " + b.arg(key)
	got, err := fetch(Stmt{SQL: d.Select(strings.Join(names, ", "), s.sqlTable(d, j.Alias), where, "", 0), Args: b.args}, len(idx))
	if err != nil || got == nil {
		return err
	}
	// normalised on a row of their own: the written values in row are
	// not in the scanned form a normaliser takes
	part := make(Row, len(s.cols))
	for k, i := range idx {
		part[i] = got[k]
	}
	if err := s.Normalize(part); err != nil {
		return err
	}
	for _, i := range idx {
		row[i] = part[i]
	}
	return nil
}

// plannedValue is the value written to column ref in the form the
// transforms read from a row: a date or wall-clock time as a time.Time, a
// decimal as the column stores it.
func (s *Spec) plannedValue(ref string, v any) any {
	switch x := v.(type) {
	case DateVal:
		return x.Time
	case DateTimeVal:
		return x.Time
	case string, json.Number:
		col := s.live[ref]
		if col.Kind != sqldb.KindDecimal || !col.HasScale {
			return v
		}
		// the text the database reads back: CheckStored compares it with
		// the number the resource gave, and refuses what it rounded
		if r, ok := sqldb.RoundDecimal(strings.TrimSpace(fmt.Sprint(x)), col.Scale); ok {
			return r
		}
	}
	return v
}
