package mappings

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// ErrUnknownParam marks a search parameter the spec does not support.
var ErrUnknownParam = errors.New("unknown search parameter")

// ErrUnsupported marks a modifier, prefix or sort the spec cannot translate.
// It is backend.ErrNotSupported, so its message is not wrapped twice.
var ErrUnsupported = backend.ErrNotSupported

// Stmt is one SQL statement with its bound arguments.
type Stmt struct {
	SQL  string
	Args []any
}

type builder struct {
	d    sqldb.Dialect
	s    *Spec
	args []any
}

// c renders a column reference for the builder's dialect.
func (b *builder) c(ref string) string { return b.s.sqlCol(b.d, ref) }

// cmp renders a column for comparing and sorting: an instant column as
// an expression that compares as instants do.
func (b *builder) cmp(ref string) string {
	if b.s.kindOf(ref) == sqldb.KindInstant {
		return sqldb.InstantExpr(b.d, b.c(ref))
	}
	return b.c(ref)
}

// text renders a column for LIKE: read as text when it holds another type.
func (b *builder) text(ref string) string {
	switch b.s.kindOf(ref) {
	case sqldb.KindText, sqldb.KindUnknown:
		return b.c(ref)
	}
	return sqldb.TextExpr(b.d, b.c(ref))
}

func (b *builder) arg(v any) string {
	if x, ok := v.(InstantVal); ok {
		// through the same expression as the column it is compared with:
		// SQLite's text instants round to the millisecond there, and a
		// value rounded any other way would repeat or skip rows at a
		// page boundary
		b.args = append(b.args, sqldb.InstantArg(b.d, x.Time))
		return sqldb.InstantExpr(b.d, b.d.Placeholder(len(b.args)))
	}
	switch x := v.(type) {
	case storedInstant:
		v = sqldb.InstantArg(b.d, x.Time)
	case DateVal:
		v = b.d.DateArg(x.Time)
	case DateTimeVal:
		v = b.d.TimeArg(x.Time)
	}
	b.args = append(b.args, v)
	return b.d.Placeholder(len(b.args))
}

// param is a compiled search parameter.
type param struct {
	name     string
	kind     string // token, string, date, reference, quantity
	spec     SearchSpec
	cols     []string   // qualified columns
	maps     []*codeMap // per coding (token)
	sysCols  []string   // per coding (token): the qualified system column, "" for a fixed system
	strMap   *codeMap   // string: the values are codes through this map
	dateKind string     // date, datetime, period
	sortCol  string     // "" when not sortable
	idOf     *interp    // _id: the id template
	target   *Spec      // reference: the target type's spec
}

// sysCol is coding i's system column ("" for a fixed system).
func (p *param) sysCol(i int) string {
	if i < len(p.sysCols) {
		return p.sysCols[i]
	}
	return ""
}

func (p *param) columns() []string {
	out := append([]string(nil), p.cols...)
	for _, c := range p.sysCols {
		if c != "" {
			out = append(out, c)
		}
	}
	if p.spec.UnitColumn != "" {
		out = append(out, qualify(p.spec.UnitColumn))
	}
	return out
}

func (s *Spec) colKind(ref string) string {
	if s.LastUpdated != "" && ref == "t."+s.LastUpdated {
		return "datetime"
	}
	var kind string
	var walk func(n *node)
	walk = func(n *node) {
		var x *expr
		switch n.kind {
		case kExpr:
			x = n.expr
		case kInterp:
			for _, ix := range n.interp.exprs {
				walk(&node{kind: kExpr, expr: ix})
			}
			return
		case kObject, kArray:
			for _, k := range n.kids {
				walk(k)
			}
			return
		default:
			return
		}
		for i, r := range x.refs {
			if r != ref {
				continue
			}
			switch {
			case x.tr.name == "date":
				kind = "date"
			case x.tr.name == "datetime" || (x.tr.name == "deceased" && i == 1):
				kind = "datetime"
			}
		}
	}
	walk(s.root)
	return kind
}

func (s *Spec) compileSearch(aliases map[string]bool) error {
	s.params = map[string]*param{
		"_id": {name: "_id", kind: "token", cols: []string{"t." + s.Key}, idOf: s.idTmpl, sortCol: "t." + s.Key},
	}
	if s.LastUpdated != "" {
		s.params["_lastUpdated"] = &param{name: "_lastUpdated", kind: "date", cols: []string{"t." + s.LastUpdated}, dateKind: "datetime", sortCol: "t." + s.LastUpdated}
	}
	checkCol := func(name, c string) (string, error) {
		ref, err := s.ref(c)
		if err != nil {
			return "", fmt.Errorf("search %s: %v", name, err)
		}
		s.col(ref) // sort and cursor values come from the select list
		return ref, nil
	}
	for name, ss := range s.Search {
		if strings.HasPrefix(name, "_") {
			return fmt.Errorf("search %s: parameters starting with _ are built in", name)
		}
		p := &param{name: name, kind: ss.Type, spec: ss}
		raw, err := s.paramColumns(name, ss, p)
		if err != nil {
			return err
		}
		if len(raw) == 0 && ss.Constant == nil {
			return fmt.Errorf("search %s: no column given", name)
		}
		for _, c := range raw {
			ref, err := checkCol(name, c)
			if err != nil {
				return err
			}
			p.cols = append(p.cols, ref)
		}
		if ss.UnitColumn != "" {
			if _, err := checkCol(name, ss.UnitColumn); err != nil {
				return err
			}
		}
		if err := s.systemColumns(name, ss, p, checkCol); err != nil {
			return err
		}
		if ss.Type == "date" && p.dateKind == "" {
			p.dateKind = s.colKind(p.cols[0])
			if p.dateKind == "" {
				return fmt.Errorf("search %s: column %s is not mapped with the date or datetime transform", name, raw[0])
			}
		}
		if (ss.Type == "date") || (ss.Type == "string" && len(p.cols) == 1) {
			p.sortCol = p.cols[0]
		}
		s.params[name] = p
	}
	return nil
}

// systemColumns sets p.sysCols: for each coding of a token parameter, the
// column its system is read from ("" when the system is fixed).
func (s *Spec) systemColumns(name string, ss SearchSpec, p *param, checkCol func(name, c string) (string, error)) error {
	if ss.Type != "token" || ss.Constant != nil {
		return nil
	}
	p.sysCols = make([]string, len(ss.Codings))
	for i, c := range ss.Codings {
		if c.SystemColumn == "" {
			continue
		}
		if c.System != "" {
			return fmt.Errorf("search %s: a coding has system or systemColumn, not both", name)
		}
		ref, err := checkCol(name, c.SystemColumn)
		if err != nil {
			return err
		}
		p.sysCols[i] = ref
	}
	return nil
}

// paramColumns is the columns a search parameter of ss's type reads, as
// written in the spec, with the code maps of its codings set on p.
func (s *Spec) paramColumns(name string, ss SearchSpec, p *param) ([]string, error) {
	var raw []string
	switch ss.Type {
	case "token":
		if ss.Constant != nil {
			break
		}
		for _, c := range ss.Codings {
			raw = append(raw, c.Column)
			var m *codeMap
			if c.Map != "" {
				if m = s.maps[c.Map]; m == nil {
					return nil, fmt.Errorf("search %s: code map %q is not defined", name, c.Map)
				}
			}
			p.maps = append(p.maps, m)
		}
	case "string":
		raw = ss.Columns
		if ss.Map != "" {
			if p.strMap = s.maps[ss.Map]; p.strMap == nil || p.strMap.present {
				return nil, fmt.Errorf("search %s: code map %q is not defined", name, ss.Map)
			}
		}
	case "date":
		switch {
		case len(ss.Period) == 2:
			raw, p.dateKind = ss.Period, "period"
		case ss.Column != "":
			raw = []string{ss.Column}
		}
	case "reference", "quantity":
		if ss.Column != "" {
			raw = []string{ss.Column}
		}
		if ss.Type == "reference" && (ss.Target == "" || ss.Path == "") {
			return nil, fmt.Errorf("search %s: a reference needs a target type and the path of its element", name)
		}
	default:
		return nil, fmt.Errorf("search %s: unknown type %q (token, string, date, reference, quantity)", name, ss.Type)
	}
	return raw, nil
}

// from is the FROM clause with the spec's joins.
func (s *Spec) from(d sqldb.Dialect) string {
	if s.d == d && s.fromSQL != "" {
		return s.fromSQL
	}
	var b strings.Builder
	b.WriteString(s.sqlTable(d, "t") + " t")
	for _, j := range s.Joins {
		fmt.Fprintf(&b, " LEFT JOIN %s %s ON %s = %s", s.sqlTable(d, j.Alias), j.Alias, s.sqlCol(d, j.Alias+"."+j.Key), s.sqlCol(d, "t."+j.On))
	}
	return b.String()
}

// selectList is the comma-separated select list; rows scan in this order.
func (s *Spec) selectList(d sqldb.Dialect) string {
	if s.d == d && s.selectSQL != "" {
		return s.selectSQL
	}
	out := make([]string, len(s.cols))
	for i, c := range s.cols {
		out[i] = s.sqlCol(d, c)
	}
	return strings.Join(out, ", ")
}

// NumCols is the width of a row.
func (s *Spec) NumCols() int { return len(s.cols) }

// GivenKeys tells whether a new row may be inserted under a key chosen
// outside the legacy database — the id of a resource created on the FHIR
// server, or a client's update-as-create. Only a uuid key (uniqueidentifier)
// may: any uuid is a key of the form the database itself makes, and no
// sequence stands behind it that would hand the same key to another row
// later. An integer identity or a text code the legacy application
// assigns may not (false also for an unbound spec, whose key type is
// unknown).
func (s *Spec) GivenKeys() bool { return s.kindOf("t."+s.Key) == sqldb.KindUUID }

// KeyOf parses a FHIR id into the legacy key; ErrNoMatch when no row can
// have that id.
func (s *Spec) KeyOf(id string) (any, error) {
	it := s.idTmpl
	if !strings.HasPrefix(id, it.prefix) || !strings.HasSuffix(id, it.suffix) || len(id) < len(it.prefix)+len(it.suffix) {
		return nil, search.ErrNoMatch
	}
	seg := id[len(it.prefix) : len(id)-len(it.suffix)]
	tr := it.exprs[0].tr
	v, err := tr.dec("", seg)
	if err != nil {
		return nil, search.ErrNoMatch
	}
	// only the id the mapping itself renders names the row: "01" or "+1"
	// decode to key 1 but are other FHIR ids, and serving them would let a
	// write or delete through an alias leave its tombstone, id map entry
	// and mirror row under the wrong id
	if tr.text != nil {
		if canon, ok, err := tr.text(v); err == nil && ok && canon != seg {
			return nil, search.ErrNoMatch
		}
	}
	// an id that no value of the key column's type can be (not a uuid
	// for a uuid key) names no row: binding it would fail the query
	key, ok := s.coerceKey("t."+s.Key, v[0])
	if !ok {
		return nil, search.ErrNoMatch
	}
	return key, nil
}

// ReadStmt selects the row of one id.
func (s *Spec) ReadStmt(d sqldb.Dialect, id string) (Stmt, error) {
	key, err := s.KeyOf(id)
	if err != nil {
		return Stmt{}, err
	}
	b := &builder{d: d, s: s}
	where := b.c("t."+s.Key) + " = " + b.arg(key)
	return Stmt{SQL: d.Select(s.selectList(d), s.from(d), where, "", 0), Args: b.args}, nil
}

// Cursor is the keyset position after the last row of a page: the sort
// values of that row and its key.
type Cursor struct {
	Vals []any `json:"v"`
}

// SearchRequest is a translated search's inputs.
type SearchRequest struct {
	Query  *search.Query
	After  *Cursor // nil on the first page
	Limit  int     // rows to fetch (page size + 1 to detect a next page)
	Strict bool    // unknown parameters are errors, not ignored
	Now    time.Time
}

// SearchStmt translates a search into one parameterised statement. It
// returns the names of parameters it ignored (lenient mode).
func (s *Spec) SearchStmt(d sqldb.Dialect, r SearchRequest) (Stmt, []string, error) {
	b := &builder{d: d, s: s}
	where, ignored, err := s.where(b, r)
	if err != nil {
		return Stmt{}, nil, err
	}
	order, keyset, err := s.order(b, r.Query.Sort, r.After)
	if err != nil {
		return Stmt{}, nil, err
	}
	if keyset != "" {
		where = append(where, keyset)
	}
	return Stmt{SQL: d.Select(s.selectList(d), s.from(d), strings.Join(where, " AND "), order, r.Limit), Args: b.args}, ignored, nil
}

// CountStmt counts every row the search matches (_total, _summary=count).
func (s *Spec) CountStmt(d sqldb.Dialect, r SearchRequest) (Stmt, error) {
	b := &builder{d: d, s: s}
	where, _, err := s.where(b, r)
	if err != nil {
		return Stmt{}, err
	}
	return Stmt{SQL: d.Select("COUNT(*)", s.from(d), strings.Join(where, " AND "), "", 0), Args: b.args}, nil
}

// where ANDs every parameter; each parameter ORs its values.
func (s *Spec) where(b *builder, r SearchRequest) ([]string, []string, error) {
	var conds, ignored []string
	for _, qp := range r.Query.Params {
		p := s.params[qp.Name]
		if p == nil && qp.Name == "_lastUpdated" {
			return nil, nil, s.noStamp()
		}
		if p == nil && (strings.Contains(qp.Name, ".") || strings.HasPrefix(qp.Name, "_has")) {
			return nil, nil, fmt.Errorf("%w: chained and reverse-chained search (%s)", ErrUnsupported, qp.Name)
		}
		if p == nil {
			if r.Strict {
				return nil, nil, fmt.Errorf("%w: %s has no search parameter %q", ErrUnknownParam, s.ResourceType, qp.Name)
			}
			ignored = append(ignored, qp.Name)
			continue
		}
		c, err := s.paramCond(b, p, qp, r.Now)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, c)
	}
	return conds, ignored, nil
}

func (s *Spec) paramCond(b *builder, p *param, qp search.Param, now time.Time) (string, error) {
	if qp.Modifier == "missing" {
		return s.missing(b, p, qp)
	}
	var alts []string
	for _, v := range qp.Values {
		if v == "" {
			return "", fmt.Errorf("%w: %s: an empty value", search.ErrInvalid, qp.Name)
		}
		bound := len(b.args)
		c, err := s.valueCond(b, p, qp.Modifier, v, now)
		if errors.Is(err, search.ErrNoMatch) {
			// arguments bound before the value turned out to match
			// nothing are dropped with its condition (left over, they
			// failed the statement: a 503)
			b.args = b.args[:bound]
			c, err = "1=0", nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", search.ErrInvalid, qp.Name, v, err)
		}
		alts = append(alts, c)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

func (s *Spec) missing(b *builder, p *param, qp search.Param) (string, error) {
	if len(qp.Values) != 1 || (qp.Values[0] != "true" && qp.Values[0] != "false") {
		return "", fmt.Errorf("%w: %s:missing takes true or false", search.ErrInvalid, qp.Name)
	}
	if len(p.cols) == 0 { // a constant is never missing
		if qp.Values[0] == "true" {
			return "1=0", nil
		}
		return "1=1", nil
	}
	var parts []string
	for _, c := range p.cols {
		if qp.Values[0] == "true" {
			parts = append(parts, b.c(c)+" IS NULL")
		} else {
			parts = append(parts, b.c(c)+" IS NOT NULL")
		}
	}
	if qp.Values[0] == "true" {
		return "(" + strings.Join(parts, " AND ") + ")", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// notTrue is the rows for which c is not true: false or unknown. NOT (c)
// would drop the unknown ones — a row whose ICD-10 column is NULL while its
// SNOMED CT code differs makes "snomed = X OR icd10 = X" unknown, yet that
// row does not have code X (:not must match it), and an open period's NULL
// end makes "end <= X" unknown although the period does not end by X (ne).
func notTrue(c string) string { return "(CASE WHEN " + c + " THEN 1 ELSE 0 END = 0)" }

func (s *Spec) valueCond(b *builder, p *param, mod, raw string, now time.Time) (string, error) {
	switch p.kind {
	case "token":
		if mod != "" && mod != "not" {
			return "", fmt.Errorf("%w: modifier :%s on token parameter %s", ErrUnsupported, mod, p.name)
		}
		bound := len(b.args)
		c, err := s.tokenCond(b, p, raw)
		if mod == "not" && errors.Is(err, search.ErrNoMatch) {
			b.args = b.args[:bound]
			return "1=1", nil // nothing has that code: everything is "not" it
		}
		if err != nil || mod != "not" {
			return c, err
		}
		// :not also matches rows where the value is absent
		return notTrue(c), nil
	case "string":
		return s.stringCond(b, p, mod, raw)
	case "date":
		if mod != "" {
			return "", fmt.Errorf("%w: modifier :%s on date parameter %s", ErrUnsupported, mod, p.name)
		}
		dr, err := search.ParseDate(raw, s.loc)
		if err != nil {
			return "", err
		}
		return dateCond(b, p, dr, s.loc, now), nil
	case "reference":
		return s.referenceCond(b, p, mod, raw)
	case "quantity":
		if mod != "" {
			return "", fmt.Errorf("%w: modifier :%s on quantity parameter %s", ErrUnsupported, mod, p.name)
		}
		return s.quantityCond(b, p, raw)
	}
	return "", fmt.Errorf("%w: parameter type %s", ErrUnsupported, p.kind)
}

func (s *Spec) tokenCond(b *builder, p *param, raw string) (string, error) {
	tok, err := search.ParseToken(raw)
	if err != nil {
		return "", err
	}
	if p.idOf != nil { // _id
		key, err := s.KeyOf(tok.Code)
		if err != nil || tok.HasSystem {
			return "", search.ErrNoMatch
		}
		return b.c(p.cols[0]) + " = " + b.arg(key), nil
	}
	if c := p.spec.Constant; c != nil {
		if tok.Code == c.Code && (!tok.HasSystem || tok.System == c.System || (tok.System == "" && c.System == "")) {
			return "1=1", nil
		}
		return "1=0", nil
	}
	var alts []string
	for i, cs := range p.spec.Codings {
		sys, ok := s.systemCond(b, p, i, tok)
		if !ok || (p.sysCol(i) == "" && tok.HasSystem && tok.System != cs.System) {
			continue
		}
		col := b.c(p.cols[i])
		alt := ""
		if tok.Code == "" { // system| : any code in that system
			alt = col + " IS NOT NULL"
		} else if alt, ok = s.codingCond(b, p, i, tok.Code); !ok {
			continue
		}
		if sys != "" {
			// the system first: its argument was bound first (MySQL binds ? in text order)
			alt = "(" + sys + " AND " + alt + ")"
		}
		alts = append(alts, alt)
	}
	switch len(alts) {
	case 0:
		return "", search.ErrNoMatch
	case 1:
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

// systemCond is the condition on coding i's system column for tok ("" when
// the coding's system is fixed or tok names none; ok false: no row can
// match, e.g. a system that cannot be a value of the column).
func (s *Spec) systemCond(b *builder, p *param, i int, tok search.Token) (string, bool) {
	ref := p.sysCol(i)
	if ref == "" || !tok.HasSystem {
		return "", true
	}
	if tok.System == "" { // |code: a coding without a system
		return b.c(ref) + " IS NULL", true
	}
	v, ok := coerce(s.kindOf(ref), tok.System)
	if !ok {
		return "", false
	}
	return b.c(ref) + " = " + b.arg(v), true
}

// codingCond is one coding's condition for code (ok false: no value of the
// column can match it): the code through the coding's map, each legacy
// code read as a value of the column's type; the built-in map "present"
// matches on whether the column holds a value at all (deceased from a
// death date).
func (s *Spec) codingCond(b *builder, p *param, i int, code string) (string, bool) {
	ref := p.cols[i]
	codes := []string{code}
	if m := p.maps[i]; m != nil {
		if m.present {
			switch code {
			case "true":
				return b.c(ref) + " IS NOT NULL", true
			case "false":
				return b.c(ref) + " IS NULL", true
			}
			return "", false
		}
		codes = m.all[code]
	}
	var phs []string
	for _, c := range codes {
		if v, ok := coerce(s.kindOf(ref), c); ok {
			phs = append(phs, b.arg(v))
		}
	}
	switch len(phs) {
	case 0:
		return "", false
	case 1:
		return b.c(ref) + " = " + phs[0], true
	}
	return b.c(ref) + " IN (" + strings.Join(phs, ", ") + ")", true
}

func (s *Spec) stringCond(b *builder, p *param, mod, raw string) (string, error) {
	v, err := search.Unescape(raw)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", errors.New("empty string value")
	}
	if p.strMap != nil {
		return s.mappedStringCond(b, p, mod, v)
	}
	var alts []string
	for _, ref := range p.cols {
		col := b.text(ref)
		switch mod {
		case "", "contains":
			pat := sqldb.EscapeLike(v) + "%"
			if mod == "contains" {
				pat = "%" + pat
			}
			nonASCII := strings.IndexFunc(v, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0
			if _, lower := sqldb.LikeCIText(b.d, col, "", nonASCII); lower {
				pat = strings.ToLower(pat)
			}
			c, _ := sqldb.LikeCIText(b.d, col, b.arg(pat), nonASCII)
			alts = append(alts, c)
		case "exact":
			alts = append(alts, b.d.EqualCS(col, b.arg(v)))
		default:
			return "", fmt.Errorf("%w: modifier :%s on string parameter %s", ErrUnsupported, mod, p.name)
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

// mappedStringCond is a string search over coded columns: the value is
// matched against the FHIR codes of the map (as string search matches:
// case-insensitive prefix, :contains, :exact) and the columns compared
// with the legacy codes of the codes that match — what the resource
// shows, not what the table stores.
func (s *Spec) mappedStringCond(b *builder, p *param, mod, v string) (string, error) {
	var legacy []string
	for fhir, codes := range p.strMap.all {
		f, lv := strings.ToLower(fhir), strings.ToLower(v)
		var hit bool
		switch mod {
		case "":
			hit = strings.HasPrefix(f, lv)
		case "contains":
			hit = strings.Contains(f, lv)
		case "exact":
			hit = fhir == v
		default:
			return "", fmt.Errorf("%w: modifier :%s on string parameter %s", ErrUnsupported, mod, p.name)
		}
		if hit {
			legacy = append(legacy, codes...)
		}
	}
	if len(legacy) == 0 {
		return "", search.ErrNoMatch
	}
	sort.Strings(legacy) // stable SQL for the same search
	var alts []string
	for _, ref := range p.cols {
		var phs []string
		for _, c := range legacy {
			// each code read as a value of the column's type, as token
			// search does (a code no value can be is left out)
			if v, ok := coerce(s.kindOf(ref), c); ok {
				phs = append(phs, b.arg(v))
			}
		}
		if len(phs) == 0 {
			continue
		}
		alts = append(alts, b.c(ref)+" IN ("+strings.Join(phs, ", ")+")")
	}
	if len(alts) == 0 {
		return "", search.ErrNoMatch
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

func (s *Spec) referenceCond(b *builder, p *param, mod, raw string) (string, error) {
	target := p.spec.Target
	if mod != "" && mod != target {
		if strings.Contains(mod, ".") || mod == "identifier" {
			return "", fmt.Errorf("%w: chained or :identifier reference search on %s", ErrUnsupported, p.name)
		}
		if !fhirTypeRE.MatchString(mod) {
			return "", fmt.Errorf("%w: modifier :%s on reference parameter %s", ErrUnsupported, mod, p.name)
		}
		return "", search.ErrNoMatch // another type: nothing of it here
	}
	v, err := search.Unescape(raw)
	if err != nil {
		return "", err
	}
	if strings.Contains(v, ".") && !strings.Contains(v, "/") {
		return "", fmt.Errorf("%w: chained search %s.%s", ErrUnsupported, p.name, v)
	}
	// a versioned reference names the resource (legacy keeps one version)
	if base, _, ok := strings.Cut(v, "/_history/"); ok {
		v = base
	}
	id := v
	if i := strings.LastIndex(v, "/"); i >= 0 {
		typ := v[:i]
		if j := strings.LastIndex(typ, "/"); j >= 0 {
			typ = typ[j+1:]
		}
		if typ != target {
			return "", search.ErrNoMatch
		}
		id = v[i+1:]
	}
	var key any = id
	if p.target != nil {
		k, err := p.target.KeyOf(id)
		if err != nil {
			return "", err
		}
		key = k
	}
	if key, ok := s.coerceKey(p.cols[0], key); ok {
		return b.c(p.cols[0]) + " = " + b.arg(key), nil
	}
	return "", search.ErrNoMatch
}

func (s *Spec) quantityCond(b *builder, p *param, raw string) (string, error) {
	prefix, rest := search.SplitPrefix(raw)
	parts := strings.SplitN(rest, "|", 3)
	n, err := parseSearchNumber(parts[0])
	if err != nil {
		return "", err
	}
	col := b.c(p.cols[0])
	switch s.kindOf(p.cols[0]) {
	case sqldb.KindInt, sqldb.KindDecimal, sqldb.KindFloat:
		// a number column compares as it is (the text-to-number guard
		// would fail on it: PostgreSQL has no regex match on numeric)
	default:
		col = sqldb.Numeric(b.d, col)
	}
	c, err := n.cond(b, col, prefix)
	if err != nil {
		return "", err
	}
	if len(parts) == 3 && parts[2] != "" {
		if parts[1] != "" && parts[1] != "http://unitsofmeasure.org" {
			return "", search.ErrNoMatch
		}
		if p.spec.UnitColumn == "" {
			return "", search.ErrNoMatch
		}
		c += " AND " + b.c(qualify(p.spec.UnitColumn)) + " = " + b.arg(parts[2])
	}
	return "(" + c + ")", nil
}
