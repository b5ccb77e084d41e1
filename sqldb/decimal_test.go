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
