#!/bin/sh
# SPDX-License-Identifier: MIT
# client_netcat.sh - scripts written for nc work with tpclient: one script
# of nc command lines (the options tpclient shares with Debian's
# netcat-openbsd: -N -q -w -C -U -z -n -4 -v) runs once with nc and once
# with tpclient against tpserver; what each line prints on stdout and
# whether it succeeded must be the same. Skips (77) only when nc (package
# netcat-openbsd, installed by 'sh scripts/deps.sh test') is missing.
. "${top_srcdir:-.}/tests/client_lib.sh"

need_built "$TPSERVER"
need nc netcat-openbsd
NC=$(command -v nc)
"$NC" -h 2>&1 | grep -q "OpenBSD netcat" || skip "$NC is not OpenBSD netcat (Debian: netcat-openbsd)"

start_listener tps "$TPSERVER" --listen 127.0.0.1:0 --listen "unix:$tmp/tps.sock"
wait_for "listening on 127" "$tmp/tps.out" 30
wait_until 30 "tpserver's unix socket" test -S "$tmp/tps.sock"
register_log "$tmp/tpclient.err"
p=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/tps.out" | head -n 1)
closed=$(free_port)
head -c 200000 /dev/urandom >"$tmp/binary"

# script NC: each line of the shared nc script; prints, per line, its
# stdout (as hex) and ok/failed.
script() {
    c=$1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        cmd=$(printf '%s' "$line" | sed "s|NC|$c|g; s|PORT|$p|g; s|CLOSED|$closed|g; s|SOCK|$tmp/tps.sock|g; s|BIN|$tmp/binary|g")
        printf '%s\n' "$line"
        sh -c "$cmd" >"$tmp/stdout" 2>>"$tmp/$(basename "$c").err" && status=ok || status=failed
        printf '  stdout %s bytes, cksum %s, %s\n' "$(wc -c <"$tmp/stdout")" \
            "$(cksum <"$tmp/stdout" | cut -d' ' -f1)" "$status"
    done <<'NCSCRIPT'
printf 'hello\nworld\n' | NC -N 127.0.0.1 PORT
printf 'a\nb\n' | NC -q 1 127.0.0.1 PORT
printf 'line\nnext\n' | NC -C -N 127.0.0.1 PORT
printf 'via unix\n' | NC -N -U SOCK
printf 'patient\n' | NC -w 2 -N 127.0.0.1 PORT
printf 'four\n' | NC -4 -N localhost PORT
printf 'numeric\n' | NC -n -N 127.0.0.1 PORT
NC -n -z localhost PORT
printf 'verbose\n' | NC -v -N 127.0.0.1 PORT
NC -z 127.0.0.1 PORT
NC -zv 127.0.0.1 PORT
NC -z 127.0.0.1 CLOSED
printf 'x\n' | NC -N 127.0.0.1 CLOSED
NC -N 127.0.0.1 PORT < BIN
NCSCRIPT
}

script "$NC" >"$tmp/with-nc"
script "$TPCLIENT" >"$tmp/with-tpclient"
if diff -u "$tmp/with-nc" "$tmp/with-tpclient"; then
    echo "ok: $(grep -c '^  stdout' "$tmp/with-nc") nc command lines print the same and agree on success with tpclient"
else
    fail_later "tpclient differs from nc (- nc, + tpclient) on the lines above"
fi
finish
