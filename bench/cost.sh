#!/usr/bin/env bash
# Where the CPU of one request goes, per process: each target (facade,
# baseline, ...) is driven alone with bench/load -only, in ABBA order, and
# for every run the CPU (utime+stime from /proc) of the server process, of
# the PostgreSQL backends serving its database and of the load generator is
# divided by the requests served. On this shared 2-core machine throughput
# ratios blur whose CPU it was; this says which process spends it.
# The targets must already be serving (bench/run.sh or bench/ab.sh style).
# Usage: bash bench/cost.sh DB ROUNDS "LABEL=URL=PID ..." [load flags...]
#   e.g. bash bench/cost.sh fhirfacade_bench 2 "facade=http://127.0.0.1:8090=123 baseline=http://127.0.0.1:8091=456" \
#          -patients 20000 -scenarios observation-search -d 8s
set -euo pipefail
cd "$(dirname "$0")/.."
DB=$1 ROUNDS=$2
read -r -a TARGETS <<<"$3"
shift 3
PGADMIN="${FHIRFACADE_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
hz=$(getconf CLK_TCK)
ticks() { awk '{s+=$14+$15} END {print s+0}' "$@" 2>/dev/null || echo 0; }
# pg_ticks: CPU of every backend connected to $DB (connection pools keep
# them alive across the run; a backend that ends mid-run is not counted)
pg_ticks() {
  local files=()
  for p in $(psql "$PGADMIN" -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
    [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat")
  done
  [ ${#files[@]} -gt 0 ] && ticks "${files[@]}" || echo 0
}
one() { # one LABEL URL PID: a timed run of one target
  local label=$1 url=$2 pid=$3 out s0 p0 n s1 p1
  shift 3
  out=$(mktemp)
  s0=$(ticks "/proc/$pid/stat") p0=$(pg_ticks)
  /usr/bin/time -f '%U %S' -o "$out.time" bench/out/load -only -facade "$url" "$@" >"$out"
  s1=$(ticks "/proc/$pid/stat") p1=$(pg_ticks)
  n=$(awk '/ops\/s/ {print $11}' "$out")
  read -r lu ls <"$out.time"
  awk -v l="$label" -v n="$n" -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v lu="$lu" -v ls="$ls" -v hz="$hz" -v line="$(grep ops/s "$out")" \
    'BEGIN { printf "%-10s server %5.0f  pg %5.0f  load %5.0f µs/req   | %s\n", l, s*1e6/hz/n, p*1e6/hz/n, (lu+ls)*1e6/n, line }'
  rm -f "$out" "$out.time"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${TARGETS[@]}"; do IFS== read -r l u p <<<"$t"; bench/out/load -only -facade "$u" "$@" -d 2s >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  order=("${TARGETS[@]}")
  if [ $((r % 2)) -eq 0 ]; then order=(); for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do order+=("${TARGETS[$i]}"); done; fi
  for t in "${order[@]}"; do IFS== read -r l u p <<<"$t"; one "$l" "$u" "$p" "$@"; done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
