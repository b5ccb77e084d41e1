package scaffold

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// multi are the roles several columns may take (a first and a middle
// name are both given names).
var multi = map[role]bool{rGiven: true, rPhone: true, rEmail: true, rLine: true}

// codeMapOf names the code map stub written for a role's column.
var codeMapOf = map[role]string{rGender: "gender", rStatus: "status", rClass: "class", rInterp: "interpretation"}

// refRE find references when the schema declares no foreign key (a view,
// a schema without constraints): by the column's name.
var refRE = []struct {
	typ  string
	name *regexp.Regexp
}{
	{"Patient", re(`^(pat|patient|person|pt)(id|guid|uuid|key|no|num|number)$`)},
	{"Encounter", re(`^(visit|encounter|enc|admission)(id|guid|uuid|key|no|num|number)$`)},
}

// Planned is the draft of one table: which column has which role, the
// references, the code lookup joined for a code, and the rest.
type Planned struct {
	Type   string
	Key    string // "" when the table has no one-column primary key
	roles  map[role][]sqldb.Column
	refs   map[string]sqldb.Column // "Patient", "Encounter" -> the referring column
	lookup *lookupJoin
	used   map[string]bool
	notes  map[string]string // column -> why it is ignored beyond the TODO
	cols   []sqldb.Column
}

// lookupJoin is a code lookup joined to give a code its display.
type lookupJoin struct {
	alias string
	col   sqldb.Column
	ref   Ref
}

// Plan guesses the role of every column of t for resource type typ.
func Plan(t *Table, typ string) *Planned {
	p := &Planned{Type: typ, roles: map[role][]sqldb.Column{}, refs: map[string]sqldb.Column{}, used: map[string]bool{}, notes: map[string]string{}, cols: t.Columns}
	if len(t.Keys.Primary) == 1 {
		p.Key = t.Keys.Primary[0]
		p.used[p.Key] = true
	}
	for _, c := range t.Columns {
		if p.used[c.Name] {
			continue
		}
		if ref, ok := t.Refs[c.Name]; ok && p.planRef(c, ref) {
			continue
		}
		if ref, ok := t.Refs[c.Name]; !ok || !ref.Lookup {
			if p.planRefByName(c) {
				continue
			}
		}
		r := guessRole(typ, c)
		if r == rNone || (len(p.roles[r]) > 0 && !multi[r]) {
			continue
		}
		p.roles[r] = append(p.roles[r], c)
		p.used[c.Name] = true
	}
	return p
}

// planRef takes a foreign-key column as a reference or a code from a
// lookup; false leaves it to the name rules.
func (p *Planned) planRef(c sqldb.Column, ref Ref) bool {
	r := guessRole(p.Type, c)
	switch {
	case ref.Lookup && p.Type == "Observation" && (r == rNone || r == rCode) && p.lookup == nil && len(p.roles[rCode]) == 0:
		p.lookup = &lookupJoin{alias: aliasOf(ref.Table), col: c, ref: ref}
		p.roles[rCode] = append(p.roles[rCode], c)
		p.used[c.Name] = true
		return true
	case ref.Lookup && r != rNone:
		return false // a coded column (class, status) whose codes live in a lookup
	case ref.Lookup:
		p.notes[c.Name] = "codes of the lookup " + ref.Table
		return true
	case ref.Type != "" && ref.Type != p.Type && isRefTarget(p.Type, ref.Type) && p.refs[ref.Type].Name == "":
		p.refs[ref.Type] = c
		p.used[c.Name] = true
		return true
	}
	return false
}

func (p *Planned) planRefByName(c sqldb.Column) bool {
	for _, r := range refRE {
		if r.typ != p.Type && isRefTarget(p.Type, r.typ) && p.refs[r.typ].Name == "" &&
			r.name.MatchString(squeeze(c.Name)) && slices.Contains(idKinds, c.Kind) {
			p.refs[r.typ] = c
			p.used[c.Name] = true
			return true
		}
	}
	return false
}

// isRefTarget: which types a draft of typ references.
func isRefTarget(typ, target string) bool {
	switch target {
	case "Patient":
		return typ == "Encounter" || typ == "Observation"
	case "Encounter":
		return typ == "Observation"
	}
	return false
}

// aliasOf is a join alias from a table's initials: dbo.LabTest -> lt.
func aliasOf(table string) string {
	_, name, _ := mappings.ParseTable(table)
	var b strings.Builder
	for _, w := range words(name) {
		b.WriteByte(w[0])
	}
	if a := b.String(); a != "" && a != "t" && identRE.MatchString(a) {
		return a
	}
	return "lk"
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// codeColumns are the columns a code map stub lists the values of.
func (p *Planned) codeColumns() []string {
	var out []string
	for _, r := range []role{rGender, rStatus, rClass, rInterp} {
		if cs := p.roles[r]; len(cs) > 0 {
			out = append(out, cs[0].Name)
		}
	}
	return out
}

// one is the first column of a role, if any.
func (p *Planned) one(r role) (sqldb.Column, bool) {
	cs := p.roles[r]
	if len(cs) == 0 {
		return sqldb.Column{}, false
	}
	return cs[0], true
}

// x writes a template expression over columns with an optional transform.
func x(tr string, cols ...sqldb.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = mappings.SpecName(c.Name)
	}
	s := "{{" + strings.Join(names, ", ")
	if tr != "" {
		s += " | " + tr
	}
	return s + "}}"
}

// idExpr is a column as an id: an int key keeps its digits only.
func idExpr(c sqldb.Column) string {
	if c.Kind == sqldb.KindInt {
		return x("int", c)
	}
	return x("", c)
}

// timeExpr reads a date-like column as a dateTime.
func timeExpr(c sqldb.Column) string {
	if c.Kind == sqldb.KindDate {
		return x("date", c)
	}
	return x("datetime", c)
}

// localSystem is the placeholder system of a column's local codes or
// identifiers: a valid URI that says what to fill in.
func localSystem(t *Table, c sqldb.Column) string {
	return fmt.Sprintf("urn:todo:%s:%s", squeeze(t.Name), squeeze(c.Name))
}
