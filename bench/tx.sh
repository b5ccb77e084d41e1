#!/usr/bin/env bash
# Transaction Bundle vs single creates against `fhirfacade serve` as
# deployed: the router with its write fence, the control store and the
# audit trail (sync, the default) all on. Usage:
#   bash bench/tx.sh [sqlite|postgres] [txload flags...]
# sqlite: the embedded default (SQLite legacy and control store, created
# and seeded by serve) in a fresh temporary folder; postgres: legacy and control store on
# FHIRFACADE_TEST_PG (databases fhirfacade_txbench_{legacy,control},
# recreated). Set BIN to time a binary built elsewhere (old vs new).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-sqlite}"
mkdir -p bench/out
BIN="${BIN:-bench/out/fhirfacade}"
[ -n "${BIN_PREBUILT:-}" ] || go build -o "$BIN" ./cmd/fhirfacade
go build -o bench/out/txload ./bench/txload
work=$(mktemp -d)
case "$MODE" in
  sqlite) ;; # no DSN: serve creates and seeds ./data in $work
  postgres)
    PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
    for d in legacy control; do
      psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS fhirfacade_txbench_$d" -c "CREATE DATABASE fhirfacade_txbench_$d"
    done
    export FHIRFACADE_LEGACY_DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/fhirfacade_txbench_legacy?#")
    export FHIRFACADE_CONTROL_DSN=$(printf %s "$PGADMIN" | sed "s#/postgres?#/fhirfacade_txbench_control?#")
    "$BIN" legacy migrate >/dev/null
    "$BIN" legacy seed --patients 100 >/dev/null ;;
  *) echo "usage: bench/tx.sh [sqlite|postgres] [txload flags]" >&2; exit 2 ;;
esac
(cd "$work" && FHIRFACADE_LISTEN=127.0.0.1:${TX_PORT:-18493} FHIRFACADE_OPS_LISTEN=127.0.0.1:${TX_OPS_PORT:-19493} exec "$OLDPWD/$BIN" serve 2>"$work/serve.log") & FPID=$!
trap 'kill $FPID 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:${TX_OPS_PORT:-19493}/readyz >/dev/null && break; sleep 0.2; done
bench/out/txload -base http://127.0.0.1:${TX_PORT:-18493}/fhir "${@:2}"
