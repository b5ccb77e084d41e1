package sqldb

import (
	"context"
	"fmt"
	"strings"
)

// Kind is what a live column holds, whatever the dialect calls its type:
// the mapping engine converts values by Kind, never by guessing from what
// the driver happens to return.
type Kind string

// The column kinds.
const (
	KindUnknown  Kind = ""         // a type not listed (binary, xml, …): values pass through
	KindText     Kind = "text"     // char, varchar, nvarchar, text, …
	KindInt      Kind = "int"      // whole numbers
	KindDecimal  Kind = "decimal"  // exact numbers with a scale: decimal, numeric, money
	KindFloat    Kind = "float"    // approximate numbers: real, float, double
	KindBool     Kind = "bool"     // bit, boolean
	KindDate     Kind = "date"     // a calendar day
	KindDateTime Kind = "datetime" // a zone-less wall clock: timestamp, datetime, datetime2
	KindInstant  Kind = "instant"  // an instant: timestamptz, datetimeoffset
	KindUUID     Kind = "uuid"     // uuid, uniqueidentifier
)

// kindOfType classifies a type name as the catalogs spell it (lower case,
// without length or precision). SQLite has no types, only the names a
// CREATE TABLE declared, so the same names are read from its declarations.
var kindOfType = map[string]Kind{
	"char": KindText, "varchar": KindText, "nchar": KindText, "nvarchar": KindText,
	"text": KindText, "ntext": KindText, "character": KindText, "character varying": KindText,
	"bpchar": KindText, "citext": KindText, "clob": KindText, "string": KindText,
	"tinytext": KindText, "mediumtext": KindText, "longtext": KindText, "enum": KindText,
	"varchar2": KindText, "nvarchar2": KindText, "name": KindText,
	"int": KindInt, "integer": KindInt, "bigint": KindInt, "smallint": KindInt, "tinyint": KindInt,
	"mediumint": KindInt, "int2": KindInt, "int4": KindInt, "int8": KindInt,
	"decimal": KindDecimal, "numeric": KindDecimal, "money": KindDecimal, "smallmoney": KindDecimal,
	"real": KindFloat, "float": KindFloat, "double": KindFloat, "double precision": KindFloat,
	"float4": KindFloat, "float8": KindFloat,
	"bit": KindBool, "boolean": KindBool, "bool": KindBool,
	"date":      KindDate,
	"timestamp": KindDateTime, "timestamp without time zone": KindDateTime, "datetime": KindDateTime,
	"datetime2": KindDateTime, "smalldatetime": KindDateTime,
	"timestamptz": KindInstant, "timestamp with time zone": KindInstant, "datetimeoffset": KindInstant,
	"uuid": KindUUID, "uniqueidentifier": KindUUID,
}

// kindOfTypeIn are the type names whose kind depends on the dialect:
// MySQL/MariaDB's TIMESTAMP is an instant (stored as UTC, converted from
// and to the session's time zone, which Open sets to +00:00), where
// PostgreSQL's timestamp is a zone-less wall clock.
var kindOfTypeIn = map[string]map[string]Kind{
	"mysql": {"timestamp": KindInstant},
}

// KindIn classifies a type name as dialect d's catalog spells it.
func KindIn(d Dialect, typ string) Kind {
	b := baseType(typ)
	if k, ok := kindOfTypeIn[d.Name()][b]; ok {
		return k
	}
	return kindOfType[b]
}

// KindOf classifies a declared or catalogued type name: "NUMERIC(12,4)",
// "timestamp(3) without time zone", "DATETIMEOFFSET(7)", as most dialects
// mean it (KindIn knows the exceptions).
func KindOf(typ string) Kind { return kindOfType[baseType(typ)] }

// baseType is a type name without its length or precision, lower case.
func baseType(typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexByte(t, '('); i >= 0 {
		// "timestamp(3) without time zone": the precision sits inside
		if j := strings.IndexByte(t[i:], ')'); j >= 0 {
			t = strings.TrimSpace(t[:i]) + t[i+j+1:]
		} else {
			t = t[:i]
		}
	}
	return strings.Join(strings.Fields(strings.TrimSuffix(t, " unsigned")), " ")
}

// Column is one live column of a table.
type Column struct {
	Table    string // the table's name as the database spells it
	Name     string // as the database spells it
	Type     string // as the catalog or declaration spells it
	Kind     Kind
	Nullable bool
	MaxLen   int // the characters a text column holds (char(n), varchar(n)); 0: unbounded, not text, or SQLite (which enforces none)
	// Scale is the digits after the point a decimal column keeps: the
	// database rounds a written value to it (RoundDecimal). HasScale is
	// false where that is not known: an unconstrained numeric, SQLite
	// (which stores a declared NUMERIC(p,s) value as given), PostgreSQL's
	// money (its digits follow lc_monetary, and its text has a currency
	// sign the decimal transform does not read), a query's columns.
	Scale    int
	HasScale bool
	// Precision is the digits a decimal column holds in all, so at most
	// Precision-Scale before the point once rounded to Scale (FitsDecimal);
	// 0 where unknown (as Scale is), or where the catalog's precision is
	// below the scale (PostgreSQL 15's numeric(2,4)), which is left to the
	// database.
	Precision int
}

// columnSQL lists a table's columns (name, type, nullable as 1/0, and
// where the catalog has them the live table name, the text length, the
// numeric scale and precision, -1 for none) in order:
// the first argument is the schema ("" for the default one), the second the
// table. Names are compared without regard to case: the caller picks an
// exact match when a database holds names that differ only in case.
var columnSQL = map[string]string{
	// SQLite: only an INTEGER PRIMARY KEY (the rowid) can never be NULL
	// besides NOT NULL columns; another primary key column may hold NULL
	"sqlite": "SELECT name, type, CASE WHEN \"notnull\" = 1 OR (pk = 1 AND upper(type) = 'INTEGER') THEN 0 ELSE 1 END FROM pragma_table_info(?2) WHERE ?1 = ?1 ORDER BY cid",
	"postgres": "SELECT column_name, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END, CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END, table_name, COALESCE(character_maximum_length, 0), COALESCE(numeric_scale, -1), COALESCE(numeric_precision, -1) " +
		"FROM information_schema.columns WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND lower(table_name) = lower($2) ORDER BY ordinal_position",
	"sqlserver": "SELECT COLUMN_NAME, DATA_TYPE, CASE WHEN IS_NULLABLE = 'YES' THEN 1 ELSE 0 END, TABLE_NAME, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(CAST(NUMERIC_SCALE AS int), -1), COALESCE(CAST(NUMERIC_PRECISION AS int), -1) " +
		"FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = COALESCE(NULLIF(@p1, ''), SCHEMA_NAME()) AND TABLE_NAME = @p2 ORDER BY ORDINAL_POSITION",
	"mysql": "SELECT COLUMN_NAME, DATA_TYPE, CASE WHEN IS_NULLABLE = 'YES' THEN 1 ELSE 0 END, TABLE_NAME, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(NUMERIC_SCALE, -1), COALESCE(NUMERIC_PRECISION, -1) " +
		"FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND lower(TABLE_NAME) = lower(?) ORDER BY ORDINAL_POSITION",
}

// TableColumns lists the live columns of table ("schema.table" or
// "table"), with their kinds; an unknown table has none. SQLite and MySQL
// have no schemas below the database: a qualifier is ignored there.
func (db *DB) TableColumns(ctx context.Context, schema, table string) ([]Column, error) {
	q, ok := columnSQL[db.Dialect.Name()]
	if !ok {
		return nil, fmt.Errorf("introspect %s: no catalog query for dialect %s", table, db.Dialect.Name())
	}
	if Schemaless(db.Dialect) {
		schema = "" // as TableSQL renders the name
	}
	rows, err := db.QueryContext(ctx, q, schema, table)
	if err != nil {
		return nil, fmt.Errorf("introspect %s: %s", table, Describe(err))
	}
	defer rows.Close()
	byTable := map[string][]Column{}
	var order []string
	cols, _ := rows.Columns()
	for rows.Next() {
		var c Column
		var nullable int
		live := table
		var maxLen, scale, precision int64 = 0, -1, -1
		dest := []any{&c.Name, &c.Type, &nullable}
		if len(cols) == 7 {
			dest = append(dest, &live, &maxLen, &scale, &precision)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("introspect %s: %s", table, Describe(err))
		}
		c.Kind, c.Nullable, c.Table = KindIn(db.Dialect, c.Type), nullable == 1, live
		if maxLen > 0 && maxLen < 1<<31 { // SQL Server's -1 is max: unbounded
			c.MaxLen = int(maxLen)
		}
		c.Scale, c.HasScale = decimalScale(db.Dialect, c, scale)
		c.Precision = decimalPrecision(db.Dialect, c, precision)
		if _, seen := byTable[live]; !seen {
			order = append(order, live)
		}
		byTable[live] = append(byTable[live], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect %s: %s", table, Describe(err))
	}
	// PostgreSQL folds unquoted names to lower case and keeps quoted ones:
	// "PatientMaster" and patientmaster can both exist; the exact one wins
	if c, ok := byTable[table]; ok {
		return c, nil
	}
	if len(order) == 1 {
		return byTable[order[0]], nil
	}
	return nil, nil
}

// decimalScale is the scale of decimal column c, whose catalog gave
// scale (-1: none), and whether it is known. Only exact numbers round to a
// scale the catalog tells: an integer column's scale 0 is not what it does
// to 2.5 (PostgreSQL rounds, MariaDB rounds, SQL Server refuses), nor a
// float's.
func decimalScale(d Dialect, c Column, scale int64) (int, bool) {
	if c.Kind != KindDecimal {
		return 0, false
	}
	if scale < 0 && d.Name() == "sqlserver" {
		// money and smallmoney keep four digits; the catalog says so too,
		// this is for a catalog that does not
		switch baseType(c.Type) {
		case "money", "smallmoney":
			return 4, true
		}
	}
	if scale < 0 || scale > 1000 {
		return 0, false
	}
	return int(scale), true
}

// decimalPrecision is the precision of decimal column c, whose catalog
// gave precision (-1: none), and whose scale is already read; 0 where
// either is unknown. PostgreSQL's and MySQL's numeric_precision of a
// decimal is the declared one (MariaDB's bare decimal: 10); SQL Server's
// INFORMATION_SCHEMA gives money 19 and smallmoney 10, the fallback is
// for a catalog that does not.
func decimalPrecision(d Dialect, c Column, precision int64) int {
	if !c.HasScale {
		return 0
	}
	if precision < 0 && d.Name() == "sqlserver" {
		switch baseType(c.Type) {
		case "money":
			precision = 19
		case "smallmoney":
			precision = 10
		}
	}
	if precision < int64(c.Scale) || precision > 1000 {
		return 0
	}
	return int(precision)
}

// QueryColumns lists the columns of a query's result (a logical table) as
// the driver describes them, without reading a row. Nullability the
// driver does not know is taken as nullable.
func (db *DB) QueryColumns(ctx context.Context, query string) ([]Column, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM ("+query+") q WHERE 1 = 0")
	if err != nil {
		return nil, fmt.Errorf("introspect query: %s", Describe(err))
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("introspect query: %s", Describe(err))
	}
	out := make([]Column, len(types))
	for i, ct := range types {
		nullable, known := ct.Nullable()
		out[i] = Column{Table: "query", Name: ct.Name(), Type: ct.DatabaseTypeName(), Kind: KindOf(ct.DatabaseTypeName()), Nullable: nullable || !known}
	}
	return out, rows.Err()
}
