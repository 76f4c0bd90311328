#!/bin/sh
# Compare tpbench with redis-benchmark against the same redis-server, same
# connection count, same request (inline PING, no pipelining), one client
# thread each, run back to back in one invocation; print both rates and
# tpbench/redis-benchmark. Usage: bench/vs-redis-benchmark.sh [CONNS] [SECONDS]
# Env: TPBENCH (default ./bench/tpbench).
set -e
CONNS=${1:-50}
SECS=${2:-5}
TPBENCH=${TPBENCH:-./bench/tpbench}
for p in redis-server redis-benchmark python3; do
    command -v $p > /dev/null || { echo "$p not installed"; exit 77; }
done
[ -x "$TPBENCH" ] || { echo "no $TPBENCH (build first, or set TPBENCH)"; exit 2; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TMP=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no > "$TMP/redis.log" 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
for _ in $(seq 1 100); do
    redis-cli -p "$PORT" ping > /dev/null 2>&1 && break
    sleep 0.05
done

# redis-benchmark runs a request count, not a time: size it from a short
# probe so that both tools run about SECS seconds. The machine may be
# shared, so the two tools alternate for ROUNDS rounds and the medians are
# compared; with taskset, the server and the client get a core each.
PIN_C=""
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
    taskset -pc 0 "$RPID" > /dev/null; PIN_C="taskset -c 1"
fi
ROUNDS=${ROUNDS:-3}
probe=$(redis-benchmark -p "$PORT" -c "$CONNS" -n 20000 -t ping_inline -P 1 -q | tr '\r' '\n' | awk '/PING_INLINE/ {print int($2)}' | tail -1)
N=$((probe * SECS))
TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %U+%S -o"
for r in $(seq 1 "$ROUNDS"); do
    $TIME ${TIME:+"$TMP/rb.cpu"} $PIN_C redis-benchmark -p "$PORT" -c "$CONNS" -n "$N" -t ping_inline -P 1 -q \
        | tr '\r' '\n' | awk '/PING_INLINE/ {print $2}' | tail -1 >> "$TMP/rb"
    [ -n "$TIME" ] && echo "($(cat "$TMP/rb.cpu")) * 1e6 / $N" >> "$TMP/rb.us"
    # no warm-up, like redis-benchmark: same conditions, and the CPU
    # time then covers exactly the counted requests
    $TIME ${TIME:+"$TMP/tp.cpu"} $PIN_C "$TPBENCH" -q -c "$CONNS" -t 1 -d "${SECS}s" -w 0 \
        --request 'PING\r\n' --expect '+PONG\r\n' --json "127.0.0.1:$PORT" > "$TMP/tp.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["errors"]==0, "errors"; print("%.0f" % d["rate_rps"])' "$TMP/tp.json" >> "$TMP/tp"
    [ -n "$TIME" ] && echo "($(cat "$TMP/tp.cpu")) * 1e6 / $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$TMP/tp.json")" >> "$TMP/tp.us"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rb=$(median "$TMP/rb"); tp=$(median "$TMP/tp")
echo "connections $CONNS, $ROUNDS rounds of ${SECS}s: redis-benchmark ping_inline $(tr '\n' ' ' < "$TMP/rb")req/s; tpbench $(tr '\n' ' ' < "$TMP/tp")req/s"
echo "median: redis-benchmark $rb req/s, tpbench $tp req/s"
python3 -c 'import sys; r=float(sys.argv[2])/float(sys.argv[1]); print("ratio tpbench/redis-benchmark = %.3f (%s)" % (r, "within 10%" if abs(r-1) <= 0.10 else "NOT within 10%"))' "$rb" "$tp"
if [ -n "$TIME" ]; then
    cpu() { python3 -c 'import sys; v=sorted(eval(l) for l in open(sys.argv[1])); print("%.2f" % v[len(v)//2])' "$1"; }
    echo "client CPU per request (user+sys, median): redis-benchmark $(cpu "$TMP/rb.us") us, tpbench $(cpu "$TMP/tp.us") us"
fi
