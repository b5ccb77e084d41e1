#!/usr/bin/env bash
# Route benchmarks (issue: routing table), side by side in one run:
#  1. GET Patient/{id} through the facade on a `fhir` route vs the same
#     request sent straight to the test FHIR server;
#  2. the floor of any Go proxy: bench/proxy (httputil.ReverseProxy, nothing
#     else) vs the FHIR server directly, in the same run;
#  3. the facade with Patient on `shadow` (10% of reads compared in the
#     background) vs the facade with Patient on `legacy`.
# Throughput on this 2-core machine is shared by the load, the facade, the
# FHIR server and PostgreSQL, so each step also prints the CPU each
# process spent per request it served (from /proc): the facade's own cost,
# which the FHIR server's CPU (remote in production) does not blur.
# Needs the PostgreSQL bench database of bench/run.sh (seeded on first use)
# and `npm ci` in testdata/fhirserver.
# Usage: bash bench/route.sh [PATIENTS_IN_FHIR] [load flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB=fhirfacade_bench
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$DB?#")
OUT=bench/out
mkdir -p $OUT
go build -o $OUT/fhirfacade ./cmd/fhirfacade
go build -o $OUT/load ./bench/load
go build -o $OUT/proxy ./bench/proxy
psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || psql "$PGADMIN" -c "CREATE DATABASE $DB"
$OUT/fhirfacade legacy seed --patients "$N" --legacy-dsn "$DSN" 2>&1 | tail -1
rm -f $OUT/ctl-*.db*
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
(cd testdata/fhirserver && PORT=8089 exec node server.js >/dev/null) & pids+=($!)
for state in legacy shadow fhir; do
  ctl="sqlite://$OUT/ctl-$state.db"
  [ "$state" = legacy ] || $OUT/fhirfacade route set Patient shadow --reason bench --control-dsn "$ctl" >/dev/null
  [ "$state" = fhir ] && $OUT/fhirfacade route set Patient fhir --force --reason "bench (no parity run)" --control-dsn "$ctl" >/dev/null
  case $state in legacy) port=8090;; shadow) port=8092;; fhir) port=8093;; esac
  FHIRFACADE_LISTEN=127.0.0.1:$port FHIRFACADE_OPS_LISTEN=127.0.0.1:$((port + 1100)) FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="$ctl" \
    FHIRFACADE_FHIR_URL=http://127.0.0.1:8089/fhir FHIRFACADE_AUDIT=off $OUT/fhirfacade serve 2>/dev/null & pids+=($!)
done
$OUT/proxy -to http://127.0.0.1:8089 -listen 127.0.0.1:8094 & pids+=($!); PROXY=$!
# the FHIR server and the proxy answer /healthz themselves; the facades on
# their ops listeners (FHIRFACADE_OPS_LISTEN, API port + 1100)
for p in 8089 9190 9192 9193 8094; do
  for _ in $(seq 1 100); do curl -sf 127.0.0.1:$p/healthz >/dev/null && break; sleep 0.2; done
done
$OUT/load -facade http://127.0.0.1:8090 -to http://127.0.0.1:8089/fhir -prefill "$N"
pid_on() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
. bench/cpu.sh
FHIR=$(pid_on 8093) SHADOW=$(pid_on 8092) LEGACY=$(pid_on 8090)

echo "== fhir route vs the FHIR server directly"
f0=$(ticks "$FHIR")
$OUT/load -facade http://127.0.0.1:8093 -baseline http://127.0.0.1:8089 -patients "$N" -scenarios patient-read -labels facade,direct "${@:2}" | tee $OUT/route.txt
cpu_per_req "facade (fhir)" "$FHIR" "$f0" "$(sent_to http://127.0.0.1:8093 $OUT/route.txt)"

echo "== bare Go reverse proxy (bench/proxy) vs the FHIR server directly"
p0=$(ticks "$PROXY")
$OUT/load -facade http://127.0.0.1:8094 -baseline http://127.0.0.1:8089 -patients "$N" -scenarios patient-read -labels proxy,direct "${@:2}" | tee $OUT/route.txt
cpu_per_req "bare proxy" "$PROXY" "$p0" "$(sent_to http://127.0.0.1:8094 $OUT/route.txt)"

echo "== shadow (10% compared) vs legacy"
s0=$(ticks "$SHADOW") l0=$(ticks "$LEGACY")
$OUT/load -facade http://127.0.0.1:8092 -baseline http://127.0.0.1:8090 -patients "$N" -scenarios patient-read,observation-search -labels shadow,legacy "${@:2}" | tee $OUT/route.txt
cpu_per_req "facade (shadow)" "$SHADOW" "$s0" "$(sent_to http://127.0.0.1:8092 $OUT/route.txt)"
cpu_per_req "facade (legacy)" "$LEGACY" "$l0" "$(sent_to http://127.0.0.1:8090 $OUT/route.txt)"
curl -s 127.0.0.1:9192/metrics | grep '^fhirfacade_shadow_compare_total' || true
