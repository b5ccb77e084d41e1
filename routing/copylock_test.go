package routing_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

const holdEnv = "FHIRFACADE_TEST_HOLD_COPYLOCK"

// TestMain doubles as the second process of TestCopyLockAcrossProcesses:
// with holdEnv set, the test binary takes the copy lock on that DSN, says
// so and holds it until it is killed.
func TestMain(m *testing.M) {
	if dsn := os.Getenv(holdEnv); dsn != "" {
		db, err := sqldb.Open(context.Background(), dsn)
		if err != nil {
			os.Exit(2)
		}
		if _, got, err := routing.CopyLock(context.Background(), db, true); err != nil || !got {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCopyLockAcrossProcesses: while another process holds the copy lock
// (a `fhirfacade sync` wave), this one cannot take it (the drainer skips a
// turn) and a waiting taker waits; when the holder dies mid-wave, the lock
// is free again, with no lease to expire.
func TestCopyLockAcrossProcesses(t *testing.T) {
	for _, d := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "control.db") }},
		{"postgres", func(t *testing.T) string { return testutil.PostgresDSN(t) }},
	} {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			ctx := context.Background()
			db, err := sqldb.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			holder := exec.Command(os.Args[0])
			holder.Env = append(os.Environ(), holdEnv+"="+dsn)
			out, _ := holder.StdoutPipe()
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
			held := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if sc.Text() == "held" {
						held <- true
					}
				}
				close(held)
			}()
			select {
			case ok := <-held:
				if !ok {
					t.Fatal("the holder process ended without taking the lock")
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the holder process never took the lock")
			}

			if _, got, err := routing.CopyLock(ctx, db, false); err != nil || got {
				t.Fatalf("took the lock another process holds: got=%v err=%v", got, err)
			}
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			_, got, err := routing.CopyLock(wctx, db, true)
			cancel()
			if got || err == nil {
				t.Fatalf("a waiting taker did not wait: got=%v err=%v", got, err)
			}

			_ = holder.Process.Kill() // dies holding it
			_ = holder.Wait()
			wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			unlock, got, err := routing.CopyLock(wctx, db, true)
			if err != nil || !got {
				t.Fatalf("the lock of a dead process was not freed: got=%v err=%v", got, err)
			}
			unlock()
			if _, got, err := routing.CopyLock(ctx, db, false); err != nil || !got {
				t.Fatalf("not free after unlock: got=%v err=%v", got, err)
			}
		})
	}
}
