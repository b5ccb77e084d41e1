package scaffold

import (
	"slices"
	"strings"

	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// An emitter writes the template elements and search parameters of one
// resource type from the planned roles, in FHIR element order.
type emitter func(p *Planned, t *Table, tmpl, search *omap)

var emitters = map[string]emitter{
	"Patient":     emitPatient,
	"Encounter":   emitEncounter,
	"Observation": emitObservation,
}

// identifier writes one identifier with a placeholder system, and its search.
func identifier(p *Planned, t *Table, tmpl, search *omap, mr bool) {
	c, ok := p.one(rIdentifier)
	if !ok {
		return
	}
	sys := localSystem(t, c)
	id := newMap()
	if mr {
		id.set("use", "usual")
		id.set("type", kv(false, "coding", []any{kv(false, "system", "http://terminology.hl7.org/CodeSystem/v2-0203", "code", "MR")}))
	}
	id.set("system", sys)
	id.notes["system"] = "TODO: the system of these identifiers (an OID or URL)"
	id.set("value", x("", c))
	tmpl.add("identifier", id)
	search.set("identifier", token(sys, c, ""))
}

func emitPatient(p *Planned, t *Table, tmpl, search *omap) {
	identifier(p, t, tmpl, search, true)
	emitName(p, tmpl, search)
	for _, c := range p.roles[rPhone] {
		use := "home"
		switch n := squeeze(c.Name); {
		case strings.Contains(n, "mobile") || strings.Contains(n, "cell"):
			use = "mobile"
		case strings.Contains(n, "work") || strings.Contains(n, "office") || strings.Contains(n, "bus"):
			use = "work"
		}
		tmpl.add("telecom", kv(false, "system", "phone", "use", use, "value", x("", c)))
	}
	if cs := p.roles[rPhone]; len(cs) > 0 {
		search.set("phone", token("", cs[0], ""))
	}
	for _, c := range p.roles[rEmail] {
		tmpl.add("telecom", kv(false, "system", "email", "value", x("", c)))
	}
	if c, ok := p.one(rGender); ok {
		tmpl.set("gender", x("code:gender", c))
		search.set("gender", token("http://hl7.org/fhir/administrative-gender", c, "gender"))
	}
	if c, ok := p.one(rBirthDate); ok {
		tmpl.set("birthDate", x("date", c))
		search.set("birthdate", kv(true, "type", "date", "column", columns(c)[0]))
	}
	flag, hasFlag := p.one(rDeceasedFlag)
	death, hasDeath := p.one(rDeathDate)
	switch {
	case hasFlag && hasDeath && flag.Kind == sqldb.KindText:
		tmpl.set("deceased[x]", x("deceased", flag, death))
		search.set("deceased", token("", flag, "yn"))
	case hasDeath:
		tmpl.set("deceased[x]", x("deceasedDate", death))
		search.set("deceased", token("", death, "present"))
	}
	if hasFlag && !(hasDeath && flag.Kind == sqldb.KindText) {
		p.unuse(flag, "a deceased flag: the deceased transform reads it with a death date column")
	}
	emitAddress(p, tmpl, search)
}

// unuse gives a planned column back to ignore, with a note.
func (p *Planned) unuse(c sqldb.Column, note string) {
	p.used[c.Name] = false
	p.notes[c.Name] = note
}

func emitName(p *Planned, tmpl, search *omap) {
	family, hasFamily := p.one(rFamily)
	given := p.roles[rGiven]
	if !hasFamily && len(given) == 0 && len(p.roles[rPrefix]) == 0 && len(p.roles[rSuffix]) == 0 {
		return
	}
	n := tmpl.first("name")
	n.set("use", "official")
	var all []sqldb.Column
	if hasFamily {
		n.set("family", x("", family))
		search.set("family", kv(true, "type", "string", "columns", columns(family)))
		all = append(all, family)
	}
	for _, c := range given {
		n.add("given", x("", c))
	}
	if len(given) > 0 {
		search.set("given", kv(true, "type", "string", "columns", columns(given...)))
		all = append(all, given...)
	}
	for _, r := range []role{rPrefix, rSuffix} {
		if c, ok := p.one(r); ok {
			n.add(string(r), x("", c))
		}
	}
	search.set("name", kv(true, "type", "string", "columns", columns(all...)))
}

func emitAddress(p *Planned, tmpl, search *omap) {
	parts := []struct {
		r      role
		elem   string
		search string
	}{{rCity, "city", "address-city"}, {rState, "state", "address-state"}, {rPostal, "postalCode", "address-postalcode"}, {rCountry, "country", "address-country"}}
	has := len(p.roles[rLine]) > 0
	for _, pt := range parts {
		has = has || len(p.roles[pt.r]) > 0
	}
	if !has {
		return
	}
	a := tmpl.first("address")
	a.set("use", "home")
	for _, c := range p.roles[rLine] {
		a.add("line", x("", c))
	}
	for _, pt := range parts {
		if c, ok := p.one(pt.r); ok {
			a.set(pt.elem, x("", c))
			search.set(pt.search, kv(true, "type", "string", "columns", columns(c)))
		}
	}
}

// status writes the required status from its coded column, or a literal
// to replace when there is none.
func status(p *Planned, tmpl, search *omap, system, fallback string) {
	if c, ok := p.one(rStatus); ok {
		tmpl.set("status", x("code:status", c))
		search.set("status", token(system, c, "status"))
		return
	}
	tmpl.set("status", fallback)
	tmpl.notes["status"] = "TODO: no status column found (status is required)"
}

// reference writes element as a reference to the target type through the
// column planned for it, with its reference searches.
func reference(p *Planned, tmpl, search *omap, target, element string, params ...string) {
	c, ok := p.refs[target]
	if !ok {
		return
	}
	tmpl.set(element, kv(false, "reference", target+"/"+idExpr(c)))
	for _, n := range params {
		search.set(n, kv(true, "type", "reference", "column", columns(c)[0], "target", target, "path", element))
	}
}

func emitEncounter(p *Planned, t *Table, tmpl, search *omap) {
	identifier(p, t, tmpl, search, false)
	status(p, tmpl, search, "http://hl7.org/fhir/encounter-status", "unknown")
	cls := kv(false, "system", "http://terminology.hl7.org/CodeSystem/v3-ActCode")
	if c, ok := p.one(rClass); ok {
		cls.set("code", x("code:class", c))
		search.set("class", token("http://terminology.hl7.org/CodeSystem/v3-ActCode", c, "class"))
	} else {
		cls.set("code", "AMB")
		cls.notes["code"] = "TODO: no visit type column found (class is required)"
	}
	tmpl.set("class", cls)
	if c, ok := p.one(rService); ok {
		tmpl.set("serviceType", kv(false, "text", x("", c)))
	}
	reference(p, tmpl, search, "Patient", "subject", "patient", "subject")
	start, hasStart := p.one(rStart)
	end, hasEnd := p.one(rEnd)
	if hasStart || hasEnd {
		per := tmpl.sub("period")
		if hasStart {
			per.set("start", timeExpr(start))
		}
		if hasEnd {
			per.set("end", timeExpr(end))
		}
	}
	switch {
	case hasStart && hasEnd:
		search.set("date", kv(true, "type", "date", "period", columns(start, end)))
	case hasStart:
		search.set("date", kv(true, "type", "date", "column", columns(start)[0]))
	}
}

func emitObservation(p *Planned, t *Table, tmpl, search *omap) {
	identifier(p, t, tmpl, search, false)
	status(p, tmpl, search, "http://hl7.org/fhir/observation-status", "final")
	const catSys = "http://terminology.hl7.org/CodeSystem/observation-category"
	if slices.Contains(words(t.Name), "lab") {
		tmpl.add("category", kv(false, "coding", []any{kv(false, "system", catSys, "code", "laboratory")}))
		search.set("category", kv(true, "type", "token", "constant", kv(true, "system", catSys, "code", "laboratory")))
	}
	emitCode(p, t, tmpl, search)
	reference(p, tmpl, search, "Patient", "subject", "patient", "subject")
	reference(p, tmpl, search, "Encounter", "encounter", "encounter")
	if c, ok := p.one(rEffective); ok {
		tmpl.set("effectiveDateTime", timeExpr(c))
		search.set("date", kv(true, "type", "date", "column", columns(c)[0]))
	}
	emitValue(p, tmpl, search)
	if c, ok := p.one(rInterp); ok {
		coding := kv(false, "system", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code", x("code:interpretation", c))
		tmpl.add("interpretation", kv(false, "coding", []any{coding}))
	}
	if c, ok := p.one(rRefRange); ok {
		tmpl.add("referenceRange", kv(false, "text", x("", c)))
	}
}

// emitCode writes Observation.code: the local code, with the display of
// its lookup when one is joined (code is required: a placeholder text
// when no column was found).
func emitCode(p *Planned, t *Table, tmpl, search *omap) {
	c, ok := p.one(rCode)
	if !ok {
		tmpl.set("code", kv(false, "text", "TODO"))
		tmpl.notes["code"] = "TODO: no test code column found (code is required)"
		return
	}
	sys := localSystem(t, c)
	coding := kv(false, "system", sys, "code", x("", c))
	coding.notes["system"] = "TODO: the system of the local codes (and a LOINC coding, if the lookup has one)"
	if j := p.lookup; j != nil {
		coding.set("display", "{{"+j.alias+"."+mappings.SpecName(j.ref.Desc)+" | derived}}")
	}
	tmpl.set("code", kv(false, "coding", []any{coding}))
	search.set("code", token(sys, c, ""))
}

// emitValue writes the value: a number as valueQuantity (with its unit),
// text with a unit through labvalue, text alone as valueString.
func emitValue(p *Planned, tmpl, search *omap) {
	v, hasV := p.one(rValue)
	u, hasU := p.one(rUnit)
	switch {
	case hasV && v.Kind != sqldb.KindText:
		q := kv(false, "value", x("decimal", v))
		if hasU {
			q.set("unit", x("", u))
			q.set("system", "http://unitsofmeasure.org")
			q.set("code", x("", u))
		}
		tmpl.set("valueQuantity", q)
	case hasV && hasU:
		tmpl.set("value[x]", x("labvalue", v, u))
	case hasV:
		tmpl.set("valueString", x("", v))
	case hasU:
		p.unuse(u, "a unit without a value column")
	}
	if hasV {
		q := kv(true, "type", "quantity", "column", columns(v)[0])
		if hasU {
			q.set("unitColumn", columns(u)[0])
		}
		search.set("value-quantity", q)
	}
	if c, ok := p.one(rValueText); ok {
		if _, taken := tmpl.vals["valueString"]; taken {
			p.unuse(c, "a second text value")
		} else {
			tmpl.set("valueString", x("", c))
		}
	}
}
