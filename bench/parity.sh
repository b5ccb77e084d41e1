#!/usr/bin/env bash
# Parity's own throughput and peak memory at two sizes. The "FHIR server"
# side is a second fhirfacade serving the same legacy database (every type
# on legacy): it pages by keyset, so the comparison's cost is parity's own
# (the test FHIR server pages by offset over an in-memory list, O(N^2), and
# cannot list a million resources in useful time). Also times sync --ndjson
# on one core.
# Usage: bash bench/parity.sh   (uses the bench/run.sh database: 100k patients)
set -euo pipefail
cd "$(dirname "$0")/.."
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
OUT=bench/out
mkdir -p $OUT
go build -o $OUT/fhirfacade ./cmd/fhirfacade
dsn() { printf %s "$PGADMIN" | sed "s#/postgres?#/$1?#"; }
for spec in "fhirfacade_bench5k 5000" "fhirfacade_bench 100000"; do
  set -- $spec; DB=$1; P=$2
  psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || psql "$PGADMIN" -qc "CREATE DATABASE $DB"
  $OUT/fhirfacade legacy seed --patients "$P" --legacy-dsn "$(dsn $DB)" 2>&1 | tail -1
  rm -f $OUT/parity-ctl*.db*
  FHIRFACADE_LISTEN=127.0.0.1:8095 FHIRFACADE_OPS_LISTEN=127.0.0.1:9195 FHIRFACADE_LEGACY_DSN="$(dsn $DB)" FHIRFACADE_CONTROL_DSN=sqlite://$OUT/parity-ctl-serve.db FHIRFACADE_AUDIT=off \
    $OUT/fhirfacade serve 2>/dev/null & SPID=$!
  for _ in $(seq 1 50); do curl -sf 127.0.0.1:9195/healthz >/dev/null && break; sleep 0.2; done
  /usr/bin/time -v $OUT/fhirfacade parity Observation --legacy-dsn "$(dsn $DB)" --control-dsn sqlite://$OUT/parity-ctl.db \
    --fhir-url http://127.0.0.1:8095/fhir > $OUT/parity.out 2> $OUT/parity.time || true
  kill $SPID
  echo "$((P*20)) Observations: $(head -1 $OUT/parity.out)"
  grep -E "Elapsed|Maximum resident" $OUT/parity.time
done
rm -rf $OUT/ndjson
GOMAXPROCS=1 $OUT/fhirfacade sync Observation --ndjson $OUT/ndjson --legacy-dsn "$(dsn fhirfacade_bench)" --control-dsn sqlite://$OUT/parity-ctl.db
