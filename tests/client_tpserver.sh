#!/bin/sh
# SPDX-License-Identifier: MIT
# client_tpserver.sh - tpclient against the project's own server
# (server/tpserver, echo handler) on an ephemeral loopback port and on a
# unix socket: -m/-n, piped stdin with the half-close at its end, a binary
# megabyte. The servers are stopped with SIGTERM at the end, so that their
# exit paths run before testlib.sh scans their logs with tpclient's.
. "${top_srcdir:-.}/tests/client_lib.sh"

need_built "$TPSERVER"

# start_tpserver LISTEN-SPEC: sets $addr from its "listening on" line.
n_tps=0
start_tpserver() {
    n_tps=$((n_tps + 1))
    start_listener "tps$n_tps" "$TPSERVER" --listen "$1"
    addr=$LISTEN_ADDR
}

start_tpserver 127.0.0.1:0
p=${addr##*:}
case $p in
    '' | *[!0-9]*) fail "no port in tpserver's line '$addr'" ;;
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
cmp -s "$tmp/in.big" "$out" || fail_later "tpserver: 1 MB echo differs ($(wc -c <"$out") bytes)"

tc -v --message x --lines 1 127.0.0.1 "$p"
expect_rc 0 "tpserver: -v"
expect_err "connected to 127\.0\.0\.1:$p" "tpserver: -v names the peer"

start_tpserver "unix:$tmp/tps.sock"
tc --message viaunix --lines 1 "unix:$tmp/tps.sock"
expect_rc 0 "tpserver over a unix socket"
expect_out 'viaunix\n' "tpserver unix echo"

# Stop the servers gracefully so their exit paths run, then scan.
stop_all
finish
