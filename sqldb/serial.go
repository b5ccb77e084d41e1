package sqldb

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// SQLite allows one writer at a time. Left to itself, a writer that finds
// the database locked polls it from SQLite's busy handler, sleeping up to
// 100 ms between tries: under a few dozen concurrent writers that is where
// request latency goes (tails of seconds), and who gets the lock next is
// luck. So within a process every write to a SQLite database takes a
// per-file token first — transactions from BEGIN to COMMIT/ROLLBACK,
// statements outside a transaction for their run — and waits for it in
// Go, in order, cancellable by its context. Reads (SELECT outside a
// transaction) take nothing: WAL lets them run beside the writer. Other
// processes on the same file (the CLI beside `serve`) still meet the busy
// timeout, which is rare and short.
//
// A goroutine must not hold a transaction and then write through another
// connection of the same database: it would wait for its own token until
// its context ends (SQLite itself would have refused it with SQLITE_BUSY
// after the busy timeout).

var (
	writersMu sync.Mutex
	writers   = map[string]chan struct{}{}
)

// writerToken is the write token of the SQLite file at path (":memory:"
// databases are private to their connection: each gets its own).
func writerToken(path string) chan struct{} {
	if path == ":memory:" {
		return make(chan struct{}, 1)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	writersMu.Lock()
	defer writersMu.Unlock()
	if w, ok := writers[path]; ok {
		return w
	}
	w := make(chan struct{}, 1)
	writers[path] = w
	return w
}

// serialConnector opens SQLite connections that take the file's write
// token for writes.
type serialConnector struct {
	inner driver.Connector
	token chan struct{}
}

func newSerialConnector(dsn, path string) (*serialConnector, error) {
	inner, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &serialConnector{inner: inner, token: writerToken(path)}, nil
}

func (c *serialConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &serialConn{inner: conn, token: c.token}, nil
}

func (c *serialConnector) Driver() driver.Driver { return c.inner.Driver() }

// innerConn is what the SQLite driver's connections implement.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// serialConn wraps one SQLite connection. database/sql uses a connection
// from one goroutine at a time, so inTx needs no lock.
type serialConn struct {
	inner driver.Conn
	token chan struct{}
	inTx  bool
}

var (
	_ driver.ConnBeginTx        = (*serialConn)(nil)
	_ driver.ConnPrepareContext = (*serialConn)(nil)
	_ driver.ExecerContext      = (*serialConn)(nil)
	_ driver.QueryerContext     = (*serialConn)(nil)
	_ driver.Pinger             = (*serialConn)(nil)
	_ driver.SessionResetter    = (*serialConn)(nil)
	_ driver.Validator          = (*serialConn)(nil)
)

func (c *serialConn) in() innerConn { return c.inner.(innerConn) }

// ErrWriterBusy is a write that waited busyTimeout for the write token:
// the same wait, and the same meaning, as SQLite's own SQLITE_BUSY.
var ErrWriterBusy = errors.New("sqlite: database is locked (waited for the writer)")

// busyTimeout matches the DSN's busy_timeout.
const busyTimeout = 10 * time.Second

// acquire waits for the write token; the func returned gives it back once.
func (c *serialConn) acquire(ctx context.Context) (func(), error) {
	t := time.NewTimer(busyTimeout)
	defer t.Stop()
	select {
	case c.token <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, ErrWriterBusy
	}
	var once sync.Once
	return func() { once.Do(func() { <-c.token }) }, nil
}

func (c *serialConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *serialConn) Close() error { return c.inner.Close() }

func (c *serialConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx holds the token from BEGIN to the end of the transaction (the
// DSN makes every transaction BEGIN IMMEDIATE: it takes SQLite's write
// lock at once).
func (c *serialConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.in().BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	c.inTx = true
	return &serialTx{inner: tx, done: func() { c.inTx = false; release() }}, nil
}

func (c *serialConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.in().PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &serialStmt{Stmt: st, c: c, read: isRead(q)}, nil
}

func (c *serialConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx || isRead(q) {
		return c.in().ExecContext(ctx, q, args)
	}
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.in().ExecContext(ctx, q, args)
}

// QueryContext takes the token for a statement that writes (INSERT …
// RETURNING) and keeps it until its rows are closed: SQLite writes while
// the rows are stepped.
func (c *serialConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if c.inTx || isRead(q) {
		return c.in().QueryContext(ctx, q, args)
	}
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.in().QueryContext(ctx, q, args)
	if err != nil {
		release()
		return nil, err
	}
	return &serialRows{Rows: rows, release: release}, nil
}

func (c *serialConn) Ping(ctx context.Context) error { return c.in().Ping(ctx) }

func (c *serialConn) ResetSession(ctx context.Context) error { return c.in().ResetSession(ctx) }

func (c *serialConn) IsValid() bool { return c.in().IsValid() }

// isRead: a statement that cannot write (a plain SELECT; PRAGMAs that
// read are rare and harmless to serialise).
func isRead(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "select")
}

type serialTx struct {
	inner driver.Tx
	done  func()
}

func (t *serialTx) Commit() error {
	defer t.done()
	return t.inner.Commit()
}

func (t *serialTx) Rollback() error {
	defer t.done()
	return t.inner.Rollback()
}

type serialRows struct {
	driver.Rows
	release func()
}

func (r *serialRows) Close() error {
	defer r.release()
	return r.Rows.Close()
}

// serialStmt is a prepared statement: writes outside a transaction take
// the token for their run.
type serialStmt struct {
	driver.Stmt
	c    *serialConn
	read bool
}

func (s *serialStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if !s.c.inTx && !s.read {
		release, err := s.c.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *serialStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.c.inTx || s.read {
		return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	}
	release, err := s.c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &serialRows{Rows: rows, release: release}, nil
}
