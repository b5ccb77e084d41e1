package scaffold

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// A role is what a column is guessed to hold: the element a draft maps it
// to. Guesses go by the column's name (lower-cased, without separators:
// last_nm, LastName and "Last Name" are all lastnm/lastname) and its kind.
type role string

// The roles a column can be guessed to have.
const (
	rNone         role = ""
	rLastUpdated  role = "lastUpdated"
	rIdentifier   role = "identifier"
	rFamily       role = "family"
	rGiven        role = "given"
	rPrefix       role = "prefix"
	rSuffix       role = "suffix"
	rBirthDate    role = "birthDate"
	rGender       role = "gender"
	rDeathDate    role = "deathDate"
	rDeceasedFlag role = "deceasedFlag"
	rPhone        role = "phone"
	rEmail        role = "email"
	rLine         role = "line"
	rCity         role = "city"
	rState        role = "state"
	rPostal       role = "postalCode"
	rCountry      role = "country"
	rStatus       role = "status"
	rClass        role = "class"
	rStart        role = "start"
	rEnd          role = "end"
	rService      role = "serviceType"
	rCode         role = "code"
	rEffective    role = "effective"
	rValue        role = "value"
	rValueText    role = "valueText"
	rUnit         role = "unit"
	rInterp       role = "interpretation"
	rRefRange     role = "referenceRange"
)

var (
	text     = []sqldb.Kind{sqldb.KindText}
	codes    = []sqldb.Kind{sqldb.KindText, sqldb.KindInt}
	idKinds  = []sqldb.Kind{sqldb.KindText, sqldb.KindInt, sqldb.KindUUID}
	instants = []sqldb.Kind{sqldb.KindDateTime, sqldb.KindInstant}
	days     = []sqldb.Kind{sqldb.KindDate, sqldb.KindDateTime, sqldb.KindInstant}
	dayText  = []sqldb.Kind{sqldb.KindDate, sqldb.KindDateTime, sqldb.KindInstant, sqldb.KindText}
	numbers  = []sqldb.Kind{sqldb.KindDecimal, sqldb.KindFloat, sqldb.KindInt}
	flags    = []sqldb.Kind{sqldb.KindText, sqldb.KindBool}
)

// rule guesses one role: for the resource types listed ("" for any), a
// column whose squeezed name matches and whose kind is listed has it.
type rule struct {
	types string
	role  role
	name  *regexp.Regexp
	kinds []sqldb.Kind
}

// rules are tried in order; the first that fits wins.
var rules = []rule{
	{"", rLastUpdated, re(`^(last)?(mod|modif|modified|modify|upd|update|updated|change|changed|chg|edit|edited)(at|on|date|dt|dttm|ts|time|tm|datetime|timestamp)?$|^lastupd`), instants},
	{"Patient", rIdentifier, re(`^(mrn|mrno|medrecno|medicalrecord(number|no|num)?|chart(number|no)|patient(number|no|num))$`), idKinds},
	{"Patient", rFamily, re(`^(last|family|sur)(name|nm)?$`), text},
	{"Patient", rGiven, re(`^(first|given|middle|mid)(name|nm|initial|init)?$`), text},
	{"Patient", rPrefix, re(`^(name)?prefix$|^title$`), text},
	{"Patient", rSuffix, re(`^(name)?suffix$`), text},
	{"Patient", rBirthDate, re(`^(dob|birth(date|dt|dte|day|dttm)?|dateofbirth)$`), dayText},
	{"Patient", rGender, re(`^(sex|gender)(cd|code)?$`), codes},
	{"Patient", rDeathDate, re(`^(death|deceased|died|dod)(date|dt|dte|dttm|datetime|ts|on|at)?$|^dateofdeath$`), days},
	{"Patient", rDeceasedFlag, re(`^(deceased|dead|expired|died)(yn|flag|ind)?$`), flags},
	{"Patient", rPhone, re(`phone|tel$|mobile|cell`), text},
	{"Patient", rEmail, re(`mail`), text},
	{"Patient", rLine, re(`^(addr|address|street)(line|ln)?[0-9]?$`), text},
	{"Patient", rCity, re(`^(city|town)(name|nm)?$`), text},
	{"Patient", rState, re(`^(state|province)(cd|code|name|nm)?$`), text},
	{"Patient", rPostal, re(`^(zip|postal|post)(cd|code)?$`), text},
	{"Patient", rCountry, re(`^country(cd|code|name|nm)?$`), text},
	{"Encounter", rIdentifier, re(`^(visit|encounter|enc|account|acct|fin|csn)(number|num|no|nbr)$`), idKinds},
	{"Encounter", rStatus, re(`^(visit|encounter|enc)?status(cd|code)?$`), codes},
	{"Encounter", rClass, re(`^(visit|encounter|enc|patient)?(type|class)(cd|code)?$`), codes},
	{"Encounter", rStart, re(`^(admit|admission|start|begin|arrival|arrive|checkin)(date)?(time|dttm|dt|ts|datetime|at)?$`), days},
	{"Encounter", rEnd, re(`^(disch|discharge|discharged|end|checkout|departure)(date)?(time|dttm|dt|ts|datetime|at)?$`), days},
	{"Encounter", rService, re(`^(dept|department|service|unit)(cd|code|name|nm)?$`), text},
	{"Observation", rIdentifier, re(`accession|accn|^specimen(id|no|number)$`), idKinds},
	{"Observation", rStatus, re(`^(result|obs|observation)?status(cd|code)?$`), codes},
	{"Observation", rCode, re(`^(local)?(test|lab|order|observation|obs|analyte)(test)?(cd|code|id)$`), codes},
	{"Observation", rEffective, re(`^(collect|collected|collection|effective|observed|obs|drawn|specimen|result)(date|dt|dte|dttm|time|at|datetime|ts)$`), days},
	{"Observation", rValue, re(`^(result|numeric|num|obs|observation)?(val|value)(num|numeric)?$`), append(slices.Clone(numbers), sqldb.KindText)},
	{"Observation", rValueText, re(`^(text|txt|string|str)(value|val)$|^(result|obs)?(text|txt)$`), text},
	{"Observation", rUnit, re(`^(result)?(unit|units|uom)$`), text},
	{"Observation", rInterp, re(`^(abn|abnormal|interp|interpretation)(flag|flg|ind|cd|code)?$|^flag$`), codes},
	{"Observation", rRefRange, re(`^(ref|reference|normal)(range|rng)$`), text},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// squeeze is a name as the rules read it: lower case, letters and digits.
func squeeze(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// guessRole is the role of a column in a table of resource type typ.
func guessRole(typ string, c sqldb.Column) role {
	n := squeeze(c.Name)
	for _, r := range rules {
		if (r.types == "" || r.types == typ) && r.name.MatchString(n) && slices.Contains(r.kinds, c.Kind) {
			return r.role
		}
	}
	return rNone
}

// words splits a table name into lower-case words: PatientVisit, pat_master,
// vw_LabResultDetail -> [vw lab result detail].
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// typeWords name a table's resource type: the first type with a word in
// the table's name wins (PatientVisit is an Encounter, not a Patient).
var typeWords = []struct {
	typ   string
	words []string
}{
	{"Observation", []string{"result", "results", "lab", "labs", "observation", "observations", "obs"}},
	{"Encounter", []string{"visit", "visits", "encounter", "encounters", "admission", "admissions", "enc"}},
	{"Patient", []string{"patient", "patients", "person", "persons", "pat", "pt"}},
}

// GuessType is the resource type a table's name suggests, "" for none.
func GuessType(table string) string {
	ws := words(table)
	for _, tw := range typeWords {
		for _, w := range ws {
			if slices.Contains(tw.words, w) {
				return tw.typ
			}
		}
	}
	return ""
}

// descRE names a lookup table's description column.
var descRE = re(`desc|display|name|text|label|title|meaning`)

// lookupOf says whether a referenced table looks like a code lookup (few
// columns, a one-column text key, a description-like text column) and
// returns its description column.
func lookupOf(cols []sqldb.Column, keys sqldb.Keys) (desc string, ok bool) {
	if len(cols) == 0 || len(cols) > 6 || len(keys.Primary) != 1 {
		return "", false
	}
	for _, c := range cols {
		if c.Name == keys.Primary[0] && c.Kind != sqldb.KindText {
			return "", false
		}
	}
	for _, c := range cols {
		if c.Name != keys.Primary[0] && c.Kind == sqldb.KindText && descRE.MatchString(squeeze(c.Name)) {
			return c.Name, true
		}
	}
	return "", false
}
