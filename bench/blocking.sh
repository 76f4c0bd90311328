#!/bin/sh
# SPDX-License-Identifier: MIT
# What a blocking handler costs the other connections: tpserver's sleep
# handler (a line echo whose "sleep MS" blocks in on_data, may-block) with
# CONNS-1 connections in ping-pong and, alongside, one connection that asks
# for a SLEEP_MS sleep per message. Prints the ping-pong rate and latency
# percentiles of the others with and without the sleeper, per worker count.
# Issue 4's bar: with a 100 ms sleeper, the others' p99 under 5 ms.
# Usage: bench/blocking.sh [SECONDS] [WORKERS...]   (default 3 1 2)
# Env: BUILDDIR (default: the source tree), CONNS (50), SLEEP_MS (100).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top}
SECS=${1:-3}
[ $# -gt 0 ] && shift
WORKERS=${*:-1 2}
CONNS=${CONNS:-50}
SLEEP_MS=${SLEEP_MS:-100}
for p in "$build/server/tpserver" "$build/bench/tpbench"; do
    [ -x "$p" ] || { echo "blocking.sh: $p is not built (make, or set BUILDDIR)" >&2; exit 2; }
done
command -v python3 > /dev/null || { echo "blocking.sh: python3 is needed" >&2; exit 77; }
TMP=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill $SPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # workers
    port=$(free_port)
    "$build/server/tpserver" --listen "127.0.0.1:$port" --workers "$1" --handler sleep \
        > /dev/null 2> "$TMP/server.err" &
    SPID=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$TMP/server.err" && return 0
        sleep 0.05
    done
    echo "blocking.sh: tpserver did not start:" >&2
    cat "$TMP/server.err" >&2
    exit 1
}

stop_server() {
    kill "$SPID"
    wait "$SPID" 2> /dev/null || true
    SPID=
}

# pingers OUT.json: CONNS-1 connections of ping-pong for SECS
pingers() {
    "$build/bench/tpbench" -q -c $((CONNS - 1)) -d "${SECS}s" -w 300ms \
        --request 'ping\n' --expect 'ping\n' --json "127.0.0.1:$port" > "$1"
}

summary() { # label workers json sleeper-responses
    python3 - "$@" <<'PY'
import json, sys
label, workers, path, slept = sys.argv[1:5]
d = json.load(open(path))
l = d["latency_us"]
print("%-9s %7s %9.0f %8.0f %8.0f %8.0f %9.0f %7s %7s" % (
    workers, label, d["rate_rps"], l["p50"], l["p99"], l["p99_9"], l["max"], d["errors"], slept))
PY
}

echo "tpserver --handler sleep; $((CONNS - 1)) ping-pong connections; sleeper: one connection, 'sleep $SLEEP_MS' per message"
printf '%-9s %7s %9s %8s %8s %8s %9s %7s %7s\n' workers sleeper 'req/s' 'p50 us' 'p99 us' 'p99.9 us' 'max us' errors slept
for w in $WORKERS; do
    start_server "$w"
    pingers "$TMP/base.json"
    summary none "$w" "$TMP/base.json" -
    "$build/bench/tpbench" -q -c 1 -d "$((SECS + 1))s" -w 0 --request "sleep $SLEEP_MS\\n" \
        --expect "slept $SLEEP_MS\\r\\n" --json "127.0.0.1:$port" > "$TMP/sleeper.json" &
    bpid=$!
    sleep 0.2
    pingers "$TMP/block.json"
    wait "$bpid"
    slept=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["responses"])' "$TMP/sleeper.json")
    summary "${SLEEP_MS}ms" "$w" "$TMP/block.json" "$slept"
    stop_server
done
