package scaffold

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// ignoreTODO is the reason written for every column the draft leaves out.
const ignoreTODO = "TODO: map or keep ignored"

// codeSets say, per code map stub, which FHIR codes its targets must be.
var codeSets = map[string]map[string]string{
	"Patient":     {"gender": "male | female | other | unknown (http://hl7.org/fhir/administrative-gender)"},
	"Encounter":   {"status": "planned | arrived | triaged | in-progress | onleave | finished | cancelled | entered-in-error | unknown", "class": "a v3-ActCode: AMB, IMP, EMER, OBSENC, VR, HH, …"},
	"Observation": {"status": "registered | preliminary | final | amended | corrected | cancelled | entered-in-error | unknown", "interpretation": "a v3-ObservationInterpretation code: N, H, L, A, HH, LL, …"},
}

// YAML writes the draft spec of t; t.Codes holds the values of the coded
// columns (readCodes).
func (p *Planned) YAML(t *Table) ([]byte, error) {
	spec := newMap()
	spec.set("resourceType", p.Type)
	spec.set("table", tableSpec(t))
	p.keyFields(spec, t)
	if lu, ok := p.one(rLastUpdated); ok {
		spec.set("lastUpdated", mappings.SpecName(lu.Name))
	} else {
		spec.comments["timezone"] = "lastUpdated: no date-time column named like modified/updated/changed/upd_ts:\n" +
			"omitted (no meta.lastUpdated; versions come from a hash of the row)."
	}
	spec.set("timezone", "UTC")
	spec.notes["timezone"] = "TODO: the zone of the wall-clock (zone-less datetime) columns, e.g. America/New_York"
	if j := p.lookup; j != nil {
		spec.set("joins", []any{kv(true, "alias", j.alias, "table", j.ref.Table, "key", mappings.SpecName(j.ref.Key), "on", mappings.SpecName(j.col.Name))})
	}
	tmpl, search := newMap(), newMap()
	tmpl.set("resourceType", p.Type)
	if emit, ok := emitters[p.Type]; ok {
		emit(p, t, tmpl, search)
	}
	if ig := p.ignored(); len(ig.keys) > 0 {
		spec.set("ignore", ig)
	}
	if cm := p.codeMaps(t); len(cm.keys) > 0 {
		spec.set("codeMaps", cm)
		spec.comments["codeMaps"] = "TODO: map each legacy code (the values found in the column) to a FHIR code"
	}
	spec.set("template", tmpl)
	if len(search.keys) > 0 {
		spec.set("search", search)
	}
	return render(p.header(t), spec)
}

// tableSpec is the table as a spec writes it: the schema as given, the
// name as the database spells it.
func tableSpec(t *Table) string {
	name := mappings.SpecName(t.Name)
	if t.Schema != "" {
		return mappings.SpecName(t.Schema) + "." + name
	}
	return name
}

// keyFields writes key and id; a table without a one-column primary key
// gets a TODO, never a silent pick.
func (p *Planned) keyFields(spec *omap, t *Table) {
	if p.Key == "" {
		spec.set("key", "TODO")
		why := "no primary key (a view or a heap)"
		if n := len(t.Keys.Primary); n > 1 {
			why = fmt.Sprintf("a composite primary key (%s)", strings.Join(t.Keys.Primary, ", "))
		}
		spec.comments["key"] = "TODO: " + why + ": name one column that is unique on its own,\n" +
			"and write id as a template over it."
		spec.set("id", "{{TODO}}")
		return
	}
	for _, c := range t.Columns {
		if c.Name == p.Key {
			spec.set("key", mappings.SpecName(c.Name))
			spec.set("id", idExpr(c))
		}
	}
}

// ignored lists every column the draft does not map, and the columns of a
// joined lookup that give nothing.
func (p *Planned) ignored() *omap {
	ig := newMap()
	for _, c := range p.cols {
		if p.used[c.Name] {
			continue
		}
		why := ignoreTODO
		if n := p.notes[c.Name]; n != "" {
			why += " (" + n + ")"
		}
		ig.set(mappings.SpecName(c.Name), why)
	}
	if j := p.lookup; j != nil {
		for _, c := range j.ref.Columns {
			if c != j.ref.Key && c != j.ref.Desc {
				ig.set(j.alias+"."+mappings.SpecName(c), ignoreTODO)
			}
		}
	}
	return ig
}

// codeMaps are the stubs: every value found in a coded column mapped to
// TODO.
func (p *Planned) codeMaps(t *Table) *omap {
	cm := newMap()
	for _, r := range []role{rGender, rStatus, rClass, rInterp} {
		c, ok := p.one(r)
		if !ok {
			continue
		}
		name := codeMapOf[r]
		m := flowMap()
		vals := t.Codes[c.Name]
		for i, v := range vals {
			if i == MaxCodes {
				break
			}
			m.set(v, "TODO")
		}
		cm.set(name, m)
		note := fmt.Sprintf("%s: %s", mappings.SpecName(c.Name), codeSets[p.Type][name])
		switch {
		case len(vals) > MaxCodes:
			note += fmt.Sprintf("; the first %d values only", MaxCodes)
		case len(vals) == 0:
			note += "; no values in the table yet"
		}
		cm.notes[name] = note
	}
	return cm
}

// header is the draft's opening comment: where it came from, what the
// keys say, and what is left to do.
func (p *Planned) header(t *Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Draft %s spec for %s, written by `fhirfacade mappings scaffold` from the live table.\n", p.Type, tableSpec(t))
	fmt.Fprintf(&b, "Columns are mapped by name and type guesses; every other column is under ignore.\n")
	fmt.Fprintf(&b, "Review every element, fill in each TODO, then run `fhirfacade mappings check --sample 100`.\n")
	fmt.Fprintf(&b, "Primary key: %s\n", orNone(strings.Join(t.Keys.Primary, ", ")))
	var fks []string
	for col, r := range t.Refs {
		d := fmt.Sprintf("  %s -> %s.%s", col, r.Table, r.RefColumn)
		if r.description != "" {
			d += ": " + r.description
		}
		fks = append(fks, d)
	}
	sort.Strings(fks)
	if len(fks) == 0 {
		b.WriteString("Foreign keys: none\n")
	} else {
		b.WriteString("Foreign keys:\n" + strings.Join(fks, "\n") + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// token is a token search over one coded column.
func token(system string, c sqldb.Column, codeMap string) *omap {
	coding := kv(true, "system", system, "column", mappings.SpecName(c.Name))
	if codeMap != "" {
		coding.set("map", codeMap)
	}
	return kv(true, "type", "token", "codings", []any{coding})
}

// columns is a list of column names for a search.
func columns(cs ...sqldb.Column) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = mappings.SpecName(c.Name)
	}
	return out
}
