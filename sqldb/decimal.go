package sqldb

import "strings"

// RoundDecimal is the value a decimal column of the given scale stores for
// the plain decimal text v (an optional minus sign, digits, an optional
// point and fraction digits), in the form the database reads it back:
// exactly scale fraction digits, no leading zeros, no negative zero. ok is
// false when v is not such a text (it is then left to the database).
//
// Every dialect whose scale is known rounds half away from zero on the
// way in, whichever way the value comes (a cast, or a text parameter in
// an INSERT). Seen on this machine:
//
//	PostgreSQL 15: CAST('0.0000005' AS numeric(9,6)) = 0.000001,
//	  CAST('-0.0000005' AS numeric(9,6)) = -0.000001,
//	  CAST('0.00000049999' AS numeric(9,6)) = 0.000000,
//	  CAST('-0.0000001' AS numeric(9,6)) = 0.000000 (no negative zero),
//	  CAST('2.5' AS numeric(9,0)) = 3, CAST('-2.5' AS numeric(9,0)) = -3,
//	  CAST('42.6525801234' AS numeric(9,6)) = 42.652580; an INSERT of
//	  '41.7496405' into numeric(9,6) stores 41.749641.
//	MariaDB 10.11: the same results for the same casts on decimal(9,6)
//	  and decimal(9,0), and the same INSERT stores 41.749641 (with note
//	  1265, not an error, under STRICT_TRANS_TABLES).
//
// SQL Server's decimal and numeric round half away from zero too (its
// documentation of CAST and CONVERT; not tried here, there is no SQL
// Server on this machine), as does its conversion to money and smallmoney.
func RoundDecimal(v string, scale int) (string, bool) {
	neg := strings.HasPrefix(v, "-")
	if neg {
		v = v[1:]
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || (frac == "" && strings.HasSuffix(v, ".")) {
		return "", false
	}
	up := len(frac) > scale && frac[scale] >= '5'
	if len(frac) > scale {
		frac = frac[:scale]
	} else {
		frac += strings.Repeat("0", scale-len(frac))
	}
	digits := []byte(whole + frac)
	if up {
		digits = incremented(digits)
	}
	whole, frac = string(digits[:len(digits)-scale]), string(digits[len(digits)-scale:])
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if scale > 0 {
		out += "." + frac
	}
	if neg && strings.Trim(whole+frac, "0") != "" {
		out = "-" + out
	}
	return out, true
}

// allDigits tells whether s holds only ASCII digits ("" does).
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// incremented adds one to the decimal digits d (999 becomes 1000).
func incremented(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	return append([]byte{'1'}, d...)
}

// WholeDigits is the count of digits before the point of the plain
// decimal text v once a column of the given scale has rounded it
// (RoundDecimal), without leading zeros: "0.5" has none, "-0012.3" two,
// and "999.9995" at scale 3 four, since it rounds to 1000.000. ok is false
// when v is not such a text.
func WholeDigits(v string, scale int) (n int, ok bool) {
	r, ok := RoundDecimal(v, scale)
	if !ok {
		return 0, false
	}
	whole, _, _ := strings.Cut(strings.TrimPrefix(r, "-"), ".")
	return len(strings.TrimLeft(whole, "0")), true
}

// FitsDecimal tells whether the plain decimal text v fits a decimal
// column of the given precision and scale: at most precision-scale digits
// before the point once rounded to scale. A text that is not a plain
// decimal is said to fit: the database tells.
//
// Neither database clamps such a value (on this machine):
//
//	PostgreSQL 15: CAST('999.9995' AS numeric(6,3)) and an INSERT of it
//	  fail with 22003 "numeric field overflow" ("must round to an absolute
//	  value less than 10^3"), as does CAST('0.9995' AS numeric(3,3));
//	  '999.9994' stores 999.999.
//	MariaDB 10.11 under its default STRICT_TRANS_TABLES: an INSERT of
//	  '999.9995' or -1000 into decimal(6,3) fails with 1264 (22003) "Out of
//	  range value"; without a strict mode it stores 999.999 with warning
//	  1264, a clamped value no resource gave.
func FitsDecimal(v string, precision, scale int) bool {
	n, ok := WholeDigits(v, scale)
	return !ok || n <= precision-scale
}
