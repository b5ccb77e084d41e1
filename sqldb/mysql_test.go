package sqldb

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// TestMySQLConfig: the URL form becomes the driver's configuration, with
// the settings the facade depends on forced whatever the URL says.
func TestMySQLConfig(t *testing.T) {
	cases := []struct {
		dsn, addr, db, user, pw string
		param                   string // a driver parameter passed through
		bad                     bool
	}{
		{dsn: "mysql://root@127.0.0.1/test", addr: "127.0.0.1:3306", db: "test", user: "root"},
		{dsn: "mysql://app:p%40ss%2Fw@db.example:3307/ehr?charset=utf8mb4&loc=Local&parseTime=false", addr: "db.example:3307", db: "ehr", user: "app", pw: "p@ss/w", param: "utf8mb4"},
		{dsn: "mysql:///test", bad: true},
		{dsn: "mysql://root@127.0.0.1/", bad: true},
		{dsn: "mysql://root@127.0.0.1/a/b", bad: true},
		{dsn: "mysql://root@127.0.0.1/test?bogus_option=%zz", bad: true},
	}
	for _, c := range cases {
		u, err := url.Parse(c.dsn)
		if err != nil {
			if c.bad {
				continue
			}
			t.Fatal(err)
		}
		cfg, err := mysqlConfig(u)
		if c.bad {
			if !errors.Is(err, ErrBadDSN) {
				t.Errorf("%s: want ErrBadDSN, got %v", c.dsn, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.dsn, err)
		}
		if cfg.Addr != c.addr || cfg.DBName != c.db || cfg.User != c.user || cfg.Passwd != c.pw {
			t.Errorf("%s: addr %q db %q user %q pw %q", c.dsn, cfg.Addr, cfg.DBName, cfg.User, cfg.Passwd)
		}
		if !cfg.ParseTime || cfg.Loc != time.UTC || !cfg.ClientFoundRows || !cfg.MultiStatements || cfg.InterpolateParams || cfg.Params["time_zone"] != "'+00:00'" {
			t.Errorf("%s: forced settings missing: %+v", c.dsn, cfg)
		}
	}
}

func TestMariaDBReturning(t *testing.T) {
	for v, want := range map[string]bool{
		"10.11.19-MariaDB-0+deb12u1": true,
		"10.5.0-MariaDB":             true,
		"11.4.2-MariaDB-log":         true,
		"10.4.33-MariaDB":            false,
		"8.0.36":                     false,
		"8.4.0-commercial":           false,
		"5.5.5-10.11.6-MariaDB":      false, // the old replication prefix: be conservative
	} {
		if got := mariaDBReturning(v); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
}
