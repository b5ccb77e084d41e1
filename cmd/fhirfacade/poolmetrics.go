package main

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// readPoolCollector exports the PostgreSQL legacy database's native read
// pool (sqldb.DB.ReadPoolStat) beside database/sql's go_sql_* stats: its
// waits are where concurrent searches queue.
type readPoolCollector struct {
	stat                          func() *pgxpool.Stat
	max, open, inUse, idle        *prometheus.Desc
	acquires, waited, waitSeconds *prometheus.Desc
}

func newReadPoolCollector(stat func() *pgxpool.Stat) *readPoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("fhirfacade_legacy_read_pool_"+name, help, nil, nil)
	}
	return &readPoolCollector{
		stat:        stat,
		max:         d("max_conns", "Most connections the legacy read pool opens."),
		open:        d("open_conns", "Connections the legacy read pool has open."),
		inUse:       d("in_use_conns", "Legacy read pool connections running a statement."),
		idle:        d("idle_conns", "Idle legacy read pool connections."),
		acquires:    d("acquires_total", "Statements the legacy read pool has run."),
		waited:      d("waited_acquires_total", "Statements that waited for a free legacy read pool connection."),
		waitSeconds: d("wait_seconds_total", "Time statements waited for a free legacy read pool connection."),
	}
}

// Describe implements prometheus.Collector.
func (c *readPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.max, c.open, c.inUse, c.idle, c.acquires, c.waited, c.waitSeconds} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *readPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	if s == nil {
		return
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.max, float64(s.MaxConns()))
	g(c.open, float64(s.TotalConns()))
	g(c.inUse, float64(s.AcquiredConns()))
	g(c.idle, float64(s.IdleConns()))
	n(c.acquires, float64(s.AcquireCount()))
	n(c.waited, float64(s.EmptyAcquireCount()))
	n(c.waitSeconds, s.EmptyAcquireWaitTime().Seconds())
}
