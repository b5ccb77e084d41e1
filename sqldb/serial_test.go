package sqldb

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSerialWriter: writes to one SQLite file from any number of handles
// in a process take turns in Go (no SQLITE_BUSY, nothing lost); reads do
// not wait for a writer; a writer waiting for its turn gives up when its
// context ends; a writing query holds its turn until its rows are closed.
func TestSerialWriter(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	a, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		db := []*DB{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 0 {
				_, err := db.ExecContext(ctx, "INSERT INTO t (v) VALUES ('auto')")
				errs <- err
				return
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				errs <- err
				return
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('tx')"); err != nil {
				errs <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
			errs <- tx.Commit()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	var n int
	if err := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 32 {
		t.Fatalf("rows %d, %v", n, err)
	}

	// a transaction holds the turn: reads go on, writes wait
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("read beside a writer: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.ExecContext(short, "INSERT INTO t (v) VALUES ('waits')")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write beside an open transaction: %v, want it to wait until its context ends", err)
	}
	_ = tx.Rollback()

	// INSERT ... RETURNING writes while its rows are read
	rows, err := a.QueryContext(ctx, "INSERT INTO t (v) VALUES ('ret') RETURNING id")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.ExecContext(short, "INSERT INTO t (v) VALUES ('waits')")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write beside open RETURNING rows: %v", err)
	}
	rows.Close()
	if _, err := b.ExecContext(ctx, "INSERT INTO t (v) VALUES ('after')"); err != nil {
		t.Fatalf("the turn was not given back: %v", err)
	}
}
