#!/bin/sh
# SPDX-License-Identifier: MIT
# grammar.sh - one grammar for all three programs (issue 12): the same
# table of good and bad spellings is fed to tpserver, tpclient and tpbench,
# through their real binaries and a flag of each kind, and each must give
# the same answer: accepted, or refused with exit 2 and a message naming
# the flag (or the address) and the value.
#
# Nothing is served or measured. A value is checked by putting an unknown
# flag after it: a program that took the value then fails on that flag
# instead (the parsers read left to right and stop at the first error), so
# the message says which. Addresses: tpbench checks its target in the same
# pass; tpserver hands each --listen to the library in order, so a second,
# malformed listen spec stops it right after the first was taken (or
# could not be bound: exit 1, still a spec it read); tpclient checks its
# target once all flags are read, so it tries to connect to a good one
# (-z -w 1 on loopback: refused, or connected and closed at once).
. "${top_srcdir:-.}/tests/testlib.sh"
for p in "$TPSERVER" "$TPCLIENT" "$TPBENCH"; do
    need_built "$p"
done
SENTINEL=--no-such-flag-sentinel
fails=0
checked=0
bad() {
    fail_later "$*"
    fails=$((fails + 1))
}

# run PROGRAM ARG...: exit status in $rc, stderr in $TMPD/err.
run() {
    "$@" </dev/null >"$TMPD/out" 2>"$TMPD/err"
    rc=$?
}

# value_verdict PROG FLAG SEP VALUE: "ok" if PROG took FLAG's VALUE (it then
# failed on the sentinel), "refused" if it exited 2 naming FLAG and the
# value, else what happened.
value_verdict() {
    run "$1" "$2$3$4" "$SENTINEL"
    if [ "$rc" -eq 2 ] && grep -qF -- "unknown option '$SENTINEL'" "$TMPD/err"; then
        echo ok
    elif [ "$rc" -eq 2 ] && grep -qF -- "$2: " "$TMPD/err" && grep -qF -- "'$4'" "$TMPD/err"; then
        echo refused
    else
        echo "exit $rc: $(head -c 300 "$TMPD/err")"
    fi
}

# same KIND WANT VALUE PROG:FLAG:SEP...: every PROG's verdict on VALUE
# given to its FLAG is WANT.
same() {
    kind=$1 want=$2 value=$3
    shift 3
    for pf in "$@"; do
        prog=${pf%%:*} rest=${pf#*:}
        flag=${rest%%:*} sep=${rest#*:}
        got=$(value_verdict "$prog" "$flag" "$sep" "$value")
        checked=$((checked + 1))
        [ "$got" = "$want" ] ||
            bad "$kind '$value': $(basename "$prog") $flag: want $want, got $got"
    done
}

# ---- durations: tpserver ms, tpclient ms, tpbench ns ----------------------
durs="$TPSERVER:--idle-timeout:= $TPCLIENT:-w: $TPBENCH:--duration:="
for v in 1.5s 250ms 100us 1ns 0.5 1h 2m 7 0.25m 1.0005s; do
    # shellcheck disable=SC2086 # the list is split on purpose
    same duration ok "$v" $durs
done
for v in 1.5.5s -1s "1 s" s 1sec 99999999999999999999h .5 1. 1e3 0x10 10S 5d +1s " 1s"; do
    # shellcheck disable=SC2086
    same duration refused "$v" $durs
done

# ---- sizes: tpserver --max-input, tpbench --size (tpclient has none) -------
sizes="$TPSERVER:--max-input:= $TPBENCH:--size:="
for v in 4k 1.5M 64K 65536 0.5m 1.5k; do
    # shellcheck disable=SC2086
    same size ok "$v" $sizes
done
for v in 0x10 1e3 1.5 64kb 1q -4k "4 k" 4kk 0.1k 99999999999999999999; do
    # shellcheck disable=SC2086
    same size refused "$v" $sizes
done

# ---- counts: tpserver --workers, tpclient --count, tpbench --connections ---
counts="$TPSERVER:--workers:= $TPCLIENT:--count:= $TPBENCH:--connections:="
for v in 1 4 0004; do
    # shellcheck disable=SC2086
    same count ok "$v" $counts
done
for v in abc 4x -1 +1 " 4" 4.0 0x4 1e2 99999999999999999999; do
    # shellcheck disable=SC2086
    same count refused "$v" $counts
done

# ---- addresses -------------------------------------------------------------
# addr_verdict PROG SPEC: "ok" (the syntax was taken) or "refused" (exit 2
# naming the spec).
addr_verdict() {
    case $1 in
    server)
        run "$TPSERVER" --log-level error -w 1 --listen "$2" --listen "bad-$SENTINEL"
        refusal="--listen: invalid address '$2'"
        took() { { [ "$rc" -eq 2 ] && grep -qF "'bad-$SENTINEL'" "$TMPD/err"; } || [ "$rc" -eq 1 ]; }
        ;;
    client)
        run "$TPCLIENT" -z -w 1 "$2"
        refusal="'$2'" # "invalid address 'X'", or nc's "missing PORT after HOST 'X'"
        took() { [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || [ "$rc" -eq 4 ]; }
        ;;
    bench)
        run "$TPBENCH" "$2" "$SENTINEL"
        refusal="invalid target '$2'"
        took() { [ "$rc" -eq 2 ] && grep -qF "unknown option '$SENTINEL'" "$TMPD/err"; }
        ;;
    esac
    if [ "$rc" -eq 2 ] && grep -qF -- "$refusal" "$TMPD/err"; then
        echo refused
    elif took; then
        echo ok
    else
        echo "exit $rc: $(head -c 300 "$TMPD/err")"
    fi
}

# WANT_SERVER WANT_CLIENTS SPEC. ":PORT" is every address: a listener's
# wildcard, which a client cannot connect to (the one documented
# difference, tpserver(1) and tpclient(1)).
while read -r ws wc spec; do
    spec=$(printf '%s' "$spec" | sed "s|@TMPD@|$TMPD|")
    for p in server client bench; do
        want=$wc
        [ $p = server ] && want=$ws
        got=$(addr_verdict $p "$spec")
        checked=$((checked + 1))
        [ "$got" = "$want" ] || bad "address '$spec': $p: want $want, got $got"
    done
    [ ! -e "$TMPD/x" ] || bad "address '$spec': tpserver left its unix socket behind"
done <<'ADDRS'
ok ok 127.0.0.1:7000
ok ok [::1]:7000
ok ok unix:@TMPD@/x
ok refused :80
ok refused *:7000
refused refused host:
refused refused [::1
refused refused 1.2.3.4:99999
refused refused 127.0.0.1:000080
refused refused []:80
refused refused nohostport
refused refused unix:
ADDRS

echo "checked: $checked verdicts, $fails wrong"
finish
