package mappings

import (
	"time"

	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// dateCond translates one prefixed date value. The target of a row is a
// range [Tl, Th): a DATE column is its whole local day, a date-time column an
// instant, a period its start and end (an open end runs forever). The
// prefixes follow the reading of the FHIR ranges that the shared
// search-semantics assertions pin down (carried over from another FHIR
// server's tests):
//
//	eq: Tl >= Pl AND Th <= Ph     ne: NOT eq
//	lt, le: Tl < Ph               gt, ge: Th > Pl
//	sa: Tl >= Ph                  eb: Th <= Pl
//	ap: the ranges overlap once the value is widened by 10% of its distance from now
func dateCond(b *builder, p *param, dr search.DateRange, loc *time.Location, now time.Time) string {
	t := target{b: b, p: p, loc: loc}
	switch dr.Prefix {
	case search.EQ:
		return "(" + t.loGE(dr.Lo) + " AND " + t.hiLE(dr.Hi) + ")"
	case search.NE:
		return notTrue(t.loGE(dr.Lo)+" AND "+t.hiLE(dr.Hi)) + t.present()
	case search.LT, search.LE:
		return t.loLT(dr.Hi)
	case search.GT, search.GE:
		return t.hiGT(dr.Lo)
	case search.SA:
		return t.loGE(dr.Hi)
	case search.EB:
		return t.hiLE(dr.Lo)
	default: // AP
		lo, hi := dr.Approx(now)
		return "(" + t.loLT(hi) + " AND " + t.hiGT(lo) + ")"
	}
}

type target struct {
	b   *builder
	p   *param
	loc *time.Location
}

// local converts an instant to the legacy wall clock (DateTimeVal).
func (t target) local(x time.Time) DateTimeVal {
	l := x.In(t.loc)
	return DateTimeVal{time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)}
}

// floorDay is the local calendar day containing x; ceilDay the first local
// day starting at or after x.
func (t target) floorDay(x time.Time) DateVal {
	l := x.In(t.loc)
	return DateVal{time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)}
}

func (t target) ceilDay(x time.Time) DateVal {
	f := t.floorDay(x)
	l := x.In(t.loc)
	if l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		return f
	}
	return DateVal{f.AddDate(0, 0, 1)}
}

// col is the i-th column as compared (an instant column as an instant).
func (t target) col(i int) string { return t.b.cmp(t.p.cols[i]) }

// at binds x for the i-th column: an instant for an instant column, else
// the legacy wall clock.
func (t target) at(i int, x time.Time) string {
	if t.b.s.kindOf(t.p.cols[i]) == sqldb.KindInstant {
		return t.b.arg(InstantVal{x})
	}
	return t.b.arg(t.local(x))
}

// present is appended to ne so that NULL targets never match (a resource
// without the value does not match any date search).
func (t target) present() string {
	if t.p.dateKind == "period" {
		return " AND (" + t.col(0) + " IS NOT NULL OR " + t.col(1) + " IS NOT NULL)"
	}
	return " AND " + t.col(0) + " IS NOT NULL"
}

// loLT: Tl < x
func (t target) loLT(x time.Time) string {
	c := t.col(0)
	switch t.p.dateKind {
	case "date":
		return c + " < " + t.b.arg(t.ceilDay(x))
	case "period":
		return "((" + c + " IS NULL AND " + t.col(1) + " IS NOT NULL) OR " + c + " < " + t.at(0, x) + ")"
	}
	return c + " < " + t.at(0, x)
}

// loGE: Tl >= x
func (t target) loGE(x time.Time) string {
	c := t.col(0)
	if t.p.dateKind == "date" {
		return c + " >= " + t.b.arg(t.ceilDay(x))
	}
	return c + " >= " + t.at(0, x)
}

// hiGT: Th > x (an instant's Th is just after it: t >= x)
func (t target) hiGT(x time.Time) string {
	switch t.p.dateKind {
	case "date":
		return t.col(0) + " >= " + t.b.arg(t.floorDay(x))
	case "period":
		e := t.col(1)
		return "((" + e + " IS NULL AND " + t.col(0) + " IS NOT NULL) OR " + e + " >= " + t.at(1, x) + ")"
	}
	return t.col(0) + " >= " + t.at(0, x)
}

// hiLE: Th <= x
func (t target) hiLE(x time.Time) string {
	switch t.p.dateKind {
	case "date":
		return t.col(0) + " < " + t.b.arg(t.floorDay(x))
	case "period":
		return t.col(1) + " < " + t.at(1, x)
	}
	return t.col(0) + " < " + t.at(0, x)
}
