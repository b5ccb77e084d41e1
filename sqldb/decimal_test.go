package sqldb

import "testing"

// TestRoundDecimal: a written decimal as a column of the scale stores it,
// rounded half away from zero as PostgreSQL, MariaDB and SQL Server do
// (see RoundDecimal for what the live databases answered).
func TestRoundDecimal(t *testing.T) {
	for _, c := range []struct {
		v     string
		scale int
		want  string // "" when not a plain decimal
	}{
		// exact: padded to the scale, otherwise unchanged
		{"41.749640", 6, "41.749640"},
		{"41.74964", 6, "41.749640"},
		{"5", 2, "5.00"},
		{"-5.4", 2, "-5.40"},
		{"0", 0, "0"},
		{"12", 0, "12"},
		// more digits than the scale
		{"42.6525801234", 6, "42.652580"},
		{"41.7496401", 6, "41.749640"},
		{"41.7496409", 6, "41.749641"},
		{"0.00000049999", 6, "0.000000"},
		{"1.23456789", 4, "1.2346"},
		// half: away from zero, never to even
		{"0.0000005", 6, "0.000001"},
		{"-0.0000005", 6, "-0.000001"},
		{"2.5", 0, "3"},
		{"-2.5", 0, "-3"},
		{"3.5", 0, "4"},
		{"0.125", 2, "0.13"},
		{"-0.125", 2, "-0.13"},
		{"0.5", 0, "1"},
		// carries
		{"9.9999995", 6, "10.000000"},
		{"-999.995", 2, "-1000.00"},
		{"99.5", 0, "100"},
		// negatives that round to zero lose their sign
		{"-0.0000001", 6, "0.000000"},
		{"-0.4", 0, "0"},
		{"-0.000", 2, "0.00"},
		// leading zeros go
		{"007.50", 1, "7.5"},
		// not plain decimals: left to the database
		{"", 2, ""},
		{"-", 2, ""},
		{"1e5", 2, ""},
		{".5", 2, ""},
		{"5.", 2, ""},
		{"+5", 2, ""},
		{"1.2.3", 2, ""},
		{"--1", 2, ""},
	} {
		got, ok := RoundDecimal(c.v, c.scale)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("RoundDecimal(%q, %d) = %q, %v; want %q", c.v, c.scale, got, ok, c.want)
		}
	}
}

// TestWholeDigits: the digits before the point a column of the scale
// stores, after its rounding (a carry adds one), and whether they fit its
// precision (see FitsDecimal for what the live databases answered).
func TestWholeDigits(t *testing.T) {
	for _, c := range []struct {
		v                string
		precision, scale int
		want             int // -1 when not a plain decimal
		fits             bool
	}{
		{"42.652580", 9, 6, 2, true},
		{"123.456789", 9, 6, 3, true},
		{"1234.5", 9, 6, 4, false},
		{"0", 9, 6, 0, true},
		{"0.5", 3, 3, 0, true},
		{".5", 3, 3, -1, true},
		// negatives: the sign is no digit
		{"-179.999999", 9, 6, 3, true},
		{"-1234.5", 9, 6, 4, false},
		{"-0.0000001", 9, 6, 0, true},
		// leading zeros are no digits
		{"0001.5", 4, 3, 1, true},
		{"-000999.9994", 6, 3, 3, true},
		{"00000", 1, 0, 0, true},
		// the rounding carries into another digit
		{"999.9994", 6, 3, 3, true},
		{"999.9995", 6, 3, 4, false},
		{"-999.9995", 6, 3, 4, false},
		{"0.9995", 3, 3, 1, false},
		{"0.99949", 3, 3, 0, true},
		{"999.9999995", 9, 6, 4, false},
		{"99.5", 2, 0, 3, false},
		{"99.4", 2, 0, 2, true},
		// not plain decimals: left to the database
		{"1e3", 6, 3, -1, true},
		{"12,5", 6, 3, -1, true},
		{"", 6, 3, -1, true},
	} {
		got, ok := WholeDigits(c.v, c.scale)
		if !ok {
			got = -1
		}
		if got != c.want {
			t.Errorf("WholeDigits(%q, %d) = %d, want %d", c.v, c.scale, got, c.want)
		}
		if fits := FitsDecimal(c.v, c.precision, c.scale); fits != c.fits {
			t.Errorf("FitsDecimal(%q, %d, %d) = %v, want %v", c.v, c.precision, c.scale, fits, c.fits)
		}
	}
}
