#!/usr/bin/env bash
# Route benchmarks (issue: routing table), side by side in one run:
#  1. GET Patient/{id} through the facade on a `fhir` route vs the same
#     request sent straight to the test FHIR server;
#  2. the facade with Patient on `shadow` (10% of reads compared in the
#     background) vs the facade with Patient on `legacy`.
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
  FHIRFACADE_LISTEN=127.0.0.1:$port FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="$ctl" \
    FHIRFACADE_FHIR_URL=http://127.0.0.1:8089/fhir FHIRFACADE_AUDIT=off $OUT/fhirfacade serve 2>/dev/null & pids+=($!)
done
for p in 8089 8090 8092 8093; do
  for _ in $(seq 1 100); do curl -sf 127.0.0.1:$p/healthz >/dev/null && break; sleep 0.2; done
done
$OUT/load -facade http://127.0.0.1:8090 -to http://127.0.0.1:8089/fhir -prefill "$N"
echo "== fhir route vs the FHIR server directly"
$OUT/load -facade http://127.0.0.1:8093 -baseline http://127.0.0.1:8089 -patients "$N" -scenarios patient-read -labels facade,direct "${@:2}"
echo "== shadow (10% compared) vs legacy"
$OUT/load -facade http://127.0.0.1:8092 -baseline http://127.0.0.1:8090 -patients "$N" -scenarios patient-read,observation-search -labels shadow,legacy "${@:2}"
curl -s 127.0.0.1:8092/metrics | grep '^fhirfacade_shadow_compare_total' || true
