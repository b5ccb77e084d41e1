#!/usr/bin/env bash
# CPU per Observation search by process (bench/cost.sh) for two facade builds
# and the bare baseline, on one schema, side by side: NEW on 8190, OLD on
# 8192, the baseline (GOGC=400, the facade's setting) on 8194; audit off,
# control on SQLite. The database must be seeded (bench/run.sh or
# bench/run-ehr.sh do it).
# Usage: bash bench/cost-ab.sh demo|ehr NEW_BIN OLD_BIN [ROUNDS] [load flags...]
#   e.g. bash bench/cost-ab.sh ehr bench/out/fhirfacade bench/out/fhirfacade-old 4 -d 8s
#   BASELINE_DEPLOYED=1 runs the baseline -as-deployed (bench/internal/deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMA=$1 NEW=$2 OLD=$3 ROUNDS=${4:-4}
shift $(( $# < 4 ? $# : 4 ))
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
case $SCHEMA in
  demo) DB=fhirfacade_bench SPECS= BASE=baseline LOADFLAGS=() ;;
  ehr) DB=fhirfacade_bench_ehr SPECS=mappings/specs_ehr BASE=baseline-ehr LOADFLAGS=(-schema ehr) ;;
  *) echo "schema: demo or ehr" >&2; exit 2 ;;
esac
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$DB?#")
mkdir -p bench/out
go build -o "bench/out/$BASE" "./bench/$BASE"
go build -o bench/out/load ./bench/load
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for pair in "$NEW:8190" "$OLD:8192"; do
  bin=${pair%:*} port=${pair##*:}
  FHIRFACADE_MAPPINGS=$SPECS FHIRFACADE_LISTEN=127.0.0.1:$port FHIRFACADE_OPS_LISTEN=127.0.0.1:$((port + 1100)) \
    FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="sqlite://bench/out/ctl-cost-$port.db" FHIRFACADE_AUDIT=off \
    "$bin" serve 2>/dev/null & pids+=($!)
done
GOGC=400 "bench/out/$BASE" -dsn "$DSN" -listen 127.0.0.1:8194 ${BASELINE_DEPLOYED:+-as-deployed} 2>"${BASELINE_DEPLOYED:+/dev/null}${BASELINE_DEPLOYED:-/dev/stderr}" & pids+=($!)
for port in 8190 8192 8194; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "127.0.0.1:$port/fhir/Observation" && break; sleep 0.2; done
done
bash bench/cost.sh "$DB" "$ROUNDS" "new=http://127.0.0.1:8190=${pids[0]} old=http://127.0.0.1:8192=${pids[1]} baseline=http://127.0.0.1:8194=${pids[2]}" \
  "${LOADFLAGS[@]}" -patients 20000 -scenarios observation-search "$@"
