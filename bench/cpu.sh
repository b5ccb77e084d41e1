# Sourced by the benchmark scripts: CPU each process spent per request it
# served, from /proc (the machine is shared by load, facade and servers, so
# throughput ratios blur whose CPU it was).
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# cpu_per_req LABEL PID TICKS_BEFORE REQUESTS: µs of CPU per request served
cpu_per_req() {
  local t; t=$(ticks "$2")
  awk -v l="$1" -v d="$(( t - $3 ))" -v n="$4" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "  cpu %-16s %6.0f µs/request (%d requests)\n", l, d * 1e6 / hz / n, n }'
}
# sent_to BASE FILE: the requests bench/load reported sending to BASE
sent_to() { sed -n "s#^requests sent to $1: ##p" "$2"; }
