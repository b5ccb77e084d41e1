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

// bound is a value to compare a column with: what is bound, and the time
// it is as the column holds it (the legacy wall clock, a day, or UTC).
type bound struct {
	v    any
	wall time.Time
}

// at is x for the i-th column: an instant for an instant column, else the
// legacy wall clock.
func (t target) at(i int, x time.Time) bound {
	if t.b.s.kindOf(t.p.cols[i]) == sqldb.KindInstant {
		return bound{InstantVal{x}, x.UTC()}
	}
	l := t.local(x)
	return bound{t.b.s.wallArg(t.p.cols[i], l), l.Time}
}

func day(d DateVal) bound { return bound{d, d.Time} }

// Legacy date and time columns hold the years 1 to 9999 (SQL Server's
// date, datetime2 and datetimeoffset; SQLite's text compares as a time
// only with four-digit years). A bound outside them is a comparison
// every value passes or none does, never a value to bind: PostgreSQL
// refused year 0 (a 503 for birthdate=0001-01-01T00:00:00Z in a zone west
// of UTC) and SQLite compared "10000-01-01" as text (wrong rows for
// anything ending on 9999-12-31).
var (
	firstLegacyTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	endLegacyTime   = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// less is c < v.
func (t target) less(c string, v bound) string {
	switch {
	case !v.wall.Before(endLegacyTime):
		return c + " IS NOT NULL"
	case v.wall.Before(firstLegacyTime):
		return "1=0"
	}
	return c + " < " + t.b.arg(v.v)
}

// atLeast is c >= v.
func (t target) atLeast(c string, v bound) string {
	switch {
	case !v.wall.Before(endLegacyTime):
		return "1=0"
	case v.wall.Before(firstLegacyTime):
		return c + " IS NOT NULL"
	}
	return c + " >= " + t.b.arg(v.v)
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
		return t.less(c, day(t.ceilDay(x)))
	case "period":
		return "((" + c + " IS NULL AND " + t.col(1) + " IS NOT NULL) OR " + t.less(c, t.at(0, x)) + ")"
	}
	return t.less(c, t.at(0, x))
}

// loGE: Tl >= x
func (t target) loGE(x time.Time) string {
	c := t.col(0)
	if t.p.dateKind == "date" {
		return t.atLeast(c, day(t.ceilDay(x)))
	}
	return t.atLeast(c, t.at(0, x))
}

// hiGT: Th > x (an instant's Th is just after it: t >= x)
func (t target) hiGT(x time.Time) string {
	switch t.p.dateKind {
	case "date":
		return t.atLeast(t.col(0), day(t.floorDay(x)))
	case "period":
		e := t.col(1)
		return "((" + e + " IS NULL AND " + t.col(0) + " IS NOT NULL) OR " + t.atLeast(e, t.at(1, x)) + ")"
	}
	return t.atLeast(t.col(0), t.at(0, x))
}

// hiLE: Th <= x
func (t target) hiLE(x time.Time) string {
	switch t.p.dateKind {
	case "date":
		return t.less(t.col(0), day(t.floorDay(x)))
	case "period":
		return t.less(t.col(1), t.at(1, x))
	}
	return t.less(t.col(0), t.at(0, x))
}
