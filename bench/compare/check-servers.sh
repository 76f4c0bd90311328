#!/bin/sh
# SPDX-License-Identifier: MIT
# Functional check of the bench/compare reference echo servers: each one
# that was built must pass echo_check.py (ping-pong on 20 connections, a
# 4 MiB echo read slowly, half-close, SIGTERM -> status 0), with one loop
# and with two. A reference that echoes wrongly would make the comparison
# meaningless, so this runs under `make check`. echo-libevent-tls is checked
# the same way over TLS (echo_check.py --tls-ca). Exit 77 (skip) without
# python3. echo_check.py starts each server itself; the sanitizers' reports
# of a sanitized build go to testlib.sh's log_path files, which it scans.
. "${top_srcdir:-.}/tests/testlib.sh"
need python3 python3
check="$top_srcdir/bench/compare/echo_check.py"
dir="$top_builddir/bench/compare"
ran=0
run() {
    ran=$((ran + 1))
    timeout 120 python3 "$check" "$@" || fail_later "$*"
}
for s in epoll libuv libevent; do
    bin="$dir/echo-$s"
    [ -x "$bin" ] || { echo "not built: echo-$s"; continue; }
    run "$bin"
    run "$bin" -t 2
done
[ -x "$dir/echo-epoll" ] && run "$dir/echo-epoll" -t 2 -m acceptor
[ -x "$dir/echo-epoll" ] && run "$dir/echo-epoll" -m spin
[ -x "$dir/echo-libevent" ] && run "$dir/echo-libevent" -m bufferevent
# The TLS reference, over TLS with the tests' certificate (ECDSA P-256).
tls="$top_srcdir/tests/tls"
if [ -x "$dir/echo-libevent-tls" ]; then
    for t in 1 2; do
        run --tls-ca "$tls/ca.pem" "$dir/echo-libevent-tls" -t $t -c "$tls/server.pem" -k "$tls/server.key"
    done
else
    echo "not built: echo-libevent-tls"
fi
[ "$ran" -gt 0 ] || hard_error "no reference server built"
finish
