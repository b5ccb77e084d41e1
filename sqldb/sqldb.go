// Package sqldb opens the legacy and control databases by URL scheme
// (sqlserver://, postgres://, mysql://, sqlite://PATH) and describes each SQL dialect's
// differences behind one interface, so the mapping engine writes no
// dialect-specific SQL of its own.
package sqldb

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"  // registers driver "pgx"
	_ "github.com/microsoft/go-mssqldb" // registers driver "sqlserver"
	_ "modernc.org/sqlite"              // registers driver "sqlite"
)

// ErrBadDSN is returned for a DSN whose scheme or shape is not understood.
var ErrBadDSN = errors.New("bad database URL")

// DB is an open database together with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Redacted is the DSN with any password removed, safe for logs.
	Redacted string
	// Path is a SQLite database's file ("" for other dialects).
	Path string

	// reader runs legacy reads and searches: a native pgx pool on
	// PostgreSQL (pool), database/sql for the other dialects.
	reader Reader
	pool   *pgxpool.Pool
}

// Reader is what the database's read-only statements outside a write
// transaction run on.
func (d *DB) Reader() Reader { return d.reader }

// ReadPoolStat is the native read pool's statistics (nil on a dialect
// whose reads run on database/sql).
func (d *DB) ReadPoolStat() *pgxpool.Stat {
	if d.pool == nil {
		return nil
	}
	return d.pool.Stat()
}

// PingContext checks the database/sql pool and, on PostgreSQL, the native
// pool reads and searches run on: /readyz must fail when either cannot
// reach the database.
func (d *DB) PingContext(ctx context.Context) error {
	if err := d.DB.PingContext(ctx); err != nil {
		return err
	}
	if d.pool != nil {
		return d.pool.Ping(ctx)
	}
	return nil
}

// Close closes both pools (waiting for the native pool's connections to be
// returned, so a DROP DATABASE after it finds no session left).
func (d *DB) Close() error {
	if d.pool != nil {
		d.pool.Close()
	}
	return d.DB.Close()
}

// Redact removes the password from a database URL so it can be logged or
// returned in an error.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "<unparseable database URL>"
	}
	return u.Redacted()
}

// Open opens dsn. sqlite:// paths are created (with their folder) when
// missing; the connection is checked with a ping.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	t, err := target(dsn)
	if err != nil {
		return nil, err
	}
	var db *sql.DB
	switch t.driver {
	case "sqlite":
		var c *serialConnector
		if c, err = newSerialConnector(t.conn, t.file); err == nil {
			db = sql.OpenDB(c)
		}
	case "mysql":
		var c sqldriver.Connector
		if c, err = mysql.NewConnector(t.mysql); err == nil {
			db = sql.OpenDB(c)
		}
	default:
		db, err = sql.Open(t.driver, t.conn)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %v", Redact(dsn), redactErr(err, dsn))
	}
	d := t.dialect
	if d.Name() == "sqlite" {
		// One writer at a time is all SQLite allows; a small pool of
		// readers is plenty for the embedded default.
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = db.PingContext(pctx)
	if err == nil && t.driver == "mysql" {
		d, err = mysqlDialect(pctx, db)
	}
	out := &DB{DB: db, Dialect: d, Redacted: Redact(dsn), Path: t.file, reader: SQLReader(db)}
	if err == nil && t.driver == "pgx" && !o.noReadPool {
		if out.pool, err = openPgxPool(pctx, dsn); err == nil {
			out.reader = pgxReader{out.pool}
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect %s: %v", Redact(dsn), redactErr(err, dsn))
	}
	return out, nil
}

// Option changes how Open opens a database.
type Option func(*options)

type options struct{ noReadPool bool }

// WithoutReadPool opens no native PostgreSQL read pool: for a database
// that serves no legacy reads (the control store), which would otherwise
// keep an idle pool and the connection its ping opens for nothing.
func WithoutReadPool() Option { return func(o *options) { o.noReadPool = true } }

// dsnTarget is what a database URL names: the driver, its connection
// string or configuration, and the dialect.
type dsnTarget struct {
	driver, conn, file string
	mysql              *mysql.Config
	dialect            Dialect
}

func target(dsn string) (dsnTarget, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsnTarget{}, fmt.Errorf("%w: %q: want sqlserver://, postgres://, mysql:// or sqlite://PATH", ErrBadDSN, Redact(dsn))
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		path := rest
		if path == "" {
			return dsnTarget{}, fmt.Errorf("%w: sqlite:// needs a file path", ErrBadDSN)
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return dsnTarget{}, fmt.Errorf("sqlite: create folder for %s: %w", path, err)
			}
		}
		// WAL lets readers proceed while a writer commits; busy_timeout makes
		// concurrent writers wait instead of failing with SQLITE_BUSY.
		conn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		return dsnTarget{driver: "sqlite", conn: conn, file: path, dialect: SQLite{}}, nil
	case "postgres", "postgresql":
		return dsnTarget{driver: "pgx", conn: dsn, dialect: Postgres{}}, nil
	case "sqlserver":
		return dsnTarget{driver: "sqlserver", conn: dsn, dialect: SQLServer{}}, nil
	case "mysql", "mariadb":
		u, err := url.Parse(dsn)
		if err != nil {
			return dsnTarget{}, fmt.Errorf("%w: %s", ErrBadDSN, Redact(dsn))
		}
		cfg, err := mysqlConfig(u)
		if err != nil {
			return dsnTarget{}, err
		}
		return dsnTarget{driver: "mysql", mysql: cfg, dialect: MySQL{}}, nil
	}
	return dsnTarget{}, fmt.Errorf("%w: unknown scheme %q in %s", ErrBadDSN, scheme, Redact(dsn))
}

// redactErr keeps a driver error from echoing the password it was given.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
