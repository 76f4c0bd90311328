#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/compare.sh's command line: every wrong flag value stops it at once
# with status 2 and a message naming the value (before it installs,
# builds or starts anything), and -h lists every server it accepts.
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

timeout 20 bash "$COMPARE" -h > "$TMPD/help" 2>&1 || fail "compare.sh -h: exit $?"
# Every server compare.sh accepts is named in its help.
names=$(sed -n 's/^servers_\(all\|extra\)="\(.*\)"$/\2/p' "$COMPARE")
[ -n "$names" ] || fail "no server lists found in compare.sh"
for s in $names; do
    grep -qw -- "$s" "$TMPD/help" || fail "-h does not name $s"
done
grep -q -- "-P T" "$TMPD/help" || fail "-h does not document -P"
echo "ok"
