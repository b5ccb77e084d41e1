package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestMySQLLive checks on the machine's MariaDB what the mapping engine
// relies on: zone-less DATETIME round trips, TIMESTAMP as UTC, the string
// comparisons, both ways of getting a generated key, matched-row counts,
// and the error classes.
func TestMySQLLive(t *testing.T) {
	db := testutil.MySQL(t)
	ctx := context.Background()
	d := db.Dialect
	if d.Name() != "mysql" {
		t.Fatalf("dialect %s", d.Name())
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, nm varchar(10) NOT NULL UNIQUE,
		dt datetime(0), ts timestamp NULL, day date) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`)

	ny, _ := time.LoadLocation("America/New_York")
	wall := time.Date(2024, 3, 10, 15, 55, 6, 0, ny)
	ins := d.InsertReturning("t", []string{"nm", "dt", "ts", "day"}, 1, "id")
	for i, dia := range []sqldb.Dialect{d, sqldb.MySQL{NoReturning: true}} {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ins := dia.InsertReturning("t", []string{"nm", "dt", "ts", "day"}, 1, "id")
		key, err := sqldb.InsertKey(ctx, tx, dia, ins, []string{"Smith", "a_b%"}[i], d.TimeArg(wall), wall.UTC(), d.DateArg(wall))
		if err != nil {
			t.Fatalf("%s: %v", ins, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n, _ := key.(int64); n != int64(i+1) {
			t.Fatalf("NoReturning=%v: key %v (%T), want %d", i == 1, key, key, i+1)
		}
	}
	if !strings.Contains(ins, "RETURNING") {
		t.Errorf("MariaDB 10.11 should get RETURNING: %s", ins)
	}

	var dt, ts, day time.Time
	if err := db.QueryRowContext(ctx, "SELECT dt, ts, day FROM t WHERE id = ?", 1).Scan(&dt, &ts, &day); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 10, 15, 55, 6, 0, time.UTC); !dt.Equal(want) {
		t.Errorf("DATETIME: %v, want the wall clock %v unchanged", dt, want)
	}
	if !ts.Equal(wall) {
		t.Errorf("TIMESTAMP: %v, want the instant %v", ts, wall)
	}
	if day.Format("2006-01-02") != "2024-03-10" {
		t.Errorf("DATE: %v", day)
	}

	count := func(where string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		return n
	}
	like, _ := d.LikeCI("nm", "?")
	for _, c := range []struct {
		where string
		arg   any
		want  int
	}{
		{like, "smi%", 1},
		{like, sqldb.EscapeLike("a_") + "%", 1},
		{like, sqldb.EscapeLike("a%") + "%", 0},
		{like, sqldb.EscapeLike(`a\`) + "%", 0},
		{d.EqualCS("nm", "?"), "Smith", 1},
		{d.EqualCS("nm", "?"), "smith", 0},
		{"dt = ?", d.TimeArg(wall), 2},
		{"day = ?", d.DateArg(wall), 2},
		{sqldb.Numeric(d, "nm") + " IS NULL", nil, 2},
	} {
		args := []any{c.arg}
		if c.arg == nil {
			args = nil
		}
		if got := count(c.where, args...); got != c.want {
			t.Errorf("%s (%v): %d rows, want %d", c.where, c.arg, got, c.want)
		}
	}

	// an UPDATE that changes nothing still reports the row it matched
	r, err := db.ExecContext(ctx, "UPDATE t SET nm = ? WHERE id = ?", "Smith", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		t.Errorf("unchanged UPDATE: %d rows, want 1 (clientFoundRows)", n)
	}

	_, err = db.ExecContext(ctx, "INSERT INTO t (nm) VALUES (?)", "Smith")
	if !sqldb.IsConstraint(err) || !strings.HasPrefix(sqldb.Describe(err), "mysql error 1062") {
		t.Errorf("duplicate: %v (%s)", err, sqldb.Describe(err))
	}
	_, err = db.ExecContext(ctx, "INSERT INTO t (nm) VALUES (?)", "much too long for ten")
	if !sqldb.IsDataError(err) {
		t.Errorf("too long: %v", err)
	}
	cols, err := db.TableColumns(ctx, "", "t")
	var names []string
	for _, c := range cols {
		names = append(names, c.Name+":"+string(c.Kind))
	}
	if err != nil || strings.Join(names, ",") != "id:int,nm:text,dt:datetime,ts:instant,day:date" {
		t.Errorf("columns %v %v", names, err)
	}
}
