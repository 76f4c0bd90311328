#!/bin/sh
# SPDX-License-Identifier: MIT
# Compare tpbench with redis-benchmark against the same redis-server: same
# connection count, same request (inline PING, no pipelining), one client
# thread each, the two tools alternating for ROUNDS rounds in one
# invocation, medians compared. With taskset the server gets core 0 and
# each client core 1.
#
# The ratio only tests tpbench's *measurement* while neither client is the
# bottleneck: once a client saturates its core it reports its own limit, not
# the server's. So the script sweeps connection counts and prints, per count,
# both rates, the ratio and the client CPU per request; a count where a
# client's CPU use approaches one core is marked as client-bound.
#
# Usage: bench/vs-redis-benchmark.sh [SECONDS] [CONNS...]   (default 2 1 2 50)
# Env: TPBENCH (default ./bench/tpbench), ROUNDS (default 3).
set -e
SECS=${1:-2}
[ $# -gt 0 ] && shift
CONNS_LIST=${*:-1 2 50}
TPBENCH=${TPBENCH:-./bench/tpbench}
ROUNDS=${ROUNDS:-3}
for p in redis-server redis-benchmark redis-cli python3; do
    command -v $p > /dev/null || { echo "$p not installed"; exit 77; }
done
[ -x "$TPBENCH" ] || { echo "no $TPBENCH (build first, or set TPBENCH)"; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed (Debian package: time)"; exit 77; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TMP=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no > "$TMP/redis.log" 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
for _ in $(seq 1 100); do
    redis-cli -p "$PORT" ping > /dev/null 2>&1 && break
    sleep 0.05
done
PIN_C=""
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
    taskset -pc 0 "$RPID" > /dev/null
    PIN_C="taskset -c 1"
fi

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# one round of redis-benchmark: appends "rate cpu_us_per_request busy_fraction"
run_rb() { # conns requests
    /usr/bin/time -f '%U %S %e' -o "$TMP/cpu" $PIN_C redis-benchmark -p "$PORT" -c "$1" -n "$2" \
        -t ping_inline -P 1 -q | tr '\r' '\n' | awk '/PING_INLINE/ {print $2}' | tail -1 > "$TMP/rate"
    read -r u s e < "$TMP/cpu"
    awk -v r="$(cat "$TMP/rate")" -v u="$u" -v s="$s" -v e="$e" -v n="$2" \
        'BEGIN {printf "%s %.3f %.3f\n", r, (u + s) * 1e6 / n, (u + s) / e}' >> "$TMP/rb.$1"
}
# one round of tpbench: no warm-up, like redis-benchmark, so the CPU time
# covers exactly the counted requests
run_tp() { # conns
    /usr/bin/time -f '%U %S %e' -o "$TMP/cpu" $PIN_C "$TPBENCH" -q -c "$1" -t 1 -d "${SECS}s" -w 0 \
        --request 'PING\r\n' --expect '+PONG\r\n' --json "127.0.0.1:$PORT" > "$TMP/tp.json"
    read -r u s e < "$TMP/cpu"
    python3 - "$TMP/tp.json" "$u" "$s" "$e" >> "$TMP/tp.$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["errors"]:
    sys.exit("tpbench reported %d errors" % d["errors"])
cpu = float(sys.argv[2]) + float(sys.argv[3])
print("%.0f %.3f %.3f" % (d["rate_rps"], cpu * 1e6 / d["requests"], cpu / float(sys.argv[4])))
PY
}
col() { awk -v c="$2" '{print $c}' "$1" > "$TMP/col"; median "$TMP/col"; }

printf '%6s %12s %12s %7s %16s %16s %s\n' conns redis-bench tpbench ratio 'rb us/req (cpu)' 'tp us/req (cpu)' verdict
for c in $CONNS_LIST; do
    # redis-benchmark runs a request count, not a time: size it from a
    # short probe so that both tools run about SECS seconds
    probe=$(redis-benchmark -p "$PORT" -c "$c" -n $((c * 2000)) -t ping_inline -P 1 -q |
        tr '\r' '\n' | awk '/PING_INLINE/ {print int($2)}' | tail -1)
    n=$((probe * SECS))
    for _ in $(seq 1 "$ROUNDS"); do
        run_rb "$c" "$n"
        run_tp "$c"
    done
    rb=$(col "$TMP/rb.$c" 1); tp=$(col "$TMP/tp.$c" 1)
    rbus=$(col "$TMP/rb.$c" 2); tpus=$(col "$TMP/tp.$c" 2)
    rbbusy=$(col "$TMP/rb.$c" 3); tpbusy=$(col "$TMP/tp.$c" 3)
    python3 - "$c" "$rb" "$tp" "$rbus" "$tpus" "$rbbusy" "$tpbusy" <<'PY'
import sys
c, rb, tp, rbus, tpus, rbb, tpb = sys.argv[1], *map(float, sys.argv[2:])
r = tp / rb
bound = [n for n, b in (("redis-benchmark", rbb), ("tpbench", tpb)) if b >= 0.85]
verdict = ("within 10%" if abs(r - 1) <= 0.10 else "NOT within 10%")
if bound:
    verdict += "; client-bound: " + ", ".join(bound)
print("%6s %12.0f %12.0f %7.3f %9.2f (%3.0f%%) %9.2f (%3.0f%%) %s"
      % (c, rb, tp, r, rbus, rbb * 100, tpus, tpb * 100, verdict))
PY
done
echo "(medians of $ROUNDS alternating rounds of ${SECS}s; cpu = client user+sys / wall)"
