#!/bin/sh
# SPDX-License-Identifier: MIT
# The verifier catches a server that flips one byte, drops a byte, answers
# on the wrong connection, closes, or sends garbage: each is counted under
# its kind, the run ends normally (no crash) and exits 1.
. "${top_srcdir:-.}/tests/bench_lib.sh"

check_fault() {   # check_fault FAULT EVERY KIND-EXPR
    start_srv "$1" --fault "$1" --every "$2"
    "$TPBENCH" -q -c 4 -d 1s -w 0 --timeout 300ms --json "127.0.0.1:$PORT" > "$TMPD/$1.json" 2> "$TMPD/$1.err"
    rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, expected 1"
    [ -s "$TMPD/$1.json" ] || fail "$1: no report"
    n=$(jget "$TMPD/$1.json" "$3")
    [ "$n" -gt 0 ] || fail "$1: $3 = $n"
    grep -q "tpbench:.*error\|no valid reply" "$TMPD/$1.err" || fail "$1: no message"
    echo "ok: $1 -> $3 = $n"
}
check_fault flip 3000 'd["errors_by_kind"]["corrupt"]'
check_fault drop 3000 'd["errors_by_kind"]["corrupt"] + d["errors_by_kind"]["timeout"]'
check_fault cross 50 'd["errors_by_kind"]["cross"]'
check_fault close 1000 'd["errors_by_kind"]["closed"]'
check_fault garbage 1 'd["errors_by_kind"]["corrupt"]'
