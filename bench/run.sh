#!/usr/bin/env bash
# Side-by-side read benchmark (issue: legacy SQL facade). Seeds PostgreSQL
# with PATIENTS patients (20 lab results each) once, then runs the facade and
# the bare pgx baseline as separate processes and drives both with bench/load.
# The audit trail is off here (FHIRFACADE_AUDIT=off): this measures the
# mapping and SQL path; bench/auth.sh measures authorization + audit.
# Usage: bash bench/run.sh [PATIENTS]   (default 100000)
#   BASELINE_DEPLOYED=1 runs the baseline -as-deployed (request id, JSON
#   log line, Prometheus series, server timeouts: bench/internal/deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${1:-100000}"
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB=fhirfacade_bench
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$DB?#")
mkdir -p bench/out
# FACADE_BIN: serve a prebuilt facade (e.g. bench/out/fhirfacade-old built
# from main) instead of this checkout's
FACADE_BIN="${FACADE_BIN:-bench/out/fhirfacade}"
[ "$FACADE_BIN" = bench/out/fhirfacade ] && go build -o bench/out/fhirfacade ./cmd/fhirfacade
go build -o bench/out/baseline ./bench/baseline
go build -o bench/out/load ./bench/load
psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || psql "$PGADMIN" -c "CREATE DATABASE $DB"
bench/out/fhirfacade legacy seed --patients "$PATIENTS" --legacy-dsn "$DSN" 2>&1 | tail -1
psql "$DSN" -c "ANALYZE" >/dev/null

FHIRFACADE_LISTEN=127.0.0.1:8090 FHIRFACADE_OPS_LISTEN=127.0.0.1:9190 FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="sqlite://bench/out/control.db" FHIRFACADE_AUDIT=off \
  "$FACADE_BIN" serve 2>/dev/null & FPID=$!
GOGC="${BASELINE_GOGC:-100}" bench/out/baseline -dsn "$DSN" -listen 127.0.0.1:8091 ${BASELINE_DEPLOYED:+-as-deployed} 2>"${BASELINE_DEPLOYED:+/dev/null}${BASELINE_DEPLOYED:-/dev/stderr}" & BPID=$!
trap 'kill $FPID $BPID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf 127.0.0.1:9190/healthz >/dev/null && curl -s 127.0.0.1:8091/ >/dev/null && break; sleep 0.2; done
bench/out/load -patients "$PATIENTS" "${@:2}"
echo "facade   RSS peak: $(grep VmHWM /proc/$FPID/status | awk '{print $2/1024 " MB"}')"
echo "baseline RSS peak: $(grep VmHWM /proc/$BPID/status | awk '{print $2/1024 " MB"}')"
