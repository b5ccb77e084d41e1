package sqldb

import "testing"

// TestKindIn: a type name's kind, and the names whose kind depends on the
// dialect (MariaDB's TIMESTAMP is an instant, PostgreSQL's a wall clock).
func TestKindIn(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		typ  string
		want Kind
	}{
		{Postgres{}, "timestamp(3) without time zone", KindDateTime},
		{Postgres{}, "timestamp with time zone", KindInstant},
		{MySQL{}, "timestamp", KindInstant},
		{MySQL{}, "TIMESTAMP(6)", KindInstant},
		{MySQL{}, "datetime", KindDateTime},
		{MySQL{}, "uuid", KindUUID},
		{MySQL{}, "int unsigned", KindInt},
		{SQLite{}, "TIMESTAMP", KindDateTime},
		{SQLite{}, "DATETIMEOFFSET(7)", KindInstant},
		{SQLServer{}, "NUMERIC(12,4)", KindDecimal},
		{SQLServer{}, "xml", KindUnknown},
	} {
		if got := KindIn(c.d, c.typ); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.d.Name(), c.typ, got, c.want)
		}
	}
}

// TestTableSQL: dbo is kept where the dialect has schemas, dropped where a
// schema is the database itself (MariaDB) or the file (SQLite).
func TestTableSQL(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		want string
	}{
		{SQLServer{}, "dbo.[PatientMaster]"},
		{Postgres{}, `dbo."PatientMaster"`},
		{MySQL{}, "`PatientMaster`"},
		{SQLite{}, `"PatientMaster"`},
	} {
		if got := TableSQL(c.d, "dbo", "PatientMaster"); got != c.want {
			t.Errorf("%s: %s, want %s", c.d.Name(), got, c.want)
		}
	}
}

// TestStringLiteral: spec text in SQL is quoted for each dialect (a
// backslash is an escape in MySQL's literals).
func TestStringLiteral(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		in   string
		want string
	}{
		{Postgres{}, `a'b\c`, `'a''b\c'`},
		{SQLServer{}, `a'b\c`, `'a''b\c'`},
		{MySQL{}, `a'b\c`, `'a''b\\c'`},
	} {
		if got := StringLiteral(c.d, c.in); got != c.want {
			t.Errorf("%s: %s, want %s", c.d.Name(), got, c.want)
		}
	}
}
