#!/usr/bin/env bash
# Fault check of the audit trail (issue 5), not part of CI: it RESTARTS
# this machine's PostgreSQL. A smart+audit facade (legacy on the embedded
# SQLite, control store on PostgreSQL) serves reads for 15 s while
# PostgreSQL is stopped for 3 s in the middle. Afterwards every 200 answer
# must have exactly one audit record (the failed ones, answered 503 while
# the store was down, none), and the chain must verify.
# Usage: bash bench/chaos-audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
CTL=$(printf %s "$PGADMIN" | sed "s#/postgres?#/fhirfacade_chaos?#")
CLUSTER="$(ls /etc/postgresql) main"
OUT=bench/out/chaos
psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS fhirfacade_chaos WITH (FORCE)" -c "CREATE DATABASE fhirfacade_chaos"
go build -o bench/out/fhirfacade ./cmd/fhirfacade
go build -o bench/out/load ./bench/load
go build -o bench/out/issuer ./bench/issuer
rm -rf $OUT && mkdir -p $OUT
pids=()
# whatever happens, PostgreSQL is left running
trap 'kill "${pids[@]}" 2>/dev/null || true; pg_ctlcluster --skip-systemctl-redirect $CLUSTER start 2>/dev/null || true' EXIT
bench/out/issuer -listen 127.0.0.1:8099 -audience http://127.0.0.1:8095/fhir -scope "system/*.rs" -token-file $OUT/token & pids+=($!)
sleep 0.5
(cd $OUT && FHIRFACADE_LISTEN=127.0.0.1:8095 FHIRFACADE_OPS_LISTEN=127.0.0.1:9195 FHIRFACADE_CONTROL_DSN="$CTL" FHIRFACADE_AUTH=smart FHIRFACADE_ISSUER=http://127.0.0.1:8099 \
  FHIRFACADE_AUDIENCE=http://127.0.0.1:8095/fhir FHIRFACADE_JWKS_URL=http://127.0.0.1:8099/jwks exec ../fhirfacade serve 2>facade.log) & FPID=$!
pids+=($FPID)
for _ in $(seq 1 150); do curl -sf 127.0.0.1:9195/healthz >/dev/null && break; sleep 0.2; done
(sleep 4; pg_ctlcluster --skip-systemctl-redirect $CLUSTER stop -m fast; echo "PostgreSQL stopped"
 sleep 3; pg_ctlcluster --skip-systemctl-redirect $CLUSTER start; echo "PostgreSQL started") &
bench/out/load -facade http://127.0.0.1:8095 -only -d 15s -patients 100 -scenarios patient-read -token-file $OUT/token | tee $OUT/load.txt
sleep 2
kill $FPID; wait $FPID || true
OPS=$(sed -n 's/.* ops \([0-9]*\) .*/\1/p' $OUT/load.txt)
FAILED=$(sed -n 's/.* failed \([0-9]*\)$/\1/p' $OUT/load.txt)
STORED=$(psql "$CTL" -tAc "SELECT count(*) FROM audit_event")
echo "answers: $OPS, of which $FAILED not 200; audit records: $STORED"
bench/out/fhirfacade audit verify --control-dsn "$CTL"
[ "$FAILED" -gt 0 ] || { echo "no request failed: the outage was not observed" >&2; exit 1; }
[ "$STORED" -eq $((OPS - FAILED)) ] || { echo "audit records do not match the 200 answers" >&2; exit 1; }
echo "every 200 answer has its record; none of the failed ones has"
