#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/compare.sh's command line: every wrong flag value stops it at once
# with status 2 and a message naming the value (before it installs,
# builds or starts anything), and -h lists every server and scenario it
# accepts, the TLS ones included.
. "${top_srcdir:-.}/tests/testlib.sh"
COMPARE="$top_srcdir/bench/compare.sh"
need bash bash

# refused WANT-IN-STDERR ARGS...: exit 2 and the message, quickly.
refused() {
    want=$1; shift
    timeout 20 bash "$COMPARE" -n "$@" > "$TMPD/out" 2> "$TMPD/err"
    rc=$?
    [ $rc -eq 2 ] || fail "compare.sh $*: exit $rc, expected 2 ($(cat "$TMPD/err"))"
    grep -qF -- "$want" "$TMPD/err" || fail "compare.sh $*: no '$want' in: $(cat "$TMPD/err")"
}
refused "unknown server 'bogus'" -s epoll-1,bogus
refused "unknown scenario 'nope'" -S pingpong,nope
refused "-r wants a number" -r 0
refused "-r wants a number" -r x
refused "not '5x'" -P 5x
refused "not '50'" -P 50
refused "unexpected argument 'stray'" stray
refused "unknown server 'bogus'" -s tls,bogus
refused "unknown scenario 'tls-nope'" -s tls -S tls-full,tls-nope

timeout 20 bash "$COMPARE" -h > "$TMPD/help" 2>&1 || fail "compare.sh -h: exit $?"
# Every server and scenario compare.sh accepts (TLS ones too) is named
# in its help.
names=$(sed -n 's/^\(servers\|scenarios\)_\(all\|extra\|tls\)="\(.*\)"$/\3/p' "$COMPARE")
[ -n "$names" ] || fail "no server lists found in compare.sh"
for s in $names; do
    grep -qw -- "$s" "$TMPD/help" || fail "-h does not name $s"
done
echo "$names" | grep -qw tpserver-tls-1 || fail "no TLS server list found in compare.sh"
echo "$names" | grep -qw tls-idle10k || fail "no TLS scenario list found in compare.sh"
grep -q -- "-P T" "$TMPD/help" || fail "-h does not document -P"
echo "ok"
