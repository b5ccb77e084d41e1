package mappings

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Probe is one statement the engine would run for a typical search, for
// `mappings check --explain` to ask the live planner about: would it read
// the whole main table?
type Probe struct {
	Type  string // resource type
	Label string // the search, as a client would write it: "date=ge2024-01-01", "_sort=-date (next page)"
	Stmt  Stmt
	// Table is the main table's (or view's) name as the database spells
	// it; its rows are read through the alias "t".
	Table string
	// Index is the CREATE INDEX statements that would serve the search
	// (one per column an OR compares), or nothing when none can (the
	// column is on a joined table).
	Index []string
	// Filtered says the statement is a search's condition: a scan that
	// filters row by row reads the whole table. (A later page's keyset
	// condition is not: a scan in the page's order, stopped by LIMIT,
	// reads up to the page.)
	Filtered bool
	// Note says why there is no statement (a value no row can match).
	Note string
}

// probeNow fixes the clock of the probes: their SQL does not depend on
// when the check runs.
var probeNow = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// probeLimit is a page of the default size plus the row that tells
// whether there is a next page.
const probeLimit = 101

// ExplainProbes lists, for every spec of a bound registry, the statements
// of one typical value of each search parameter (a token code, a string
// prefix, a date ge, a reference id, a quantity) and of each sortable
// parameter in both directions, on the first page and on a later (keyset)
// page, each with the index that would serve it.
func (r *Registry) ExplainProbes(d sqldb.Dialect) []Probe {
	var out []Probe
	for _, typ := range r.types {
		out = append(out, r.specs[typ].explainProbes(d)...)
	}
	return out
}

func (s *Spec) explainProbes(d sqldb.Dialect) []Probe {
	var out []Probe
	for _, name := range s.SearchParams() {
		p := s.params[name]
		if len(p.cols) == 0 {
			continue // a constant: no SQL condition
		}
		value, ok := s.probeValue(p)
		pr := s.probe(name + "=" + value)
		if !ok {
			pr.Note = value
			out = append(out, pr)
			continue
		}
		out = append(out, s.filterProbe(d, pr, url.Values{name: {value}}, s.filterIndex(d, p)))
	}
	for _, name := range s.sortable() {
		p := s.params[name]
		if p.sortCol == "t."+s.Key && name != "_id" {
			continue
		}
		for _, desc := range []bool{false, true} {
			so := []search.Sort{{Param: name, Desc: desc}}
			label := "_sort=" + map[bool]string{true: "-"}[desc] + name
			idx := s.sortIndex(d, p.sortCol, desc)
			out = append(out, s.searchProbe(d, s.probe(label), so, nil, idx))
			out = append(out, s.searchProbe(d, s.probe(label+" (next page)"), so, s.probeCursor(p.sortCol), idx))
		}
	}
	return out
}

// probe is a Probe of this spec without its statement.
func (s *Spec) probe(label string) Probe {
	return Probe{Type: s.ResourceType, Label: label, Table: s.tables["t"].name}
}

// filterProbe fills pr with the statement that counts a search's matches
// (as _total does): its plan says whether an index narrows the rows,
// whatever order a planner without statistics picks for the page (SQLite
// then prefers walking the key's order and filtering until LIMIT).
func (s *Spec) filterProbe(d sqldb.Dialect, pr Probe, vals url.Values, idx []string) Probe {
	q, err := search.ParseQuery(vals)
	if err == nil {
		pr.Stmt, err = s.CountStmt(d, SearchRequest{Query: q, Strict: true, Now: probeNow})
	}
	if err != nil {
		pr.Note = err.Error()
		return pr
	}
	pr.Index, pr.Filtered = idx, true
	return pr
}

// searchProbe fills pr with the statement of a sorted search's page.
func (s *Spec) searchProbe(d sqldb.Dialect, pr Probe, so []search.Sort, after *Cursor, idx []string) Probe {
	q := &search.Query{Sort: so}
	var err error
	pr.Stmt, _, err = s.SearchStmt(d, SearchRequest{Query: q, After: after, Limit: probeLimit, Strict: true, Now: probeNow})
	if err != nil {
		pr.Note = err.Error()
		return pr
	}
	pr.Index = idx
	return pr
}

// probeValue is a typical value of a search parameter, one its columns
// can hold (ok false: the text says why there is none).
func (s *Spec) probeValue(p *param) (string, bool) {
	switch p.kind {
	case "token":
		if p.idOf != nil {
			return s.probeID()
		}
		if m := p.maps[0]; m != nil {
			if m.present {
				return "true", true
			}
			return firstCode(m), true
		}
		return probeScalar(s.kindOf(p.cols[0]))
	case "string":
		if p.strMap != nil {
			return firstCode(p.strMap), true
		}
		return "ab", true
	case "date":
		return "ge2024-01-01", true
	case "quantity":
		return "ge5", true
	case "reference":
		if p.target != nil {
			id, ok := p.target.probeID()
			return p.spec.Target + "/" + id, ok
		}
		v, ok := probeScalar(s.kindOf(p.cols[0]))
		return p.spec.Target + "/" + v, ok
	}
	return "parameter type " + p.kind + " is not probed", false
}

// probeID is an id of this spec's form whose key fits the key column.
func (s *Spec) probeID() (string, bool) {
	v, ok := probeScalar(s.kindOf("t." + s.Key))
	if !ok {
		return v, false
	}
	id := s.idTmpl.prefix + v + s.idTmpl.suffix
	if _, err := s.KeyOf(id); err != nil {
		return "no probe id fits the id template " + s.ID, false
	}
	return id, true
}

// probeScalar is a value of a column of kind k.
func probeScalar(k sqldb.Kind) (string, bool) {
	switch k {
	case sqldb.KindUUID:
		return "7d3c5e1a-2b4f-4c6d-8e9f-0a1b2c3d4e5f", true
	case sqldb.KindInt, sqldb.KindDecimal, sqldb.KindFloat:
		return "1", true
	case sqldb.KindBool:
		return "true", true
	case sqldb.KindDate, sqldb.KindDateTime, sqldb.KindInstant:
		return "a token over a date-time column matches only through a present map", false
	}
	return "x", true
}

// firstCode is the first FHIR code of a map, in sorted order.
func firstCode(m *codeMap) string {
	codes := make([]string, 0, len(m.all))
	for c := range m.all {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		return "x"
	}
	return codes[0]
}

// probeCursor is a position after a typical row: a mid value of the sort
// column and of the key.
func (s *Spec) probeCursor(sortCol string) *Cursor {
	c := &Cursor{}
	if sortCol != "t."+s.Key {
		c.Vals = append(c.Vals, probeCursorVal(s.kindOf(sortCol), s.cursorKind(sortCol, true)))
	}
	return &Cursor{Vals: append(c.Vals, probeCursorVal(s.kindOf("t."+s.Key), "key"))}
}

func probeCursorVal(k sqldb.Kind, kind string) any {
	switch {
	case kind == "instant" || kind == "date" || kind == "datetime":
		return "t:2024-01-01T00:00:00Z"
	case k == sqldb.KindInt:
		return "i:1"
	}
	v, _ := probeScalar(k)
	return "s:" + v
}

// filterIndex is the indexes that would serve a search parameter's
// condition: one per column it compares (the alternatives of an OR are
// served by one index each). A string search is a case-insensitive LIKE,
// which needs the dialect's case-insensitive index form.
func (s *Spec) filterIndex(d sqldb.Dialect, p *param) []string {
	var out []string
	for _, ref := range p.cols {
		if !strings.HasPrefix(ref, "t.") {
			return nil // a joined table's column: not the main table's index
		}
		term := s.sqlName(d, ref)
		if p.kind == "string" && p.strMap == nil {
			term = sqldb.LikeIndexTerm(d, term)
		}
		out = append(out, s.createIndex(d, []string{ref}, term))
	}
	return out
}

// sortIndex is the index that serves _sort on ref in one direction, the
// key after it as the order's tie-breaker (in the same direction, as the
// engine writes it), NULLs last where the column is nullable and the
// dialect's index can say so.
func (s *Spec) sortIndex(d sqldb.Dialect, ref string, desc bool) []string {
	key := "t." + s.Key
	dir := map[bool]string{true: " DESC"}[desc]
	if ref == key {
		return []string{s.createIndex(d, []string{key}, s.sqlName(d, key)+dir)}
	}
	if !strings.HasPrefix(ref, "t.") {
		return nil
	}
	term := s.sqlName(d, ref) + dir
	if s.nullable(ref) && sqldb.IndexNullsLast(d) {
		term += " NULLS LAST"
	}
	return []string{s.createIndex(d, []string{ref, key}, term+", "+s.sqlName(d, key)+dir)}
}

// createIndex is CREATE INDEX ix_<table>_<columns> ON <table> (<terms>).
func (s *Spec) createIndex(d sqldb.Dialect, refs []string, terms string) string {
	tn := s.tables["t"]
	name := "ix_" + strings.ToLower(tn.name)
	for _, ref := range refs {
		_, c := splitRef(ref)
		name += "_" + strings.ToLower(c)
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if strings.Contains(terms, " DESC") {
		name += "_desc"
	}
	return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", sqldb.QuoteName(d, name), tn.sql(d), terms)
}
