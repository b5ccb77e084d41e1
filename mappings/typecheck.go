package mappings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// kinds is a set of column kinds a transform or search reads correctly.
type kinds []sqldb.Kind

var (
	textual  = kinds{sqldb.KindText}
	numbers  = kinds{sqldb.KindInt, sqldb.KindDecimal, sqldb.KindFloat}
	times    = kinds{sqldb.KindDateTime, sqldb.KindInstant}
	anyKind  = kinds(nil)
	dateLike = kinds{sqldb.KindDate, sqldb.KindDateTime, sqldb.KindInstant, sqldb.KindText}
)

func union(ks ...kinds) kinds { return slices.Concat(ks...) }

// transformKinds says which column kinds each transform reads, per column
// (the last entry stands for the rest). A kind not listed would fail at
// read time (an int transform on a decimal column was a 500 on every
// read) or silently change the value; text is allowed where legacy
// schemas keep values as text. An unknown kind is never refused.
var transformKinds = map[string][]kinds{
	"string":       {anyKind},
	"int":          {union(kinds{sqldb.KindInt}, textual)},
	"decimal":      {union(numbers, textual)},
	"code":         {union(textual, kinds{sqldb.KindInt, sqldb.KindBool})},
	"date":         {dateLike},
	"datetime":     {union(times, textual)},
	"yn":           {union(textual, kinds{sqldb.KindBool})},
	"deceased":     {union(textual, kinds{sqldb.KindBool}), union(times, textual)},
	"labvalue":     {anyKind},
	"deceasedDate": {union(times, dateLike)},
}

// searchKinds says which column kinds each search parameter type compares
// correctly (token codes are converted to the column's type, so any kind
// but a time; a time column takes the built-in "present" map).
var searchKinds = map[string]kinds{
	"token":     union(textual, numbers, kinds{sqldb.KindBool, sqldb.KindUUID}),
	"string":    anyKind,
	"date":      dateLike,
	"reference": union(textual, kinds{sqldb.KindInt, sqldb.KindUUID}),
	"quantity":  union(numbers, textual),
}

// allows reports whether ks admits k (nil admits every kind).
func (ks kinds) allows(k sqldb.Kind) bool {
	return ks == nil || k == sqldb.KindUnknown || slices.Contains(ks, k)
}

// typeCheck finds the transforms and search parameters that cannot read
// the live type of a column they use.
func (s *Spec) typeCheck() []Problem {
	var probs []Problem
	check := func(x *expr) {
		name, _, _ := strings.Cut(x.tr.name, ":") // code:gender
		allowed, ok := transformKinds[name]
		if !ok {
			return // a transform with no kinds listed reads any
		}
		for i, ref := range x.refs {
			ks := allowed[min(i, len(allowed)-1)]
			if c, ok := s.live[ref]; ok && !ks.allows(c.Kind) {
				probs = append(probs, s.kindProblem(ref, c, fmt.Sprintf("%s: transform %s cannot read a %s column (%s)", x.path, x.tr.name, c.Kind, c.Type)))
			}
		}
	}
	s.eachExpr(s.root, check)
	for _, x := range s.idTmpl.exprs {
		check(x)
	}
	for _, name := range s.SearchParams() {
		p := s.params[name]
		for i, ref := range p.cols {
			c, ok := s.live[ref]
			if !ok || searchKinds[p.kind].allows(c.Kind) {
				continue
			}
			if p.kind == "token" && i < len(p.maps) && p.maps[i] != nil && p.maps[i].present {
				continue
			}
			probs = append(probs, s.kindProblem(ref, c, fmt.Sprintf("search %s (%s) cannot compare a %s column (%s)%s", name, p.kind, c.Kind, c.Type, searchAdvice(p.kind, c.Kind))))
		}
	}
	return probs
}

func (s *Spec) kindProblem(ref string, c sqldb.Column, msg string) Problem {
	alias, _ := splitRef(ref)
	return Problem{File: s.file, Table: s.tableLabel(alias), Column: c.Name, Fatal: true, Msg: msg}
}

func searchAdvice(param string, k sqldb.Kind) string {
	if param == "token" && (k == sqldb.KindDate || k == sqldb.KindDateTime || k == sqldb.KindInstant) {
		return `: for true/false on whether it is set (deceased from a death date), give the coding map: present`
	}
	return ""
}

// eachExpr calls fn for every expression of the template below n.
func (s *Spec) eachExpr(n *node, fn func(*expr)) {
	switch n.kind {
	case kExpr:
		fn(n.expr)
	case kInterp:
		for _, x := range n.interp.exprs {
			fn(x)
		}
	case kObject, kArray:
		for _, k := range n.kids {
			s.eachExpr(k, fn)
		}
	}
}
