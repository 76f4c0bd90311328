#!/bin/sh
# SPDX-License-Identifier: MIT
# tpbench against real third-party servers: redis-server (PING -> +PONG,
# exact reply) and memcached (version -> VERSION x.y.z, terminator mode).
# 0 errors and a nonzero rate. Skips (77) when the servers are absent.
. "${top_srcdir:-.}/tests/bench_lib.sh"
need redis-server redis-server
need memcached memcached

port_open() {
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" 2>/dev/null
}
rp=$(free_port)
spawn redis redis-server --port "$rp" --bind 127.0.0.1 --unixsocket "$TMPD/redis.sock" --save '' --appendonly no \
    --daemonize no
mp=$(free_port)
spawn memcached memcached -l 127.0.0.1 -p "$mp" -U 0 -t 1 -u "$(id -un)"
wait_until 30 "redis-server on port $rp" port_open "$rp"
wait_until 30 "memcached on port $mp" port_open "$mp"

"$TPBENCH" -q -c 4 -d 1s -w 200ms --request 'PING\r\n' --expect '+PONG\r\n' --json \
    "127.0.0.1:$rp" > "$TMPD/r.json" || fail "redis exit $?"
[ "$(jget "$TMPD/r.json" 'd["errors"] == 0 and d["rate_rps"] > 0')" = True ] || fail "redis"
"$TPBENCH" -q -c 4 -d 1s -w 200ms --request 'version\r\n' --expect-term '\r\n' --json \
    "127.0.0.1:$mp" > "$TMPD/m.json" || fail "memcached exit $?"
[ "$(jget "$TMPD/m.json" 'd["errors"] == 0 and d["rate_rps"] > 0')" = True ] || fail "memcached"
# The same over the unix socket.
"$TPBENCH" -q -c 2 -d 500ms -w 0 --request 'PING\r\n' --expect '+PONG\r\n' --json \
    "unix:$TMPD/redis.sock" > "$TMPD/u.json" || fail "redis unix socket exit $?"
[ "$(jget "$TMPD/u.json" 'd["errors"] == 0 and d["responses"] > 0')" = True ] || fail "redis unix socket"
# A wrong expectation must be caught, not counted as success.
"$TPBENCH" -q -c 1 -d 500ms -w 0 --request 'PING\r\n' --expect '+PANG\r\n' "127.0.0.1:$rp" > /dev/null 2>&1 \
    && fail "a wrong expected reply was accepted"
echo "ok: redis $(jget "$TMPD/r.json" 'd["rate_rps"]') req/s, memcached $(jget "$TMPD/m.json" 'd["rate_rps"]') req/s"
