#!/usr/bin/env bash
# A/B of two facade builds on the same legacy database: both serve at once
# (A on 8090, B on 8091, audit off, control on SQLite) and bench/load drives
# them side by side in ABBA rounds, then prints each one's CPU per request.
# Build each binary from its own checkout (go build -o … ./cmd/fhirfacade).
# A build without an ops listener answers /healthz on its API port; the
# readiness check therefore asks /fhir/metadata on the API port.
# Usage: bash bench/ab.sh BIN_A BIN_B PATIENTS [load flags...]
#   e.g. bash bench/ab.sh /tmp/ff-new /tmp/ff-old 20000 -d 8s -rounds 4 -scenarios observation-search
set -euo pipefail
cd "$(dirname "$0")/.."
A_BIN=$1 B_BIN=$2 N=$3
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/fhirfacade_bench?#")
mkdir -p bench/out
go build -o bench/out/load ./bench/load
rm -f bench/out/ctl-ab-*.db*
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
i=0
for bin in "$A_BIN" "$B_BIN"; do
  port=$((8090 + i)); i=$((i + 1))
  FHIRFACADE_LISTEN=127.0.0.1:$port FHIRFACADE_OPS_LISTEN=127.0.0.1:$((port + 1100)) FHIRFACADE_LEGACY_DSN="$DSN" \
    FHIRFACADE_CONTROL_DSN="sqlite://bench/out/ctl-ab-$port.db" FHIRFACADE_AUDIT=off "$bin" serve 2>/dev/null & pids+=($!)
done
for port in 8090 8091; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null 127.0.0.1:$port/fhir/metadata && break; sleep 0.2; done
done
. bench/cpu.sh
a0=$(ticks "${pids[0]}") b0=$(ticks "${pids[1]}")
bench/out/load -patients "$N" -labels A,B "${@:4}" | tee bench/out/ab.txt
cpu_per_req "A" "${pids[0]}" "$a0" "$(sent_to http://127.0.0.1:8090 bench/out/ab.txt)"
cpu_per_req "B" "${pids[1]}" "$b0" "$(sent_to http://127.0.0.1:8091 bench/out/ab.txt)"
