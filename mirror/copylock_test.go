package mirror_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// copierEnv makes the test binary a second process that takes the copy
// lock: "ROLE DSN", ROLE being
//   - hold: takes it as a sync wave, says "held" and keeps it;
//   - drain: a drainer that always has work: takes it, copies "rows" of
//     20 ms (saying "row" after each) and yields between two rows;
//   - wait: a sync that says "waiting" and waits for it (held elsewhere).
//
// It runs until it is killed.
const copierEnv = "FHIRFACADE_TEST_COPIER"

// TestMain doubles as that second process.
func TestMain(m *testing.M) {
	if role, dsn, ok := strings.Cut(os.Getenv(copierEnv), " "); ok {
		os.Exit(copier(role, dsn))
	}
	os.Exit(m.Run())
}

func copier(role, dsn string) int {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return 2
	}
	side := mirror.SyncSide
	if role == "drain" {
		side = mirror.DrainSide
	}
	turns, err := mirror.OpenCopyTurns(ctx, db, side)
	if err != nil {
		return 3
	}
	if role == "wait" {
		os.Stdout.WriteString("waiting\n")
	}
	if _, err := turns.Take(ctx); err != nil {
		return 4
	}
	os.Stdout.WriteString("held\n")
	for role == "drain" {
		time.Sleep(20 * time.Millisecond)
		os.Stdout.WriteString("row\n")
		if _, err := turns.Yield(ctx); err != nil {
			return 5
		}
	}
	time.Sleep(time.Minute)
	return 0
}

// startCopier runs the test binary as a copier and returns its stdout
// lines once it has said first.
func startCopier(t *testing.T, role, dsn, first string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), copierEnv+"="+role+" "+dsn)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1<<16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the %s process ended before it said %q", role, first)
			}
			if l == first {
				return cmd, lines
			}
		case <-timeout:
			t.Fatalf("the %s process never said %q", role, first)
		}
	}
}

func openTurns(t *testing.T, dsn string, side mirror.Copier) *mirror.CopyTurns {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	turns, err := mirror.OpenCopyTurns(context.Background(), db, side)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(turns.Close)
	return turns
}

// takeWithin takes the copy lock, or reports whether it could not within d.
func takeWithin(turns *mirror.CopyTurns, d time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return turns.Take(ctx)
}

// TestCopyLockAcrossProcesses: while another process holds the copy lock
// (a `fhirfacade sync` wave), this one waits for it; when the holder dies
// mid-wave, the lock is free again, with no lease to expire.
func TestCopyLockAcrossProcesses(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		holder, _ := startCopier(t, "hold", dsn, "held")
		// a copier whose Take failed is spent: a fresh one below
		if _, err := takeWithin(openTurns(t, dsn, mirror.DrainSide), 300*time.Millisecond); err == nil {
			t.Fatal("took the lock another process holds")
		}
		turns := openTurns(t, dsn, mirror.DrainSide)
		_ = holder.Process.Kill() // dies holding it
		_ = holder.Wait()
		if _, err := takeWithin(turns, 10*time.Second); err != nil {
			t.Fatalf("the lock of a dead process was not freed: %v", err)
		}
		turns.Release()
		if w, err := takeWithin(turns, time.Second); err != nil || w > 100*time.Millisecond {
			t.Fatalf("not free after release: waited %v, %v", w, err)
		}
	})
}

// TestCopyTurnsAcrossProcesses: a drainer in another process that always
// has work hands the copy lock to each sync wave of this one within a
// second, and gets a turn (copies rows) between every two waves. Then a
// sync that waits in another process and dies waiting leaves no marker
// behind: the drainer keeps the lock and takes it again at once.
func TestCopyTurnsAcrossProcesses(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		drainer, rows := startCopier(t, "drain", dsn, "held")
		var copied atomic.Int64
		go func() {
			for range rows {
				copied.Add(1)
			}
		}()
		sync := openTurns(t, dsn, mirror.SyncSide)
		var waits []string
		for wave := 1; wave <= 5; wave++ {
			before := copied.Load()
			w, err := takeWithin(sync, 10*time.Second)
			waits = append(waits, w.Round(time.Millisecond).String())
			if err != nil {
				t.Fatalf("wave %d: no copy lock after %v: %v", wave, w, err)
			}
			if w > time.Second {
				t.Errorf("wave %d waited %v for the copy lock", wave, w.Round(time.Millisecond))
			}
			if wave > 1 && copied.Load() == before {
				t.Errorf("the drainer copied no row between waves %d and %d", wave-1, wave)
			}
			time.Sleep(100 * time.Millisecond) // the wave's work
			sync.Release()
		}
		t.Logf("waits: %v; drainer rows: %d", waits, copied.Load())
		_ = drainer.Process.Kill()
		_ = drainer.Wait()

		// this process drains; a sync in another process waits, gets
		// its turn and dies holding the lock
		drain := openTurns(t, dsn, mirror.DrainSide)
		if _, err := takeWithin(drain, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		waiter, lines := startCopier(t, "wait", dsn, "waiting")
		yielded := make(chan error, 1)
		go func() {
			for {
				time.Sleep(drainTurn)
				if y, err := drain.Yield(ctx); err != nil || y {
					yielded <- err
					return
				}
			}
		}()
		if l := <-lines; l != "held" {
			t.Fatalf("the waiting sync said %q", l)
		}
		_ = waiter.Process.Kill()
		_ = waiter.Wait()
		select {
		case err := <-yielded:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the drainer did not get the lock back from a sync that died holding it")
		}

		// a sync that dies while it waits leaves no marker: the drainer
		// keeps its turn
		waiter, _ = startCopier(t, "wait", dsn, "waiting")
		time.Sleep(500 * time.Millisecond) // it holds its marker now
		_ = waiter.Process.Kill()
		_ = waiter.Wait()
		time.Sleep(drainTurn)
		if y, err := drain.Yield(ctx); err != nil || y {
			t.Fatalf("the drainer handed over to a dead sync: %v %v", y, err)
		}
	})
}

// drainTurn is the drainer's: a Yield sooner than this does not look.
const drainTurn = 200 * time.Millisecond
