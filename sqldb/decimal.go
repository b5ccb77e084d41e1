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
