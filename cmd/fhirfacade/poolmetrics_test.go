package main

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

func TestReadPoolMetrics(t *testing.T) {
	db := testutil.Postgres(t)
	for range 3 {
		if _, err := db.Reader().QueryRows(context.Background(), "SELECT 1", nil, 1); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newReadPoolCollector(db.ReadPoolStat))
	want := `
# HELP fhirfacade_legacy_read_pool_acquires_total Statements the legacy read pool has run.
# TYPE fhirfacade_legacy_read_pool_acquires_total counter
fhirfacade_legacy_read_pool_acquires_total 3
# HELP fhirfacade_legacy_read_pool_in_use_conns Legacy read pool connections running a statement.
# TYPE fhirfacade_legacy_read_pool_in_use_conns gauge
fhirfacade_legacy_read_pool_in_use_conns 0
# HELP fhirfacade_legacy_read_pool_max_conns Most connections the legacy read pool opens.
# TYPE fhirfacade_legacy_read_pool_max_conns gauge
fhirfacade_legacy_read_pool_max_conns ` + strconv.Itoa(max(4, runtime.NumCPU())) + `
`
	err := promtest.GatherAndCompare(reg, strings.NewReader(want),
		"fhirfacade_legacy_read_pool_acquires_total", "fhirfacade_legacy_read_pool_in_use_conns", "fhirfacade_legacy_read_pool_max_conns")
	if err != nil {
		t.Error(err)
	}
	// a dialect whose reads run on database/sql has no read pool: no series
	lite := testutil.SQLite(t)
	if n := promtest.CollectAndCount(newReadPoolCollector(lite.ReadPoolStat)); n != 0 {
		t.Errorf("SQLite: %d read pool series", n)
	}
}
