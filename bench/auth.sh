#!/usr/bin/env bash
# Side-by-side cost of SMART token validation + the audit trail (issue 5):
# facade A with FHIRFACADE_AUTH=smart and the audit trail on (PostgreSQL
# control store, as in production), facade B with FHIRFACADE_AUTH=off and no
# audit, both over the same PostgreSQL legacy database, driven alternately
# by bench/load. Afterwards the audit records of A are counted against the
# requests sent to A: the audit path must drop nothing.
# Usage: [AUDIT_MODE=sync|async] bash bench/auth.sh [PATIENTS] [load flags...]   (default 100000; seeds once)
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${1:-100000}"
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB=fhirfacade_bench
CTL=fhirfacade_bench_audit
DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$DB?#")
CTLDSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/$CTL?#")
mkdir -p bench/out
go build -o bench/out/fhirfacade ./cmd/fhirfacade
go build -o bench/out/load ./bench/load
go build -o bench/out/issuer ./bench/issuer
psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || psql "$PGADMIN" -c "CREATE DATABASE $DB"
bench/out/fhirfacade legacy seed --patients "$PATIENTS" --legacy-dsn "$DSN" 2>&1 | tail -1
psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $CTL WITH (FORCE)" -c "CREATE DATABASE $CTL"
rm -f bench/out/control-off.db*

bench/out/issuer -listen 127.0.0.1:8099 -audience http://127.0.0.1:8090/fhir -scope "system/*.rs" -token-file bench/out/token.txt & IPID=$!
sleep 0.5
FHIRFACADE_LISTEN=127.0.0.1:8090 FHIRFACADE_OPS_LISTEN=127.0.0.1:9190 FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="$CTLDSN" \
  FHIRFACADE_AUTH=smart FHIRFACADE_ISSUER=http://127.0.0.1:8099 FHIRFACADE_AUDIENCE=http://127.0.0.1:8090/fhir \
  FHIRFACADE_JWKS_URL=http://127.0.0.1:8099/jwks FHIRFACADE_AUDIT_MODE="${AUDIT_MODE:-sync}" FHIRFACADE_CPU_PROFILE="${CPU_PROFILE:-}" bench/out/fhirfacade serve 2>bench/out/auth-facade.log & APID=$!
FHIRFACADE_LISTEN=127.0.0.1:8092 FHIRFACADE_OPS_LISTEN=127.0.0.1:9192 FHIRFACADE_LEGACY_DSN="$DSN" FHIRFACADE_CONTROL_DSN="sqlite://bench/out/control-off.db" \
  FHIRFACADE_AUDIT=off bench/out/fhirfacade serve 2>/dev/null & BPID=$!
trap 'kill $IPID $APID $BPID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:9190/healthz >/dev/null && curl -sf 127.0.0.1:9192/healthz >/dev/null && break; sleep 0.2; done
. bench/cpu.sh
a0=$(ticks $APID) b0=$(ticks $BPID)
bench/out/load -facade http://127.0.0.1:8090 -baseline http://127.0.0.1:8092 -labels smart+audit,off \
  -token-file bench/out/token.txt -patients "$PATIENTS" "${@:2}" | tee bench/out/auth.txt
OUT=$(cat bench/out/auth.txt)
cpu_per_req "facade (smart+audit)" $APID "$a0" "$(sent_to http://127.0.0.1:8090 bench/out/auth.txt)"
cpu_per_req "facade (off)" $BPID "$b0" "$(sent_to http://127.0.0.1:8092 bench/out/auth.txt)"
# what a sync-audited request waits for: the mean batch commit and size
curl -s 127.0.0.1:9190/metrics | awk '
  /^fhirfacade_audit_commit_seconds_sum/ {cs=$2} /^fhirfacade_audit_commit_seconds_count/ {cn=$2}
  /^fhirfacade_audit_batch_records_sum/ {bs=$2} /^fhirfacade_audit_batch_records_count/ {bn=$2}
  END { if (cn > 0 && bn > 0) printf "audit writer: %d batches, mean commit %.2f ms, mean batch %.1f records\n", cn, cs / cn * 1000, bs / bn }'
kill $APID; wait $APID 2>/dev/null || true
SENT=$(echo "$OUT" | sed -n 's#^requests sent to http://127.0.0.1:8090: ##p')
# requests the records stand for (a counted refusal record says how many)
STORED=$(psql "$CTLDSN" -tAc "SELECT coalesce(sum(greatest(coalesce((body::json->>'count')::int, 1), 1)), 0) FROM audit_event")
echo "audit: $STORED records for $SENT requests sent to the smart+audit facade"
bench/out/fhirfacade audit verify --control-dsn "$CTLDSN"
[ "$SENT" = "$STORED" ] || { echo "audit records do not match requests" >&2; exit 1; }
