#!/usr/bin/env bash
# Runs bench/run.sh (of the checkout given, default this one) and prints the
# CPU the facade (port 8090) and the bare baseline (8091) spent per request
# they were sent: run.sh does not print it itself, and on this shared 2-core
# machine CPU per request is a tighter signal than throughput ratios.
# A sampler reads utime+stime from /proc/PID/stat of the process listening
# on each port every 0.3 s until run.sh ends (start-up and warm-up CPU
# included, the same for any build); requests are the "requests sent to"
# counts bench/load prints.
# Usage: bash bench/run-cpu.sh [CHECKOUT] [run.sh args...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$here/..}"
out=$(mktemp)
(cd "$dir" && bash bench/run.sh "${@:2}") >"$out" 2>&1 &
run=$!
pid_on() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
declare -A last
while kill -0 "$run" 2>/dev/null; do
  for port in 8090 8091; do
    p=$(pid_on $port)
    [ -n "$p" ] && t=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null) && last[$port]=$t
  done
  sleep 0.3
done
wait "$run" || true
cat "$out"
hz=$(getconf CLK_TCK)
for port in 8090 8091; do
  n=$(sed -n "s#^requests sent to http://127.0.0.1:$port: ##p" "$out")
  awk -v p="$port" -v t="${last[$port]:-0}" -v n="${n:-0}" -v hz="$hz" \
    'BEGIN { if (n > 0) printf "  cpu :%s %6.0f µs/request (%d requests)\n", p, t * 1e6 / hz / n, n }'
done
rm -f "$out"
