package search

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Prefix is a FHIR comparison prefix for ordered values.
type Prefix string

// The FHIR R4 prefixes.
const (
	EQ Prefix = "eq"
	NE Prefix = "ne"
	LT Prefix = "lt"
	GT Prefix = "gt"
	LE Prefix = "le"
	GE Prefix = "ge"
	SA Prefix = "sa"
	EB Prefix = "eb"
	AP Prefix = "ap"
)

// SplitPrefix removes a leading two-letter prefix; eq is the default.
func SplitPrefix(raw string) (Prefix, string) {
	if len(raw) >= 2 {
		switch p := Prefix(raw[:2]); p {
		case EQ, NE, LT, GT, LE, GE, SA, EB, AP:
			return p, raw[2:]
		}
	}
	return EQ, raw
}

// DateRange is a date search value: its prefix and the half-open instant
// range [Lo, Hi) that its precision implies (2018-10 is the whole month).
type DateRange struct {
	Prefix Prefix
	Lo, Hi time.Time
}

// ParseDate parses a prefixed FHIR date/dateTime search value. Values with
// no zone are read in loc (the legacy data's zone, as the spec leaves the
// zone of such values to the server).
func ParseDate(raw string, loc *time.Location) (DateRange, error) {
	p, v := SplitPrefix(raw)
	// a '+' in a query string arrives as a space when the client did not
	// percent-encode it; accept that common mistake
	v = strings.Replace(v, " ", "+", 1)
	m := dateParts(v)
	if m == nil {
		return DateRange{}, fmt.Errorf("%q is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm])", raw)
	}
	atoi := func(s string, def int) int {
		if s == "" {
			return def
		}
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := atoi(m[1], 1), atoi(m[2], 1), atoi(m[3], 1)
	hour, minute, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) || hour > 23 || minute > 59 || sec > 59 {
		return DateRange{}, fmt.Errorf("%q is not a valid calendar date or time", raw)
	}
	zone := loc
	if z := m[8]; z != "" {
		if z == "Z" {
			zone = time.UTC
		} else {
			t, err := time.Parse("-07:00", z)
			if err != nil {
				return DateRange{}, fmt.Errorf("%q has a bad zone offset", raw)
			}
			_, off := t.Zone()
			if off > 14*3600 || off < -14*3600 {
				// what the write side refuses too: no zone is past ±14:00
				return DateRange{}, fmt.Errorf("%q has a zone offset past ±14:00", raw)
			}
			zone = time.FixedZone(z, off)
		}
	}
	ns := 0
	if frac := m[7]; frac != "" {
		d := frac[1:] + strings.Repeat("0", 9-len(frac[1:]))
		ns = atoi(d, 0)
	}
	lo := time.Date(year, time.Month(month), day, hour, minute, sec, ns, zone)
	var hi time.Time
	switch {
	case m[2] == "":
		hi = lo.AddDate(1, 0, 0)
	case m[3] == "":
		hi = lo.AddDate(0, 1, 0)
	case m[4] == "":
		hi = lo.AddDate(0, 0, 1)
	case m[6] == "":
		hi = lo.Add(time.Minute)
	case m[7] == "":
		hi = lo.Add(time.Second)
	default:
		// precision of the fraction given: .1 is a tenth of a second
		step := time.Duration(1)
		for i := len(m[7]) - 1; i < 9; i++ {
			step *= 10
		}
		hi = lo.Add(step)
	}
	return DateRange{Prefix: p, Lo: lo, Hi: hi}, nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Approx widens a range for the ap prefix by 10% of the gap between now and
// the value, as the FHIR specification recommends (at least one day).
func (d DateRange) Approx(now time.Time) (lo, hi time.Time) {
	gap := now.Sub(d.Lo)
	if gap < 0 {
		gap = -gap
	}
	w := gap / 10
	if w < 24*time.Hour {
		w = 24 * time.Hour
	}
	return d.Lo.Add(-w), d.Hi.Add(w)
}

// ErrNoMatch is returned by translators for a value that can never match
// (an unknown code, a malformed id); the search returns no rows, not 400.
var ErrNoMatch = errors.New("value cannot match")
