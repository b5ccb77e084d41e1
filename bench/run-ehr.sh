#!/usr/bin/env bash
# bench/run.sh on the second demo schema (migrations/legacy_ehr, served with
# FHIRFACADE_MAPPINGS=mappings/specs_ehr): seeds PostgreSQL with PATIENTS EHR
# patients (8 lab results each) once, then runs the facade and the bare pgx
# baseline for these tables (bench/baseline-ehr) as separate processes and
# drives both with bench/load -schema ehr (uuid patient ids). Audit off, as
# in run.sh. Ports 8094/8095/9194, so it can run beside run.sh.
# Usage: bash bench/run-ehr.sh [PATIENTS] [load flags...]   (default 20000)
#   BASELINE_GOGC=400 gives the baseline the facade's GC setting;
#   BASELINE_POOL=32 its pool size (pgxpool's default is max(4, cores)).
#   BASELINE_DEPLOYED=1 runs it -as-deployed (bench/internal/deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${1:-20000}"
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB=fhirfacade_bench_ehr
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$DB?#")
mkdir -p bench/out
# FACADE_BIN: serve a prebuilt facade (e.g. bench/out/fhirfacade-old built
# from main) instead of this checkout's
FACADE_BIN="${FACADE_BIN:-bench/out/fhirfacade}"
[ "$FACADE_BIN" = bench/out/fhirfacade ] && go build -o bench/out/fhirfacade ./cmd/fhirfacade
go build -o bench/out/baseline-ehr ./bench/baseline-ehr
go build -o bench/out/load ./bench/load
psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || psql "$PGADMIN" -c "CREATE DATABASE $DB"
bench/out/fhirfacade legacy migrate --schema ehr --legacy-dsn "$DSN" 2>&1 | tail -1
bench/out/fhirfacade legacy seed --schema ehr --patients "$PATIENTS" --legacy-dsn "$DSN" 2>&1 | tail -1
psql "$DSN" -c "ANALYZE" >/dev/null

FHIRFACADE_MAPPINGS=mappings/specs_ehr FHIRFACADE_LISTEN=127.0.0.1:8094 FHIRFACADE_OPS_LISTEN=127.0.0.1:9194 FHIRFACADE_LEGACY_DSN="$DSN" \
  FHIRFACADE_CONTROL_DSN="sqlite://bench/out/control-ehr.db" FHIRFACADE_AUDIT=off \
  "$FACADE_BIN" serve 2>/dev/null & FPID=$!
GOGC="${BASELINE_GOGC:-100}" bench/out/baseline-ehr -dsn "$DSN${BASELINE_POOL:+&pool_max_conns=$BASELINE_POOL}" -listen 127.0.0.1:8095 ${BASELINE_DEPLOYED:+-as-deployed} 2>"${BASELINE_DEPLOYED:+/dev/null}${BASELINE_DEPLOYED:-/dev/stderr}" & BPID=$!
trap 'kill $FPID $BPID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf 127.0.0.1:9194/healthz >/dev/null && curl -s 127.0.0.1:8095/ >/dev/null && break; sleep 0.2; done
bench/out/load -schema ehr -patients "$PATIENTS" -facade http://127.0.0.1:8094 -baseline http://127.0.0.1:8095 "${@:2}"
echo "facade   RSS peak: $(grep VmHWM /proc/$FPID/status | awk '{print $2/1024 " MB"}')"
echo "baseline RSS peak: $(grep VmHWM /proc/$BPID/status | awk '{print $2/1024 " MB"}')"
