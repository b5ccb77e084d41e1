package sqldb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"
	"modernc.org/sqlite"
)

// IsConstraint reports whether err is a constraint violation (foreign key,
// unique, not null, check) in any of the supported drivers.
func IsConstraint(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return len(pg.Code) == 5 && pg.Code[:2] == "23"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == 19 // SQLITE_CONSTRAINT and its extended codes
	}
	var me mssql.Error
	if errors.As(err, &me) {
		switch me.Number {
		case 547, 2601, 2627, 515:
			return true
		}
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		// duplicate key, foreign key (parent missing / row referenced,
		// and their older forms), NULL into NOT NULL, no default, CHECK
		// (MySQL 3819, MariaDB 4025)
		switch my.Number {
		case 1062, 1451, 1452, 1216, 1217, 1048, 1364, 3819, 4025:
			return true
		}
	}
	return false
}

// IsForeignKey reports whether err is a foreign-key violation: a row
// names a parent that does not exist or, on a DELETE, other rows still
// refer to the row (the statement tells which). PostgreSQL 23503; SQLite
// SQLITE_CONSTRAINT_FOREIGNKEY (787, "FOREIGN KEY constraint failed");
// SQL Server 547 on a REFERENCE or FOREIGN KEY constraint (547 is a CHECK
// constraint's too); MySQL 1451 (row referenced), 1452 (parent missing)
// and their older forms 1217, 1216.
func IsForeignKey(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 787 // SQLITE_CONSTRAINT_FOREIGNKEY (extended codes are on)
	}
	var me mssql.Error
	if errors.As(err, &me) {
		return me.Number == 547 && !strings.Contains(me.Message, "CHECK constraint")
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1451, 1452, 1216, 1217:
			return true
		}
	}
	return false
}

// IsRetryable reports a serialization failure or deadlock that a retry of
// the whole transaction resolves.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == 5 || se.Code()&0xff == 6 // BUSY, LOCKED
	}
	var me mssql.Error
	if errors.As(err, &me) {
		return me.Number == 1205
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1213 || my.Number == 1205 // deadlock, lock wait timeout
	}
	return false
}

// Describe renders a driver error without the values it may quote (a
// duplicate-key message repeats the key, which can be PHI): the SQLSTATE or
// error number for database errors, the message for connection errors.
func Describe(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return "postgres error SQLSTATE " + pg.Code
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("sqlite error code %d", se.Code())
	}
	var me mssql.Error
	if errors.As(err, &me) {
		return fmt.Sprintf("sqlserver error %d", me.Number)
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return fmt.Sprintf("mysql error %d", my.Number)
	}
	return err.Error()
}

// IsDataError reports a value the column cannot take (too long, out of
// range, bad format): the client's data, not a server fault.
func IsDataError(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return len(pg.Code) == 5 && pg.Code[:2] == "22"
	}
	var me mssql.Error
	if errors.As(err, &me) {
		switch me.Number {
		case 8152, 2628, 8115, 241, 242:
			return true
		}
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		// too long, out of range, bad date-time, bad number, truncated
		switch my.Number {
		case 1406, 1264, 1292, 1366, 1265:
			return true
		}
	}
	return false
}
