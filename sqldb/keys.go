package sqldb

import (
	"context"
	"fmt"
)

// Keys is what a table's constraints say about its rows: the primary key
// and the foreign keys to other tables.
type Keys struct {
	Primary []string // column names in key order; none for a view or a heap
	Foreign []ForeignKey
}

// ForeignKey is one foreign-key constraint.
type ForeignKey struct {
	Name       string   // the constraint's name (SQLite, which has none: its position, "0", "1", …)
	Columns    []string // the referring columns, in constraint order
	RefSchema  string   // "" when the referenced table is in the referring table's schema
	RefTable   string
	RefColumns []string // "" entries: the referenced table's primary key (SQLite's REFERENCES t)
}

// keySQL lists a table's primary and foreign key columns, one row per
// column: kind ('P' or 'F'), constraint name, column, position in the
// constraint, referenced schema (empty for the same one), referenced table
// and column. The first argument is the schema ("" for the default one),
// the second the table as the database spells it (TableColumns' Table).
var keySQL = map[string]string{
	"sqlite": `SELECT 'P', '', name, pk, '', '', '' FROM pragma_table_info(?2) WHERE pk > 0 AND ?1 = ?1
UNION ALL SELECT 'F', CAST(id AS TEXT), "from", seq, '', "table", COALESCE("to", '') FROM pragma_foreign_key_list(?2)
ORDER BY 1, 2, 4`,
	"postgres": `SELECT CASE c.contype WHEN 'p' THEN 'P' ELSE 'F' END, c.conname, a.attname, k.ord,
  CASE WHEN rn.nspname IS NULL OR rn.nspname = n.nspname THEN '' ELSE rn.nspname END, COALESCE(rt.relname, ''), COALESCE(ra.attname, '')
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
LEFT JOIN pg_class rt ON rt.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
LEFT JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[k.ord::int]
WHERE c.contype IN ('p', 'f') AND n.nspname = COALESCE(NULLIF($1, ''), current_schema()) AND t.relname = $2
ORDER BY 1, 2, 4`,
	"sqlserver": `SELECT 'P', kc.name, c.name, ic.key_ordinal, '', '', ''
FROM sys.key_constraints kc
JOIN sys.index_columns ic ON ic.object_id = kc.parent_object_id AND ic.index_id = kc.unique_index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE kc.type = 'PK' AND kc.parent_object_id = OBJECT_ID(QUOTENAME(COALESCE(NULLIF(@p1, ''), SCHEMA_NAME())) + '.' + QUOTENAME(@p2))
UNION ALL
SELECT 'F', fk.name, pc.name, fkc.constraint_column_id,
  CASE WHEN rt.schema_id = fk.schema_id THEN '' ELSE SCHEMA_NAME(rt.schema_id) END, rt.name, rc.name
FROM sys.foreign_keys fk
JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.tables rt ON rt.object_id = fkc.referenced_object_id
JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.parent_object_id = OBJECT_ID(QUOTENAME(COALESCE(NULLIF(@p1, ''), SCHEMA_NAME())) + '.' + QUOTENAME(@p2))
ORDER BY 1, 2, 4`,
	"mysql": `SELECT CASE WHEN tc.CONSTRAINT_TYPE = 'PRIMARY KEY' THEN 'P' ELSE 'F' END, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION,
  CASE WHEN k.REFERENCED_TABLE_SCHEMA IS NULL OR k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA THEN '' ELSE k.REFERENCED_TABLE_SCHEMA END,
  COALESCE(k.REFERENCED_TABLE_NAME, ''), COALESCE(k.REFERENCED_COLUMN_NAME, '')
FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE k
JOIN INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
  AND tc.TABLE_NAME = k.TABLE_NAME AND tc.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'FOREIGN KEY') AND k.TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND k.TABLE_NAME = ?
ORDER BY 1, 2, 4`,
}

// TableKeys reads the primary key and foreign keys of table, spelled as
// the database spells it (the Table of TableColumns); a view has none.
// SQLite has no schemas: a qualifier is ignored there.
func (db *DB) TableKeys(ctx context.Context, schema, table string) (Keys, error) {
	var k Keys
	q, ok := keySQL[db.Dialect.Name()]
	if !ok {
		return k, fmt.Errorf("keys of %s: no catalog query for dialect %s", table, db.Dialect.Name())
	}
	rows, err := db.QueryContext(ctx, q, schema, table)
	if err != nil {
		return k, fmt.Errorf("keys of %s: %s", table, Describe(err))
	}
	defer rows.Close()
	fks := map[string]int{} // constraint name -> index in k.Foreign
	for rows.Next() {
		var kind, name, col, refSchema, refTable, refCol string
		var pos int
		if err := rows.Scan(&kind, &name, &col, &pos, &refSchema, &refTable, &refCol); err != nil {
			return k, fmt.Errorf("keys of %s: %s", table, Describe(err))
		}
		if kind == "P" {
			k.Primary = append(k.Primary, col)
			continue
		}
		i, seen := fks[name]
		if !seen {
			i = len(k.Foreign)
			fks[name] = i
			k.Foreign = append(k.Foreign, ForeignKey{Name: name, RefSchema: refSchema, RefTable: refTable})
		}
		fk := &k.Foreign[i]
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
	}
	if err := rows.Err(); err != nil {
		return k, fmt.Errorf("keys of %s: %s", table, Describe(err))
	}
	return k, nil
}
