package search

// dateParts splits v into the parts of a FHIR date search value, as the
// pattern
//
//	^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$
//
// does with FindStringSubmatch ([0] the whole value, [1] year … [7] the
// fraction with its dot, [8] the zone; "" for a part not given), and nil
// when v is not of that shape. It is written out because every date search
// runs it, and the regular expression cost more than the rest of the
// search's parsing; TestDatePartsMatchesPattern and FuzzDateParts hold it to
// the pattern.
func dateParts(v string) []string {
	p := dateScanner{v: v, m: make([]string, 9)}
	p.m[0] = v
	// each part is optional, but only after the one before it
	ok := p.digits(1, 4) &&
		(p.end() || p.lit('-') && p.digits(2, 2)) &&
		(p.end() || p.lit('-') && p.digits(3, 2)) &&
		(p.end() || p.timeOfDay()) &&
		p.end()
	if !ok {
		return nil
	}
	return p.m
}

type dateScanner struct {
	v string
	i int
	m []string
}

// digits takes n ASCII digits as part k.
func (p *dateScanner) digits(k, n int) bool {
	if len(p.v)-p.i < n {
		return false
	}
	for j := p.i; j < p.i+n; j++ {
		if p.v[j] < '0' || p.v[j] > '9' {
			return false
		}
	}
	if k > 0 {
		p.m[k] = p.v[p.i : p.i+n]
	}
	p.i += n
	return true
}

func (p *dateScanner) end() bool { return p.i == len(p.v) }

func (p *dateScanner) lit(c byte) bool {
	if p.i < len(p.v) && p.v[p.i] == c {
		p.i++
		return true
	}
	return false
}

// timeOfDay takes Thh:mm[:ss[.f{1,9}]][Z|±hh:mm].
func (p *dateScanner) timeOfDay() bool {
	if !p.lit('T') || !p.digits(4, 2) || !p.lit(':') || !p.digits(5, 2) {
		return false
	}
	if p.lit(':') {
		if !p.digits(6, 2) {
			return false
		}
		if start := p.i; p.lit('.') {
			n := 0
			for p.i < len(p.v) && n < 9 && p.v[p.i] >= '0' && p.v[p.i] <= '9' {
				p.i++
				n++
			}
			if n == 0 {
				return false
			}
			p.m[7] = p.v[start:p.i]
		}
	}
	if p.i == len(p.v) {
		return true
	}
	start := p.i
	switch {
	case p.lit('Z'):
	case p.lit('+') || p.lit('-'):
		if !p.digits(0, 2) || !p.lit(':') || !p.digits(0, 2) {
			return false
		}
	default:
		return false
	}
	p.m[8] = p.v[start:p.i]
	return true
}
