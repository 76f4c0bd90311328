#!/bin/sh
# SPDX-License-Identifier: MIT
# client_tpserver.sh - tpclient against the project's own server
# (server/tpserver, echo handler) on an ephemeral loopback port and on a
# unix socket: -m/-n, piped stdin with the half-close at its end, a binary
# megabyte. Skips (77) when tpserver is not built. The server's stderr is
# scanned for sanitizer reports along with tpclient's.
. "${top_srcdir:-.}/tests/client_lib.sh"

TPSERVER=$top_builddir/server/tpserver
if [ ! -x "$TPSERVER" ]; then
    echo "SKIP: $TPSERVER is not built"
    exit 77
fi

# start_tpserver LISTEN-SPEC: sets $addr from its "listening on" line.
n_tps=0
start_tpserver() {
    n_tps=$((n_tps + 1))
    so=$tmp/tps$n_tps.out
    "$TPSERVER" --listen "$1" >"$so" 2>"$tmp/tps$n_tps.err" &
    pid=$!
    server_pids="$server_pids $pid"
    i=0
    while ! grep -q "listening on" "$so" "$tmp/tps$n_tps.err" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { echo "FAIL: tpserver exited"; cat "$tmp/tps$n_tps.err"; exit 1; }
        i=$((i + 1))
        [ $i -le 300 ] || { echo "FAIL: tpserver did not start in 30 s"; exit 1; }
        sleep 0.1
    done
    addr=$(sed -n 's/.*listening on //p' "$so" "$tmp/tps$n_tps.err" | head -n 1)
}

start_tpserver 127.0.0.1:0
p=${addr##*:}
case $p in
    '' | *[!0-9]*) echo "FAIL: no port in tpserver's line '$addr'"; exit 1 ;;
esac

tc --message hello --count 5 --lines 5 127.0.0.1 "$p"
expect_rc 0 "tpserver: -m hello -n 5 --lines 5"
expect_out 'hello\nhello\nhello\nhello\nhello\n' "tpserver echoes 5 lines"

printf 'hi\n' >"$tmp/in.hi"
tc_in=$tmp/in.hi tc --timeout 10s 127.0.0.1 "$p"
expect_rc 0 "tpserver: piped stdin, half-close at EOF"
expect_out 'hi\n' "tpserver: piped 'hi' comes back"

head -c 1000000 /dev/urandom >"$tmp/in.big"
tc_in=$tmp/in.big tc --timeout 20s 127.0.0.1 "$p"
expect_rc 0 "tpserver: 1 MB binary stdin"
cmp -s "$tmp/in.big" "$out" || fail "tpserver: 1 MB echo differs ($(wc -c <"$out") bytes)"

tc -v --message x --lines 1 127.0.0.1 "$p"
expect_rc 0 "tpserver: -v"
expect_err "connected to 127\.0\.0\.1:$p" "tpserver: -v names the peer"

start_tpserver "unix:$tmp/tps.sock"
tc --message viaunix --lines 1 "unix:$tmp/tps.sock"
expect_rc 0 "tpserver over a unix socket"
expect_out 'viaunix\n' "tpserver unix echo"

# Stop the servers gracefully so their exit paths run, then scan.
stop_servers
finish
