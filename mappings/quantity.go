package mappings

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"

	"github.com/fhirfacade/fhirfacade/search"
)

// numberRE is FHIR's decimal (leading zeros tolerated): sign, digits, an
// optional fraction and exponent. Go's parsers accept more (0x10, 1_0, .5,
// Inf), which a search must refuse, not read as some other number.
var numberRE = regexp.MustCompile(`^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$`)

// searchNumber is a number search value as float64 bounds: the value and
// the range its significant digits imply (5.4 is [5.35, 5.45), 5.4e2 is
// [535, 545)). A value at the edge of float64 or beyond is ±Inf (no
// column holds it).
type searchNumber struct {
	v, lo, hi float64
}

// parseSearchNumber reads a quantity search number. Its cost is bounded by
// the digits it has: an exponent past what could still change the float64
// result is clamped before any power of ten is built (big.Rat would build
// 10^999999 for 1e999999, and refuse 1e9999999 outright).
func parseSearchNumber(s string) (searchNumber, error) {
	m := numberRE.FindStringSubmatch(s)
	if m == nil {
		return searchNumber{}, fmt.Errorf("%q is not a number", s)
	}
	digits, frac := m[2]+m[3], len(m[3])
	limit := len(digits) + 400 // 10^400 is past float64 (1.8e308), 10^-400 below it (5e-324)
	exp := 0
	if m[4] != "" {
		e, err := strconv.Atoi(m[4])
		if err != nil || e > limit || e < -limit { // an out-of-range Atoi is ±MaxInt
			e = limit
			if m[4][0] == '-' {
				e = -limit
			}
		}
		exp = e
	}
	mant, _ := new(big.Int).SetString(digits, 10)
	if m[1] == "-" {
		mant.Neg(mant)
	}
	// value = mant·10^(exp-frac); half the last digit's unit = 5·10^(exp-frac-1)
	num := scaled(new(big.Rat).SetInt(mant), exp-frac)
	half := scaled(big.NewRat(5, 1), exp-frac-1)
	v, _ := num.Float64()
	lo, _ := new(big.Rat).Sub(num, half).Float64()
	hi, _ := new(big.Rat).Add(num, half).Float64()
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.Abs(v) > math.MaxFloat64/2 {
		v = math.Inf(mant.Sign()) // its range or its ap range leaves float64
	}
	return searchNumber{v: v, lo: lo, hi: hi}, nil
}

// scaled multiplies r by 10^e.
func scaled(r *big.Rat, e int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e))), nil)
	if e < 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// cond is the SQL condition of col against the number under a prefix.
// No infinity is bound (not every dialect takes one): a bound past
// float64 is a comparison every number passes or none does.
func (n searchNumber) cond(b *builder, col string, prefix search.Prefix) (string, error) {
	if math.IsInf(n.v, 0) {
		below := n.v > 0 // every stored number is below the value
		switch prefix {
		case search.NE:
			return col + " IS NOT NULL", nil
		case search.LT, search.LE, search.EB:
			if below {
				return col + " IS NOT NULL", nil
			}
		case search.GT, search.GE, search.SA:
			if !below {
				return col + " IS NOT NULL", nil
			}
		}
		return "", search.ErrNoMatch // eq, ap, and the other side
	}
	switch prefix {
	case search.NE:
		return "(" + col + " < " + b.arg(n.lo) + " OR " + col + " >= " + b.arg(n.hi) + ")", nil
	case search.LT, search.EB:
		return col + " < " + b.arg(n.v), nil
	case search.LE:
		return col + " <= " + b.arg(n.v), nil
	case search.GT, search.SA:
		return col + " > " + b.arg(n.v), nil
	case search.GE:
		return col + " >= " + b.arg(n.v), nil
	case search.AP:
		w := math.Abs(n.v) / 10
		return col + " >= " + b.arg(n.v-w) + " AND " + col + " <= " + b.arg(n.v+w), nil
	}
	return col + " >= " + b.arg(n.lo) + " AND " + col + " < " + b.arg(n.hi), nil
}
